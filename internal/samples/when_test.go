package samples

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// CloudWatch Logs takes events from 14 days back to 2 hours ahead; the
// tests, the demo and the benchmark rely on every sample being inside it.
const (
	cloudWatchBack  = 14 * 24 * time.Hour
	cloudWatchAhead = 2 * time.Hour
)

var anyTime = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z`)

// TestTimesFollowNow loads every sample file as of several dates (today,
// a year ahead, years back, and at the edges of the day) and checks that
// every time in them lies inside CloudWatch's window and no later than
// Margin before now, and that an alert's evt.time moved with its time.
func TestTimesFollowNow(t *testing.T) {
	today := time.Now()
	for _, now := range []time.Time{
		today,
		today.AddDate(1, 0, 0),
		today.AddDate(7, 3, 11),
		Rendered.Add(Span + Margin),     // the moment the samples were made
		Rendered.Add(Span + Margin - 1), // just before
		Rendered.AddDate(-3, 0, 0),      // before them
		time.Date(2031, 2, 28, 23, 59, 59, 0, time.UTC),
		time.Date(2032, 3, 1, 0, 0, 0, 0, time.FixedZone("X", 11*3600)),
	} {
		n := 0
		for _, f := range []string{"alerts.jsonl", "noise.txt", "wrapped-firelens.jsonl", "wrapped-k8s.jsonl", "decoded-k8s.jsonl"} {
			for i, l := range LinesAt(f, now) {
				for _, s := range anyTime.FindAllString(l, -1) {
					ts, err := time.Parse(time.RFC3339Nano, s)
					if err != nil {
						t.Fatalf("%s:%d: %v", f, i+1, err)
					}
					n++
					if ts.Before(now.Add(-cloudWatchBack)) || ts.After(now.Add(-Margin)) {
						t.Errorf("as of %v, %s:%d holds %s: outside [now-14d, now-%v]", now, f, i+1, s, Margin)
					}
				}
			}
		}
		if n < 150 {
			t.Errorf("as of %v: only %d times found in the samples", now, n)
		}
		for i, l := range LinesAt("alerts.jsonl", now) {
			m := DecodeJSON(l)
			of, _ := m["output_fields"].(map[string]any)
			ns, ok := of["evt.time"].(int64)
			if !ok {
				continue
			}
			ts, _ := time.Parse(time.RFC3339Nano, m["time"].(string))
			if d := ts.Sub(time.Unix(0, ns)); d < -time.Second || d > time.Second {
				t.Errorf("as of %v, alerts.jsonl:%d: evt.time %d is %v from time %s", now, i+1, ns, d, m["time"])
			}
			if out, _ := m["output"].(string); len(out) > 8 && out[:8] != ts.UTC().Format("15:04:05") {
				t.Errorf("as of %v, alerts.jsonl:%d: output starts %q, time is %s", now, i+1, out[:8], m["time"])
			}
		}
	}
}

// TestNoiseDatesFollow checks Falco's own log lines move with the alerts.
func TestNoiseDatesFollow(t *testing.T) {
	now := time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)
	first := LinesAt("noise.txt", now)[0]
	want := Rendered.Add(Shift(now)).Format(time.ANSIC)
	if first[:len(want)] != want {
		t.Errorf("noise.txt:1 = %q, want it to start %q", first, want)
	}
	ts := regexp.MustCompile(`"ts":(\d+)`).FindStringSubmatch(LinesAt("noise.txt", now)[23])
	if ts == nil {
		t.Fatal(`noise.txt:24 has no "ts"`)
	}
	if sec, _ := strconv.ParseInt(ts[1], 10, 64); time.Unix(sec, 0).Before(now.Add(-cloudWatchBack)) {
		t.Errorf("noise.txt:24 ts %s not moved", ts[1])
	}
}
