package falco_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/internal/samples"
)

var recordTime = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func TestParsePriority(t *testing.T) {
	tests := []struct {
		in   string
		want falco.Priority
		ok   bool
	}{
		{"Emergency", falco.PriorityEmergency, true},
		{"alert", falco.PriorityAlert, true},
		{"CRITICAL", falco.PriorityCritical, true},
		{"Error", falco.PriorityError, true},
		{" warning ", falco.PriorityWarning, true},
		{"warn", falco.PriorityWarning, true},
		{"Notice", falco.PriorityNotice, true},
		{"informational", falco.PriorityInformational, true},
		{"info", falco.PriorityInformational, true},
		{"Debug", falco.PriorityDebug, true},
		{"", 0, false},
		{"severe", 0, false},
	}
	for _, tt := range tests {
		got, ok := falco.ParsePriority(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParsePriority(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if !(falco.PriorityEmergency > falco.PriorityAlert && falco.PriorityAlert > falco.PriorityCritical &&
		falco.PriorityCritical > falco.PriorityError && falco.PriorityError > falco.PriorityWarning &&
		falco.PriorityWarning > falco.PriorityNotice && falco.PriorityNotice > falco.PriorityInformational &&
		falco.PriorityInformational > falco.PriorityDebug) {
		t.Error("priorities are not in Falco's order")
	}
}

// TestRecogniseAlerts checks every alert line, delivered as FireLens does
// ({"log": line}) and as a parser does (the record is the alert).
func TestRecogniseAlerts(t *testing.T) {
	for i, line := range samples.Lines("alerts.jsonl") {
		want := samples.DecodeJSON(line)
		for _, body := range []map[string]any{{"log": line, "source": "stdout"}, samples.DecodeJSON(line)} {
			a, ok := falco.Recognise(body, "log", recordTime)
			if !ok {
				t.Fatalf("alerts.jsonl:%d not recognised", i+1)
			}
			if a.Rule != want["rule"] {
				t.Errorf("alerts.jsonl:%d rule = %q, want %q", i+1, a.Rule, want["rule"])
			}
			if a.Priority.String() != want["priority"] {
				t.Errorf("alerts.jsonl:%d priority = %v, want %v", i+1, a.Priority, want["priority"])
			}
			wt, _ := time.Parse(time.RFC3339Nano, want["time"].(string))
			if !a.Time.Equal(wt) || a.TimeFromRecord {
				t.Errorf("alerts.jsonl:%d time = %v, want %v", i+1, a.Time, wt)
			}
			if src, _ := want["source"].(string); a.Source != src {
				t.Errorf("alerts.jsonl:%d source = %q, want %q (FireLens's own source key must not leak in)", i+1, a.Source, src)
			}
			if h, _ := want["hostname"].(string); a.Hostname != h {
				t.Errorf("alerts.jsonl:%d hostname = %q, want %q", i+1, a.Hostname, h)
			}
			if o, _ := want["output"].(string); a.Output != o {
				t.Errorf("alerts.jsonl:%d output differs", i+1)
			}
			if tags, ok := want["tags"].([]any); ok && len(tags) != len(a.Tags) {
				t.Errorf("alerts.jsonl:%d %d tags, want %d", i+1, len(a.Tags), len(tags))
			}
			if of, ok := want["output_fields"].(map[string]any); ok && len(of) != len(a.Fields()) {
				t.Errorf("alerts.jsonl:%d %d output_fields, want %d", i+1, len(a.Fields()), len(of))
			}
		}
	}
}

func TestNoiseIsNotFalco(t *testing.T) {
	for i, line := range samples.Lines("noise.txt") {
		if a, ok := falco.Recognise(map[string]any{"log": line}, "log", recordTime); ok {
			t.Errorf("noise.txt:%d %q recognised as %v", i+1, line, a)
		}
	}
	for _, body := range []map[string]any{
		{},
		{"log": 42},
		{"log": "{not json}"},
		{"rule": "x", "priority": "Warning"}, // nothing Falco always prints with them
		{"rule": "x", "priority": "Severe", "output": "o"},            // unknown priority
		{"rule": "", "priority": "Warning", "output": "o"},            // no rule name
		{"message": `{"rule":"x","priority":"Warning","output":"o"}`}, // other key than log_key
	} {
		if a, ok := falco.Recognise(body, "log", recordTime); ok {
			t.Errorf("%v recognised as %v", body, a)
		}
	}
}

func TestRecogniseWrapped(t *testing.T) {
	for i, line := range samples.Lines("wrapped-firelens.jsonl") {
		body := samples.DecodeJSON(line)
		a, ok := falco.Recognise(body, "log", recordTime)
		if !ok {
			t.Fatalf("wrapped-firelens.jsonl:%d not recognised", i+1)
		}
		for _, k := range falco.ECSKeys {
			if v, ok := body[k]; ok && a.ECS[k] != v {
				t.Errorf("wrapped-firelens.jsonl:%d %s = %q, want %q", i+1, k, a.ECS[k], v)
			}
		}
		if a.Source == "stdout" {
			t.Errorf("wrapped-firelens.jsonl:%d took FireLens's source for Falco's", i+1)
		}
		id, _ := a.Field("ecs_task_id")
		if !strings.HasSuffix(body["ecs_task_arn"].(string), "/"+id) || id == "" {
			t.Errorf("ecs_task_id = %q from %q", id, body["ecs_task_arn"])
		}
	}
	for _, f := range []string{"wrapped-k8s.jsonl", "decoded-k8s.jsonl"} {
		for i, line := range samples.Lines(f) {
			a, ok := falco.Recognise(samples.DecodeJSON(line), "log", recordTime)
			if !ok {
				t.Fatalf("%s:%d not recognised", f, i+1)
			}
			if ns, _ := a.Field("kubernetes.namespace_name"); ns != "falco" {
				t.Errorf("%s:%d kubernetes.namespace_name = %q", f, i+1, ns)
			}
			if _, ok := a.Extra["stream"]; ok {
				t.Errorf("%s:%d kept the container runtime's stream key as a Falco field", f, i+1)
			}
		}
	}
}

func TestLogKey(t *testing.T) {
	line := samples.Lines("alerts.jsonl")[0]
	if _, ok := falco.Recognise(map[string]any{"message": line}, "message", recordTime); !ok {
		t.Error("alert in a custom log_key not recognised")
	}
	// A Decode_Field_As parser may leave the decoded map in the field.
	if _, ok := falco.Recognise(map[string]any{"log": samples.DecodeJSON(line)}, "log", recordTime); !ok {
		t.Error("alert as a map in log not recognised")
	}
}

func TestTimeFallback(t *testing.T) {
	for _, tm := range []any{nil, "yesterday", 12345} {
		body := map[string]any{"rule": "r", "priority": "Warning", "output": "o"}
		if tm != nil {
			body["time"] = tm
		}
		a, ok := falco.Recognise(body, "log", recordTime)
		if !ok || !a.Time.Equal(recordTime) || !a.TimeFromRecord {
			t.Errorf("time %v: got %v (from record %v), want the record's time", tm, a.Time, a.TimeFromRecord)
		}
	}
}

// TestJSONRoundTrip: the delivered event carries every field of the alert,
// numbers with all their digits.
func TestJSONRoundTrip(t *testing.T) {
	for i, line := range samples.Lines("alerts.jsonl") {
		a, _ := falco.Recognise(map[string]any{"log": line}, "log", recordTime)
		out := a.AppendJSON(nil)
		var got, want map[string]any
		d := json.NewDecoder(strings.NewReader(string(out)))
		d.UseNumber()
		if err := d.Decode(&got); err != nil {
			t.Fatalf("alerts.jsonl:%d: invalid JSON %v: %s", i+1, err, out)
		}
		d = json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		_ = d.Decode(&want)
		gt, _ := time.Parse(time.RFC3339Nano, got["time"].(string))
		wt, _ := time.Parse(time.RFC3339Nano, want["time"].(string))
		if !gt.Equal(wt) {
			t.Errorf("alerts.jsonl:%d time %v, want %v", i+1, gt, wt)
		}
		delete(got, "time")
		delete(want, "time")
		delete(got, falco.ContextKey) // enrichment: TestContext
		if id, _ := got[falco.IDKey].(string); id != a.ID() {
			t.Errorf("alerts.jsonl:%d: id %q, want the alert's ID %q", i+1, id, a.ID())
		}
		delete(got, falco.IDKey) // TestID
		if !reflect.DeepEqual(got, want) {
			t.Errorf("alerts.jsonl:%d round trip differs:\n got %s\nwant %s", i+1, out, line)
		}
	}
}

func TestJSONRepairs(t *testing.T) {
	a := &falco.Alert{Rule: "bad\xffbyte", Priority: falco.PriorityError, Output: "nul\x00 and \u2028",
		OutputFields: map[string]any{"nan": math.NaN(), "inf": math.Inf(1), "deep": nest(200)}}
	out := a.AppendJSON(nil)
	if !utf8.Valid(out) || !json.Valid(out) {
		t.Fatalf("not valid UTF-8 JSON: %q", out)
	}
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	if m["rule"] != "bad\ufffdbyte" {
		t.Errorf("rule = %q, want the bad byte as U+FFFD", m["rule"])
	}
	if m["output_fields"].(map[string]any)["nan"] != "NaN" {
		t.Errorf("NaN not written as a string: %s", out)
	}
}

func nest(n int) any {
	if n == 0 {
		return "leaf"
	}
	return map[string]any{"x": nest(n - 1)}
}

func TestJSONTruncation(t *testing.T) {
	a := &falco.Alert{Time: recordTime, Rule: "Big", Priority: falco.PriorityCritical, Source: "syscall",
		Output: strings.Repeat("é", 200000), OutputFields: map[string]any{"proc.cmdline": strings.Repeat("x", 200000)}}
	for _, limit := range []int{262118, 10000, 300} {
		out, cut := a.JSON(limit)
		if !cut || len(out) > limit || !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("limit %d: cut=%v len=%d valid=%v", limit, cut, len(out), json.Valid(out))
		}
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		if m["rule"] != "Big" || m["priority"] != "Critical" || m[falco.TruncatedKey] != true {
			t.Errorf("limit %d: truncated event lost rule, priority or marker: %.200s", limit, out)
		}
	}
	if _, cut := a.JSON(0); cut {
		t.Error("limit 0 must not cut")
	}
}

func TestValidNumbers(t *testing.T) {
	// The JSON decoder is lenient; numbers it lets through that JSON does
	// not allow are delivered as strings.
	a, ok := falco.Recognise(map[string]any{"log": `{"rule":"r","priority":"Notice","output":"o","output_fields":{"a":00,"b":-1.5e3,"c":0}}`}, "log", recordTime)
	if !ok {
		t.Skip("the decoder refused the line: nothing to repair")
	}
	out := a.AppendJSON(nil)
	if !json.Valid(out) || !strings.Contains(string(out), `"b":-1.5e3`) || !strings.Contains(string(out), `"c":0`) {
		t.Errorf("%s", out)
	}
}

// TestContext: every event carries the enrichment object in its stable
// shape, from FireLens, from the Kubernetes filter, and from Falco's own
// fields.
func TestContext(t *testing.T) {
	ctxOf := func(a *falco.Alert) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(a.AppendJSON(nil), &m); err != nil {
			t.Fatal(err)
		}
		c, _ := m[falco.ContextKey].(map[string]any)
		return c
	}
	a, _ := falco.Recognise(samples.DecodeJSON(samples.Lines("wrapped-firelens.jsonl")[0]), "log", recordTime)
	a.Cluster = "prod-cluster"
	c := ctxOf(a)
	s := c["sensor"].(map[string]any)
	if c["cluster"] != "prod-cluster" || c["platform"] != "ecs" || s["task_id"] != "7d26ff92a525c8151bda7ad143b1bddb" ||
		s["task_definition"] != "falco:7" || s["container"] != "falco" || s["instance_id"] != "i-76f2a6038f4ec72b1" {
		t.Errorf("ECS context %v", c)
	}
	a, _ = falco.Recognise(samples.DecodeJSON(samples.Lines("wrapped-k8s.jsonl")[0]), "log", recordTime)
	c = ctxOf(a)
	s = c["sensor"].(map[string]any)
	if c["platform"] != "kubernetes" || s["pod"] != "falco-8x7kq" || s["namespace"] != "falco" || s["node"] != "ip-10-0-1-23.eu-west-1.compute.internal" {
		t.Errorf("Kubernetes context %v", c)
	}
	a, _ = falco.Recognise(map[string]any{"log": samples.Lines("alerts.jsonl")[0]}, "log", recordTime)
	w := ctxOf(a)["workload"].(map[string]any)
	if w["namespace"] != "payments" || w["pod"] != "web-7c9d8f5b4-x2kq9" || w["container_id"] != "1d871f7296ab" {
		t.Errorf("workload %v", w)
	}
	if c := ctxOf(&falco.Alert{Rule: "r"}); c != nil {
		t.Errorf("empty context written: %v", c)
	}
}

// TestAppendTimeMatchesFormat compares AppendTime with time.Format on
// times across the years it writes itself and beyond them, in zones other
// than UTC, at every digit of the nanoseconds.
func TestAppendTimeMatchesFormat(t *testing.T) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	times := []time.Time{time.Time{}, time.Unix(0, 0), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 22, 10, 0, 0, 94, zone), time.Date(2026, 1, 1, 0, 0, 0, 1, time.Local)}
	for i, ns := 0, 1; i < 10; i, ns = i+1, ns*10 {
		times = append(times, time.Date(2026, time.Month(i+1), i+1, i, 2*i, 3*i, ns-1, time.UTC))
	}
	for s := int64(-1e11); s < 3e11; s += 7777777 {
		times = append(times, time.Unix(s, s%1e9))
	}
	for _, tm := range times {
		if got, want := string(falco.AppendTime([]byte("x"), tm)), "x"+tm.UTC().Format(falco.TimeFormat); got != want {
			t.Fatalf("AppendTime(%v) = %q, want %q", tm, got, want)
		}
	}
}

// TestLooksFragmentLine: the end of an alert read from inside its line is
// told apart from other lines that end a JSON object.
func TestLooksFragmentLine(t *testing.T) {
	line := samples.Lines("alerts.jsonl")[3]
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{line[len(line)/2:], true},
		{line[len(line)-200:], true},
		{line, false},       // a whole alert is not a fragment
		{line[:100], false}, // the start is "cut", not a fragment
		{`time="2026" level=info msg="started"}`, false},
		{`{"level":"info","msg":"x"}`, false},
		{"", false},
	} {
		if got := falco.LooksFragmentLine(tc.s); got != tc.want {
			t.Errorf("LooksFragmentLine(%.60q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
