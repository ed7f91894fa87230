package falco

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var diffTime = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// general is the general path, the reference the fast path must match.
func general(line string) (*Alert, bool) {
	m := decodeJSONObject(line)
	if m == nil || !looksLikeAlert(m) {
		return nil, false
	}
	a := fromMap(&Alert{}, m, diffTime)
	a.attachMetadata(m)
	return a, true
}

// sameEvent compares what the two paths deliver: the event JSON, decoded
// (key order may differ: the fast path keeps Falco's), and the values
// routing and templates read.
func sameEvent(t *testing.T, line string) {
	t.Helper()
	fast, fok, handled := parseFast(nil, line, diffTime)
	if !handled {
		return // the general path decides; nothing to compare
	}
	ref, rok := general(line)
	if fok != rok {
		t.Fatalf("fast path says alert=%v, general path %v, for %q", fok, rok, line)
	}
	if !fok {
		return
	}
	// Numbers decode as json.Number: JSON allows 1e700, float64 does not.
	decode := func(b []byte) (any, error) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		err := d.Decode(&v)
		return v, err
	}
	fj, rj := fast.AppendJSON(nil), ref.AppendJSON(nil)
	got, err := decode(fj)
	if err != nil || !json.Valid(fj) {
		t.Fatalf("fast path wrote invalid JSON %q: %v", fj, err)
	}
	want, _ := decode(rj)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events differ for %q:\nfast    %s\ngeneral %s", line, fj, rj)
	}
	for _, f := range []string{"rule", "priority", "source", "hostname", "uuid", "output_fields.proc.cmdline", "output_fields.container.id", "output_fields.evt.time"} {
		fv, fo := fast.Field(f)
		rv, ro := ref.Field(f)
		if fv != rv || fo != ro {
			t.Fatalf("Field(%s): fast %q %v, general %q %v, for %q", f, fv, fo, rv, ro, line)
		}
	}
	if !reflect.DeepEqual(fast.Tags, ref.Tags) || !fast.Time.Equal(ref.Time) || fast.TimeFromRecord != ref.TimeFromRecord {
		t.Fatalf("tags or time differ for %q", line)
	}
	sameWithoutClean(t, fast, line)
}

// sameWithoutClean: the strings the fast path marked clean are written
// exactly as the escaping writers write them, and the time it kept as text
// as AppendTime writes it, byte for byte, plain and quoted, whole and cut
// to a limit.
func sameWithoutClean(t *testing.T, a *Alert, line string) {
	t.Helper()
	b := *a
	b.clean, b.timeText = 0, ""
	if got, want := a.AppendJSON(nil), b.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("clean strings (%b) written otherwise than escaped, for %q:\n got %s\nwant %s", a.clean, line, got, want)
	}
	got, gn := a.AppendJSONQuoted(nil)
	want, wn := b.AppendJSONQuoted(nil)
	if !bytes.Equal(got, want) || gn != wn {
		t.Fatalf("clean strings (%b) quoted otherwise than escaped, for %q:\n got %s (%d)\nwant %s (%d)", a.clean, line, got, gn, want, wn)
	}
	for _, limit := range []int{300, 120} {
		g, _ := a.JSON(limit)
		w, _ := b.JSON(limit)
		if !bytes.Equal(g, w) {
			t.Fatalf("clean strings cut to %d otherwise than escaped, for %q:\n got %s\nwant %s", limit, line, g, w)
		}
	}
}

