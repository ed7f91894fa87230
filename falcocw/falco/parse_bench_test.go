package falco

import (
	"testing"
	"time"
)

// BenchmarkParseFast reads every sample alert line through the fast path.
func BenchmarkParseFast(b *testing.B) {
	lines := sampleLines(b)
	bytes := 0
	for _, l := range lines {
		bytes += len(l)
	}
	b.SetBytes(int64(bytes / len(lines)))
	b.ReportAllocs()
	t := time.Now()
	for i := 0; b.Loop(); i++ {
		parseFast(lines[i%len(lines)], t)
	}
}
