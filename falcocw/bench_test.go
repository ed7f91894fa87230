package falcocw_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

// benchChunk lays out about 2 MiB of records of one shape: "tail", what
// the tail input makes of a line of Falco's output ({"log": line}), or
// "firelens", the line with ECS metadata beside it.
func benchChunk(b *testing.B, shape string) ([]byte, int) {
	lines := samples.Lines("alerts.jsonl")
	var bodies []map[string]any
	size := 0
	for i := 0; size < 2<<20; i++ {
		body := map[string]any{"log": lines[i%len(lines)]}
		if shape == "firelens" {
			body = map[string]any{"log": lines[i%len(lines)], "source": "stdout", "container_name": "falco",
				"ecs_cluster": "prod", "ecs_task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef"}
		}
		bodies = append(bodies, body)
		size += len(lines[i%len(lines)]) + 150
	}
	return samples.Chunk(chunk.FormatV2, time.Now(), bodies...), len(bodies)
}

// BenchmarkFlush measures whole flushes (decode, recognise, route, encode,
// deliver) of 2 MiB chunks to a loopback endpoint, and reports the cost
// per alert: time, bytes and allocations. The endpoint's own work runs in
// the same process and is included.
func BenchmarkFlush(b *testing.B) {
	for _, bc := range []struct {
		name, shape string
		props       []string
	}{
		// The Performance issue's run: every alert to CloudWatch Logs.
		{"tail to CloudWatch", "tail", nil},
		// Every alert to CloudWatch, the MITRE-tagged ones to Firehose too.
		{"FireLens to CloudWatch and Firehose", "firelens", []string{"route.1", "tag=mitre_* -> firehose:falco-mitre continue"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := fakeaws.New()
			srv.Light = true
			defer srv.Close()
			in, _ := newInstance(b, srv, append([]string{"log_group_name", "/falco/alerts", "log_stream_name", "{hostname}",
				"auto_create_group", "true", "falcocw_log_level", "warn"}, bc.props...)...)
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
