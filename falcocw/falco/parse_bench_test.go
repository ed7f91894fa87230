package falco

import (
	"encoding/json"
	"testing"
	"time"
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
