package falcocw_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/internal/fakeaws"
)

// benchChunk lays out about 2 MiB of records of one of the shapes of
// BenchmarkStages ("tail", "firelens", ...), the samples repeated.
func benchChunk(b testing.TB, name string) ([]byte, int) {
	for _, sh := range shapes() {
		if sh.name != name {
			continue
		}
		var data []byte
		n := 0
		for ; len(data) < 2<<20; n++ {
			var err error
			if data, err = chunk.Append(data, chunk.FormatV2, time.Now(), sh.bodies[n%len(sh.bodies)]); err != nil {
				b.Fatal(err)
			}
		}
		return data, n
	}
	b.Fatalf("no shape %q", name)
	return nil, 0
}

// BenchmarkFlush measures whole flushes (decode, recognise, route, encode,
// deliver) of 2 MiB chunks to a loopback endpoint, and reports the cost
// per alert: time, bytes and allocations. The endpoint's own work runs in
// the same process and is included.
func BenchmarkFlush(b *testing.B) {
	for _, bc := range []struct {
		name, shape string
		props       []string
		journal     bool
	}{
		// The Performance issue's run: every alert to CloudWatch Logs.
		{"tail to CloudWatch", "tail", nil, false},
		// Every alert to CloudWatch, the MITRE-tagged ones to Firehose too.
		{"FireLens to CloudWatch and Firehose", "firelens", []string{"route.1", "tag=mitre_* -> firehose:falco-mitre continue"}, false},
		// The EKS configuration: the tail run with the delivery journal on.
		{"tail to CloudWatch, journal", "tail", nil, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := fakeaws.New()
			srv.Light = true
			defer srv.Close()
			props := append([]string{"log_group_name", "/falco/alerts", "log_stream_name", "{hostname}",
				"auto_create_group", "true", "falcocw_log_level", "warn"}, bc.props...)
			if bc.journal {
				props = append(props, "journal_path", b.TempDir())
			}
			in, _ := newInstance(b, srv, props...)
			if err := in.OpenJournal("bench"); err != nil {
				b.Fatal(err)
			}
			data, n := benchChunk(b, bc.shape)
			b.SetBytes(int64(len(data)))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if res := in.Flush(context.Background(), "falco", data); res.Status != falcocw.OK {
					b.Fatal(res.Summary())
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			alerts := float64(b.N * n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/alerts, "ns/alert")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/alerts, "B/alert")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/alerts, "allocs/alert")
		})
	}
}