// TestCleanStrings: on an ASCII line whose strings hold nothing to
// escape (most of Falco's), the fast path marks every string the event
// copies as clean, so the writer copies them without scanning; a string
// that holds, unescaped, a byte JSON escapes, or any on a line with
// non-ASCII text, is not marked.
func TestCleanStrings(t *testing.T) {
	marked := 0
	for _, l := range sampleLines(t) {
		a, ok, _ := parseFast(nil, l, diffTime)
		if !ok || strings.Contains(l, `\`) || !isASCII(l) {
			continue
		}
		var want cleanBits // every string present: an absent one may be marked or not
		for _, f := range []struct {
			bit cleanBits
			v   string
		}{{cleanRule, a.Rule}, {cleanOutput, a.Output}, {cleanSource, a.Source}, {cleanHostname, a.Hostname},
			{cleanUUID, a.UUID}, {cleanTags, strings.Join(a.Tags, "")}} {
			if f.v != "" {
				want |= f.bit
			}
		}
		for i, v := range a.workload {
			if v != "" {
				want |= cleanWorkload0 << i
			}
		}
		if a.clean&want != want {
			t.Errorf("clean = %b, want at least %b, for %s", a.clean, want, l)
		}
		marked++
	}
	if marked < 100 {
		t.Errorf("only %d sample alerts had their strings marked clean", marked)
	}
	for _, c := range []struct {
		line string
		want cleanBits
	}{
		{`{"rule":"r\"q","priority":"Error","output":"o","hostname":"h"}`, cleanOutput | cleanHostname},
		// Unescaped, these need no escaping: clean all the same.
		{`{"rule":"r","priority":"Error","output":"a\u003cb","tags":["x","y\/z"],"source":"s"}`, cleanRule | cleanOutput | cleanTags | cleanSource},
		// Unescaped, these hold a quote, a backslash, a newline, non-ASCII.
		{`{"rule":"a\u0022b","priority":"Error","output":"a\\b","hostname":"a\nb","source":"\u00e9","uuid":"u"}`, cleanUUID},
		{`{"rule":"r","priority":"Error","output":"é","hostname":"h"}`, 0},
		{`{"rule":"r","priority":"Error","output_fields":{"k8s.ns.name":"n\u0073","k8s.pod.name":"p\""}}`, cleanRule | cleanWorkload0},
	} {
		a, ok, _ := parseFast(nil, c.line, diffTime)
		if !ok {
			t.Fatalf("not recognised: %s", c.line)
		}
		if a.clean != c.want {
			t.Errorf("clean = %b, want %b, for %s", a.clean, c.want, c.line)
		}
		sameWithoutClean(t, a, c.line)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func sampleLines(t testing.TB) []string {
	var lines []string
	for _, f := range []string{"alerts.jsonl", "noise.txt"} {
		b, err := os.ReadFile("../../internal/samples/data/" + f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	return lines
}

// TestFastPathMatchesGeneralPath: on every sample, and on lines built to
// hit each case the fast path treats specially, both paths deliver the
// same event, and the fast path handles the common lines itself.
func TestFastPathMatchesGeneralPath(t *testing.T) {
	handled := 0
	lines := sampleLines(t)
	for _, l := range lines {
		sameEvent(t, l)
		if _, ok, h := parseFast(nil, l, diffTime); h && ok {
			handled++
		}
	}
	if handled < 150 {
		t.Errorf("the fast path handled %d sample alerts of 151", handled)
	}
	for _, l := range []string{
		`{"rule":"r","priority":"warning","output":"o","output_fields":{"a":"\u00e9\ud83d\ude00","b":1.5e3,"c":[1,{"d":null}],"k8s.ns.name":"ns"}}`,
		`{"rule":"r","priority":"Error","time":"bad","tags":[],"uuid":"u","message":"m\n"}`,
		`{"rule":"r","priority":"Error","output_fields":{"a":00}}`,
		`{"rule":"r","priority":"Error","output_fields":{"a":1,"a":2}}`,
		`{"rule":"r","rule":"s","priority":"Error","output":"o"}`,
		`{"rule":"r","priority":"Error","output":"o","extra":{"x":1}}`,
		`{"rule":"r","priority":"Error","output":"o","tags":["a",1]}`,
		`{"rule":" ","priority":"Error","output":"o"}`,
		`{"rule":"r","priority":"Severe","output":"o"}`,
		`{"rule":"r","priority":"Error"}`,
		`{"rule":"r","priority":"Error","output":"o"} trailing`,
		`{"r\u0075le":"r","priority":"Error","output":"o"}`,
		`{"rule":"r","priority":"Error","output_fields":{"container.id":5}}`,
		`{"rule":"r","priority":"Error","output":"\ud800"}`,
		"{\"rule\":\"r\",\"priority\":\"Error\",\"output\":\"a\x01b\"}",
		`  {"rule":"r","priority":"Error","output":"o"}` + "\n",
	} {
		sameEvent(t, l)
	}
}

// FuzzFastPath: on any line the fast path either gives way to the general
// path or delivers the same event.
func FuzzFastPath(f *testing.F) {
	for _, l := range sampleLines(f) {
		f.Add(l)
	}
	f.Add(`{"rule":"r","priority":"Error","output_fields":{"a":"\u00e9","b":[{"c":-0.5e-3}]}}`)
	f.Fuzz(func(t *testing.T, line string) {
		sameEvent(t, line)
	})
}

func TestWorkloadIndexMatchesWorkloadFields(t *testing.T) {
	for i, f := range workloadFields {
		if got := workloadIndex(f[1]); got != i {
			t.Errorf("workloadIndex(%q) = %d, want %d", f[1], got, i)
		}
	}
	if got := workloadIndex("proc.name"); got != -1 {
		t.Errorf("workloadIndex(proc.name) = %d, want -1", got)
	}
}

// TestTimeText: the fast path keeps Falco's "time" as text only when
// AppendTime would write those very bytes: on times across the years,
// and on each of them with one byte changed (days that do not exist,
// hours past 23, a letter for a digit, another zone), the text kept is
// what AppendTime writes of the parsed time, and Falco's form is kept.
func TestTimeText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kept := 0
	for i := 0; i < 20000; i++ {
		tm := time.Unix(rng.Int64N(1<<37)-1<<35, rng.Int64N(1e9)).UTC()
		ts := tm.Format(TimeFormat)
		if i%2 == 1 {
			b := []byte(ts)
			b[rng.IntN(len(b))] = "0123456789:-.TZz+ "[rng.IntN(18)]
			ts = string(b)
		}
		line := `{"rule":"r","priority":"Error","output":"o","time":"` + ts + `"}`
		a, ok, handled := parseFast(nil, line, diffTime)
		if !ok || !handled {
			t.Fatalf("not recognised: %s", line)
		}
		if want, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ts)); err != nil && !a.TimeFromRecord ||
			err == nil && (a.TimeFromRecord || a.Time != want.UTC()) {
			t.Fatalf("time %q read as %v (from the record: %v); time.Parse: %v, %v", ts, a.Time, a.TimeFromRecord, want, err)
		}
		if a.timeText == "" {
			continue
		}
		kept++
		if a.timeText != ts || string(AppendTime(nil, a.Time)) != ts {
			t.Fatalf("time %q kept as %q, AppendTime writes %q", ts, a.timeText, AppendTime(nil, a.Time))
		}
	}
	if kept < 10000 {
		t.Errorf("only %d of 20,000 times kept as text", kept)
	}
	// Dates at the edges of months, years and the calendar, read as
	// time.Parse reads them (or refused as it refuses them).
	for _, ts := range []string{"2024-02-29T00:00:00.000000000Z", "2023-02-29T00:00:00.000000000Z", "2000-02-29T12:00:00.000000000Z",
		"1900-02-29T12:00:00.000000000Z", "0000-01-01T00:00:00.000000000Z", "0000-02-29T00:00:00.000000000Z", "0000-03-01T00:00:00.000000000Z",
		"9999-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00.000000000Z", "2026-04-31T00:00:00.000000000Z",
		"2026-00-10T00:00:00.000000000Z", "2026-13-10T00:00:00.000000000Z", "2026-01-00T00:00:00.000000000Z", "2026-01-32T00:00:00.000000000Z",
		"2026-12-31T24:00:00.000000000Z", "2026-12-31T23:60:00.000000000Z", "2026-12-31T23:59:60.000000000Z", "2026-06-30T23:59:59.123456789Z",
		"0400-02-29T01:02:03.000000001Z", "0100-02-29T01:02:03.000000001Z", "1600-03-01T00:00:00.000000000Z"} {
		a, ok, _ := parseFast(nil, `{"rule":"r","priority":"Error","time":"`+ts+`"}`, diffTime)
		want, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || (err == nil) == a.TimeFromRecord || err == nil && a.Time != want.UTC() {
			t.Errorf("time %q read as %v (from the record: %v); time.Parse: %v, %v", ts, a.Time, a.TimeFromRecord, want, err)
		}
	}
	// Every byte value at every position, against the layout read a byte
	// at a time.
	const layout = "0000-00-00T00:00:00.000000000Z"
	for i := 0; i < len(layout); i++ {
		for c := 0; c < 256; c++ {
			p := []byte("2026-11-22T09:15:24.161711835Z")
			p[i] = byte(c)
			want := true
			for j, l := range []byte(layout) {
				if l == '0' && (p[j] < '0' || p[j] > '9') || l != '0' && p[j] != l {
					want = false
				}
			}
			if got := isTimeFormat(string(p)); got != want {
				t.Fatalf("isTimeFormat(%q) = %v, want %v", p, got, want)
			}
		}
	}
	for _, l := range sampleLines(t) {
		if a, ok, _ := parseFast(nil, l, diffTime); ok && !a.TimeFromRecord && a.timeText == "" {
			t.Errorf("Falco's time not kept as text in %s", l)
		}
	}
}

// TestEscapedStringsAllocateNothing: a string with escapes (the \u003c
// that encoding/json writes for '<' in an output, a quoted word in a
// command line) is unescaped into the flush's arena, not onto the heap.
func TestEscapedStringsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector empties sync.Pool at random")
	}
	line := `{"rule":"r","priority":"Error","output":"a \u003cb\u003e \"quoted\" ` + strings.Repeat("x", 300) + `","hostname":"h\/1"}`
	var s Alerts
	if a, ok := s.RecogniseLine("log", line, "log", diffTime); !ok || a.Output != `a <b> "quoted" `+strings.Repeat("x", 300) || a.Hostname != "h/1" {
		t.Fatalf("not read as it should be: %+v", a)
	}
	s.Reset()
	allocs := testing.AllocsPerRun(50, func() {
		for range 100 {
			s.RecogniseLine("log", line, "log", diffTime)
		}
		s.Reset()
	})
	if allocs >= 1 { // a collection may empty the slabs' pool once
		t.Errorf("%.1f allocations for 100 lines with escaped strings; want none", allocs)
	}
}
