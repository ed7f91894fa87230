package emf_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/emf"
	"github.com/falcocw/falcocw/falcocw/falco"
)

func TestParseDimensionSets(t *testing.T) {
	sets, err := emf.ParseDimensionSets("cluster,priority; cluster,rule")
	if err != nil || len(sets) != 2 || sets[1][1] != "rule" {
		t.Fatalf("%v %v", sets, err)
	}
	for _, bad := range []string{"", ";", "cluster,colour"} {
		if _, err := emf.ParseDimensionSets(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestRecordsFollowTheSpecification checks the structure the Embedded
// Metric Format specification requires: a root "_aws" with an integer
// Timestamp in milliseconds and CloudWatchMetrics, an array of directives
// each with Namespace, Dimensions (an array of arrays of dimension names,
// each name a top-level string member) and Metrics (objects with Name,
// each a top-level number member); and that the counts add up.
func TestRecordsFollowTheSpecification(t *testing.T) {
	g := emf.NewAggregator("Falco", [][]string{{"cluster", "priority"}, {"cluster", "rule"}})
	t0 := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	alerts := []*falco.Alert{
		{Time: t0, Rule: "Terminal shell in container", Priority: falco.PriorityCritical, Cluster: "prod"},
		{Time: t0.Add(10 * time.Second), Rule: "Terminal shell in container", Priority: falco.PriorityCritical, Cluster: "prod"},
		{Time: t0.Add(20 * time.Second), Rule: "Read sensitive file untrusted", Priority: falco.PriorityWarning},
		{Time: t0.Add(2 * time.Minute), Rule: "Terminal shell in container", Priority: falco.PriorityCritical, Cluster: "prod"},
	}
	for _, a := range alerts {
		g.Add(a)
	}
	recs := g.Records()
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3 (two minutes, two dimension tuples)", len(recs))
	}
	total := 0
	for _, r := range recs {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(r.JSON))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("not JSON: %v: %s", err, r.JSON)
		}
		aws, ok := m["_aws"].(map[string]any)
		if !ok {
			t.Fatalf("no _aws: %s", r.JSON)
		}
		ts, ok := aws["Timestamp"].(json.Number)
		if _, err := ts.Int64(); !ok || err != nil {
			t.Errorf("Timestamp %v is not an integer", aws["Timestamp"])
		}
		ms, _ := ts.Int64()
		if ms%60000 != 0 || ms != r.Time.UnixMilli() {
			t.Errorf("Timestamp %d is not the minute of the record", ms)
		}
		directives := aws["CloudWatchMetrics"].([]any)
		if len(directives) != 1 {
			t.Fatalf("%d directives", len(directives))
		}
		dir := directives[0].(map[string]any)
		if dir["Namespace"] != "Falco" {
			t.Errorf("Namespace %v", dir["Namespace"])
		}
		for _, set := range dir["Dimensions"].([]any) {
			names := set.([]any)
			if len(names) == 0 || len(names) > 30 {
				t.Errorf("dimension set of %d", len(names))
			}
			for _, n := range names {
				if _, ok := m[n.(string)].(string); !ok {
					t.Errorf("dimension %v is not a top-level string member", n)
				}
			}
		}
		for _, metric := range dir["Metrics"].([]any) {
			md := metric.(map[string]any)
			if md["Name"] != "Alerts" || md["Unit"] != "Count" {
				t.Errorf("metric %v", md)
			}
			n, err := m["Alerts"].(json.Number).Int64()
			if err != nil {
				t.Errorf("metric value %v is not a number", m["Alerts"])
			}
			total += int(n)
		}
		if m["cluster"] == "" || m["priority"] == nil || m["rule"] == nil {
			t.Errorf("dimension values missing: %v", m)
		}
	}
	if total != len(alerts) {
		t.Errorf("counts add up to %d, want %d", total, len(alerts))
	}
}
