package falco

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/jsonstr"
)

// BenchmarkParseFast reads every sample alert line through the fast path:
// as Falco prints them, and as encoding/json writes them (the real-host
// tests' and make bench's workload: it escapes <, > and & as \u003c...,
// so a quarter of the lines take the scanner's escaped-string path).
func BenchmarkParseFast(b *testing.B) {
	falco := sampleLines(b)
	var marshalled []string
	for _, l := range falco {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil {
			continue
		}
		out, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		marshalled = append(marshalled, string(out))
	}
	for _, bc := range []struct {
		name  string
		lines []string
	}{{"falco", falco}, {"encoding-json", marshalled}} {
		b.Run(bc.name, func(b *testing.B) {
			lines := bc.lines
			bytes := 0
			for _, l := range lines {
				bytes += len(l)
			}
			b.SetBytes(int64(bytes / len(lines)))
			b.ReportAllocs()
			t := time.Now()
			for i := 0; b.Loop(); i++ {
				parseFast(nil, lines[i%len(lines)], t)
			}
		})
	}
}

// BenchmarkEventJSON writes every sample alert's event as a CloudWatch
// request body carries it: plain and then escaped into the body (what a
// flush does for an alert bound for other kinds too), and quoted at once
// (for an alert bound for CloudWatch alone).
func BenchmarkEventJSON(b *testing.B) {
	alerts := sampleAlerts(b)
	buf := make([]byte, 0, 8192)
	body := make([]byte, 0, 8192)
	b.Run("plain-then-escaped", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf = alerts[i%len(alerts)].AppendJSON(buf[:0])
			body = jsonstr.AppendBytes(body[:0], buf)
		}
	})
	b.Run("quoted", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			body, _ = alerts[i%len(alerts)].AppendJSONQuoted(body[:0])
		}
	})
	b.Run("plain-only", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf = alerts[i%len(alerts)].AppendJSON(buf[:0])
		}
	})
}

// BenchmarkID computes every sample alert's ID.
func BenchmarkID(b *testing.B) {
	alerts := sampleAlerts(b)
	buf := make([]byte, 0, 64)
	for i := 0; b.Loop(); i++ {
		buf = alerts[i%len(alerts)].AppendID(buf[:0])
	}
}

// sampleAlerts recognises every sample alert line.
func sampleAlerts(b *testing.B) []*Alert {
	var alerts []*Alert
	for _, l := range sampleLines(b) {
		if a, ok := RecogniseLine("log", l, "log", time.Now()); ok {
			alerts = append(alerts, a)
		}
	}
	return alerts
}
