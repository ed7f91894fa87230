package falcocw_test

import (
	"context"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

// benchChunk lays out about 2 MiB of FireLens-style records.
func benchChunk(b *testing.B) ([]byte, int) {
	lines := samples.Lines("alerts.jsonl")
	var bodies []map[string]any
	size := 0
	for i := 0; size < 2<<20; i++ {
		body := map[string]any{"log": lines[i%len(lines)], "source": "stdout", "container_name": "falco",
			"ecs_cluster": "prod", "ecs_task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef"}
		bodies = append(bodies, body)
		size += len(lines[i%len(lines)]) + 150
	}
	return samples.Chunk(chunk.FormatV2, time.Now(), bodies...), len(bodies)
}

// BenchmarkFlush measures a whole flush (decode, recognise, route, encode,
// deliver) of a 2 MiB chunk to a loopback endpoint; the endpoint's own
// work runs in the same process and is included.
func BenchmarkFlush(b *testing.B) {
	srv := fakeaws.New()
	srv.Light = true
	defer srv.Close()
	in, _ := newInstance(b, srv, "log_group_name", "/falco/alerts", "log_stream_name", "{hostname}", "auto_create_group", "true",
		"route.1", "tag=mitre_* -> firehose:falco-mitre continue", "falcocw_log_level", "warn")
	data, n := benchChunk(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := in.Flush(context.Background(), "falco", data); res.Status != falcocw.OK {
			b.Fatal(res.Summary())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/alert")
}
