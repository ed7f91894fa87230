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

// shapes are the three ways alerts reach the plugin, as records.
func shapes() map[string][]map[string]any {
	lines := samples.Lines("alerts.jsonl")
	k8s := samples.DecodeJSON(samples.Lines("wrapped-k8s.jsonl")[0])["kubernetes"]
	out := map[string][]map[string]any{}
	for _, l := range lines {
		out["firelens"] = append(out["firelens"], map[string]any{"log": l, "source": "stdout", "container_name": "falco",
			"ecs_cluster": "prod", "ecs_task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/7d26ff92a525c8151bda7ad143b1bddb"})
		out["kubernetes"] = append(out["kubernetes"], map[string]any{"log": l + "\n", "stream": "stdout", "kubernetes": k8s})
		out["decoded"] = append(out["decoded"], samples.DecodeJSON(l))
	}
	return out
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
	for name, bodies := range shapes() {
		data := samples.Chunk(chunk.FormatV2, time.Now(), bodies...)
		recs := chunk.Decode(data).Records
		alerts := make([]*falco.Alert, len(recs))
		for i, r := range recs {
			alerts[i], _ = falco.Recognise(r.Body, "log", r.Time)
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
					falco.Recognise(r.Body, "log", r.Time)
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
