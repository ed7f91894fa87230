// Package sampletest checks deliveries of the bundled samples: it holds the
// routing configuration the end-to-end tests use, an independent statement
// of where that configuration sends each alert, and a reader of what the
// fake AWS endpoint received. The core, the plugin host test and the demo
// share it, so the oracle is written once.
package sampletest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

// RoutingConfig: critical and worse to one group by host, MITRE-tagged to
// Firehose, everything else to the default group by source.
var RoutingConfig = []string{
	"log_group_name", "/falco/alerts",
	"log_stream_name", "{source}",
	"auto_create_group", "true",
	"route.1", "priority>=Critical -> cloudwatch:/falco/critical:{hostname}",
	"route.2", "tag=mitre_* -> firehose:falco-mitre",
}

// ExpectedRoute says, without falcocw's code, where RoutingConfig sends an
// alert.
func ExpectedRoute(alert map[string]any) string {
	switch alert["priority"] {
	case "Critical", "Alert", "Emergency":
		return "cloudwatch:/falco/critical:" + orUnknown(alert["hostname"])
	}
	tags, _ := alert["tags"].([]any)
	for _, tag := range tags {
		if strings.HasPrefix(tag.(string), "mitre_") {
			return "firehose:falco-mitre"
		}
	}
	return "cloudwatch:/falco/alerts:" + orUnknown(alert["source"])
}

func orUnknown(v any) string {
	if s, _ := v.(string); s != "" {
		return s
	}
	return "unknown"
}

// AlertOf returns the Falco alert a sample record holds, or nil for noise.
func AlertOf(r samples.Record) map[string]any {
	if r.File == "noise.txt" {
		return nil
	}
	if l, ok := r.Body["log"].(string); ok {
		return samples.DecodeJSON(l)
	}
	return r.Body
}

// Delivered reads back every event the fake endpoint holds, by destination
// ("cloudwatch:GROUP:STREAM", "firehose:NAME", "kinesis:STREAM" or
// "sns:TOPIC_ARN"), decoded
// from JSON.
func Delivered(srv *fakeaws.Server) (map[string][]map[string]any, error) {
	out := map[string][]map[string]any{}
	for key := range srv.LogStreams() {
		g, s, _ := strings.Cut(key, ":")
		for _, e := range srv.Events(g, s) {
			m, err := decode(e.Message)
			if err != nil {
				return nil, fmt.Errorf("cloudwatch:%s: %v", key, err)
			}
			out["cloudwatch:"+key] = append(out["cloudwatch:"+key], m)
		}
	}
	for topic := range srv.Topics() {
		for _, m := range srv.Messages(topic) {
			ev, err := decode(m.Body)
			if err != nil {
				return nil, fmt.Errorf("sns:%s: %v", topic, err)
			}
			out["sns:"+topic] = append(out["sns:"+topic], ev)
		}
	}
	for name := range srv.KinesisStreams() {
		for _, r := range srv.KinesisRecords(name) {
			m, err := decode(string(r.Data))
			if err != nil {
				return nil, fmt.Errorf("kinesis:%s: %v", name, err)
			}
			out["kinesis:"+name] = append(out["kinesis:"+name], m)
		}
	}
	for name := range srv.EventBuses() {
		for _, e := range srv.BusEvents(name) {
			m, err := decode(string(e.Detail))
			if err != nil {
				return nil, fmt.Errorf("eventbridge:%s: %v", name, err)
			}
			out["eventbridge:"+name] = append(out["eventbridge:"+name], m)
		}
	}
	// A Security Hub finding imported n times counts as n copies of the
	// event its ProductFields name (uuid, rule, priority).
	for _, f := range srv.Findings() {
		pf, _ := f.Finding["ProductFields"].(map[string]any)
		ev := map[string]any{"id": f.Finding["Id"], "rule": pf["falco/rule"], "priority": pf["falco/priority"]}
		if u, ok := pf["falco/uuid"]; ok {
			ev["uuid"] = u
		}
		for i := 0; i < f.Imports; i++ {
			out["securityhub"] = append(out["securityhub"], ev)
		}
	}
	for name := range srv.DeliveryStreams() {
		for _, r := range srv.Records(name) {
			if !strings.HasSuffix(string(r), "\n") {
				return nil, fmt.Errorf("firehose:%s: record not newline-terminated: %.100s", name, r)
			}
			m, err := decode(string(r))
			if err != nil {
				return nil, fmt.Errorf("firehose:%s: %v", name, err)
			}
			out["firehose:"+name] = append(out["firehose:"+name], m)
		}
	}
	return out, nil
}

func decode(s string) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("event is not JSON: %v: %.200s", err, s)
	}
	return m, nil
}

// key identifies an event by the alert and the metadata around it: the same
// alert appears in several sample files with different wrappers.
func key(ev map[string]any) string {
	k, _ := ev["kubernetes"].(map[string]any)
	return fmt.Sprint(ev["rule"], "|", ev["time"], "|", ev["hostname"], "|", ev["ecs_task_arn"], "|",
		ev["container_id"], "|", k != nil, "|", k["docker_id"])
}

