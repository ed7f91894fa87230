package falcocw_test

import (
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/internal/samples"
)

// shape is one of the ways alerts reach the plugin, as records.
type shape struct {
	name   string
	bodies []map[string]any
}

// shapes: what the tail input makes of Falco's lines (the Performance
// issue's run), FireLens-wrapped, Kubernetes-wrapped, already decoded.
func shapes() []shape {
	lines := samples.Lines("alerts.jsonl")
	k8s := samples.DecodeJSON(samples.Lines("wrapped-k8s.jsonl")[0])["kubernetes"]
	out := []shape{{name: "tail"}, {name: "firelens"}, {name: "kubernetes"}, {name: "decoded"}}
	for _, l := range lines {
		out[0].bodies = append(out[0].bodies, map[string]any{"log": l})
		out[1].bodies = append(out[1].bodies, map[string]any{"log": l, "source": "stdout", "container_name": "falco",
			"ecs_cluster": "prod", "ecs_task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/7d26ff92a525c8151bda7ad143b1bddb"})
		out[2].bodies = append(out[2].bodies, map[string]any{"log": l + "\n", "stream": "stdout", "kubernetes": k8s})
		out[3].bodies = append(out[3].bodies, samples.DecodeJSON(l))
	}
	return out
}

// recogniseRecord recognises a record as Flush does, in either form the
// decoder gives it.
func recogniseRecord(r chunk.Record) (*falco.Alert, bool) {
	if r.Body == nil {
		return falco.RecogniseLine(r.Key, r.Line, "log", r.Time)
	}
	return falco.Recognise(r.Body, "log", r.Time)
}

func perAlert(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/alert")
}

// BenchmarkStages measures each stage of the hot path on each shape of
// record: chunk decoding, Falco recognition, routing, and writing the
// event JSON. Allocation figures are per chunk of 151 alerts.
func BenchmarkStages(b *testing.B) {
	cfg, err := config.Parse(func(k string) string {
		return map[string]string{"log_group_name": "/falco/alerts", "log_stream_name": "{hostname}",
			"route.1": "priority>=Critical -> cloudwatch:/falco/critical:{hostname} continue",
			"route.2": "tag=mitre_* -> firehose:falco-mitre"}[k]
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, sh := range shapes() {
		name := sh.name
		data := samples.Chunk(chunk.FormatV2, time.Now(), sh.bodies...)
		recs := chunk.Decode(data).Records
		alerts := make([]*falco.Alert, len(recs))
		for i, r := range recs {
			alerts[i], _ = recogniseRecord(r)
		}
		n := len(recs)
		b.Run(name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				chunk.Decode(data)
			}
			perAlert(b, n)
		})
		b.Run(name+"/recognise", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, r := range recs {
					recogniseRecord(r)
				}
			}
			perAlert(b, n)
		})
		b.Run(name+"/route", func(b *testing.B) {
			b.ReportAllocs()
			var m []route.Match
			for i := 0; i < b.N; i++ {
				for _, a := range alerts {
					m, _ = cfg.Routes.Route(a, route.Values{Alert: a, Tag: "falco"}, m[:0])
				}
			}
			perAlert(b, n)
		})
		b.Run(name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, a := range alerts {
					a.AppendJSON(nil)
				}
			}
			perAlert(b, n)
		})
	}
}