// withMetadata is the alert with the record's metadata, as key wants it.
func withMetadata(alert map[string]any, rec samples.Record) map[string]any {
	m := map[string]any{}
	for k, v := range alert {
		m[k] = v
	}
	for _, k := range []string{"ecs_task_arn", "container_id", "kubernetes"} {
		if v, ok := rec.Body[k]; ok {
			m[k] = v
		}
	}
	return m
}

// CheckRoutedOnce compares what srv received with what RoutingConfig
// should make of records, sent copies times: every alert at its
// destination exactly copies times, carrying every field Falco printed and
// the metadata around it. It returns one line per discrepancy.
func CheckRoutedOnce(srv *fakeaws.Server, records []samples.Record, copies int) []string {
	type expect struct {
		alert map[string]any
		rec   samples.Record
		n     int
	}
	want := map[string]map[string]*expect{}
	for _, r := range records {
		a := AlertOf(r)
		if a == nil {
			continue
		}
		d := ExpectedRoute(a)
		if want[d] == nil {
			want[d] = map[string]*expect{}
		}
		k := key(withMetadata(a, r))
		if e := want[d][k]; e != nil {
			e.n += copies
		} else {
			want[d][k] = &expect{alert: a, rec: r, n: copies}
		}
	}
	var problems []string
	got, err := Delivered(srv)
	if err != nil {
		return []string{err.Error()}
	}
	for d, events := range got {
		for _, ev := range events {
			e := want[d][key(ev)]
			if e == nil || e.n == 0 {
				problems = append(problems, fmt.Sprintf("%s: unexpected or duplicate event %s", d, key(ev)))
				continue
			}
			e.n--
			if p := compare(ev, e.alert, e.rec); p != "" {
				problems = append(problems, fmt.Sprintf("%s: %s:%d: %s", d, e.rec.File, e.rec.Line, p))
			}
		}
	}
	for d, m := range want {
		for k, e := range m {
			if e.n != 0 {
				problems = append(problems, fmt.Sprintf("%s: event %s missing %d times", d, k, e.n))
			}
		}
	}
	if v := srv.Violations(); len(v) > 0 {
		problems = append(problems, fmt.Sprintf("API limits broken: %v", v))
	}
	sort.Strings(problems)
	return problems
}

// compare checks a delivered event against the alert it came from.
func compare(ev, alert map[string]any, rec samples.Record) string {
	for _, k := range []string{"rule", "priority", "source", "hostname", "output", "uuid", "message"} {
		if !reflect.DeepEqual(fmt.Sprint(ev[k]), fmt.Sprint(alert[k])) {
			return fmt.Sprintf("%s = %v, want %v", k, ev[k], alert[k])
		}
	}
	gt, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(ev["time"]))
	wt, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(alert["time"]))
	if !gt.Equal(wt) {
		return fmt.Sprintf("time %v, want %v", ev["time"], alert["time"])
	}
	if fmt.Sprint(ev["tags"]) != fmt.Sprint(alert["tags"]) {
		return fmt.Sprintf("tags %v, want %v", ev["tags"], alert["tags"])
	}
	if of, ok := alert["output_fields"].(map[string]any); ok {
		got, _ := ev["output_fields"].(map[string]any)
		if len(got) != len(of) {
			return fmt.Sprintf("%d output_fields, want %d", len(got), len(of))
		}
		for k, v := range of {
			if fmt.Sprint(got[k]) != fmt.Sprint(v) {
				return fmt.Sprintf("output_fields[%s] = %v, want %v", k, got[k], v)
			}
		}
	}
	for _, k := range []string{"ecs_cluster", "ecs_task_arn", "container_name", "ec2_instance_id"} {
		if v, ok := rec.Body[k]; ok && ev[k] != v {
			return fmt.Sprintf("%s = %v, want %v", k, ev[k], v)
		}
	}
	if k, ok := rec.Body["kubernetes"].(map[string]any); ok {
		got, _ := ev["kubernetes"].(map[string]any)
		if got == nil || got["pod_name"] != k["pod_name"] || got["namespace_name"] != k["namespace_name"] {
			return fmt.Sprintf("kubernetes = %v, want %v", got, k)
		}
	}
	return ""
}

// Alerts are the bundled sample alerts as a record carries them to falcocw
// (the alert's line under "log"), with extra's keys beside it (FireLens
// metadata), recognised; a sample that is not an alert fails the test.
func Alerts(t testing.TB, extra map[string]any) []*falco.Alert {
	t.Helper()
	var out []*falco.Alert
	for i, line := range samples.Lines("alerts.jsonl") {
		body := map[string]any{"log": line}
		for k, v := range extra {
			body[k] = v
		}
		a, ok := falco.Recognise(body, "log", time.Now())
		if !ok {
			t.Fatalf("sample %d is not an alert", i+1)
		}
		out = append(out, a)
	}
	return out
}
