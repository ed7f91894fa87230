package eventbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/eventbridge"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

// TestEntrySize is AWS's own computation ("Calculating PutEvents event
// entry size"): 14 for Time, then the bytes of Source, DetailType, Detail
// and each resource.
func TestEntrySize(t *testing.T) {
	e := eventbridge.Entry{Source: "falco", Detail: []byte(`{"a":"é"}`), UnixMilli: 1, Resources: []string{"arn:x"}}
	if got, want := e.Size(), 14+5+len("Falco Alert")+len(`{"a":"é"}`)+5; got != want {
		t.Errorf("size %d, want %d", got, want)
	}
	e.UnixMilli = 0
	if got, want := e.Size(), 5+len("Falco Alert")+len(`{"a":"é"}`)+5; got != want {
		t.Errorf("size without time %d, want %d", got, want)
	}
}

func TestBatchesRespectLimits(t *testing.T) {
	var entries []eventbridge.Entry
	for i := 0; i < 95; i++ {
		entries = append(entries, eventbridge.Entry{ID: i, Source: "falco", Detail: []byte(`{}`), UnixMilli: 1})
	}
	for i := 0; i < 7; i++ { // entries near the limit: one per call
		entries = append(entries, eventbridge.Entry{ID: 100 + i, Source: "falco", Detail: bytes.Repeat([]byte("x"), 200*1024), UnixMilli: 1})
	}
	total := 0
	for _, b := range eventbridge.Batches(entries) {
		size := 0
		for _, e := range b {
			size += e.Size()
		}
		if len(b) > eventbridge.MaxBatchEntries || size > eventbridge.MaxBatchBytes {
			t.Errorf("batch of %d entries, %d bytes breaks a limit", len(b), size)
		}
		total += len(b)
	}
	if total != len(entries) {
		t.Errorf("%d entries batched, want %d", total, len(entries))
	}
}

// TestMapping: each alert becomes an entry whose detail is the event, with
// the alert's time, source falco, detail-type Falco Alert, and the ECS
// task ARN as its resource when FireLens gave one.
func TestMapping(t *testing.T) {
	fakeaws.SetEnv(t)
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	srv.CreateEventBus("falco")
	a, err := awsclient.New(context.Background(), awsclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := eventbridge.New(eventbridge.NewClient(a, srv.URL), eventbridge.Options{})
	lines := samples.Lines("alerts.jsonl")
	var items []dest.Item
	const arn = "arn:aws:ecs:eu-west-1:123456789012:task/prod/7d26f0e1a2b3"
	for i, line := range lines {
		al, _ := falco.Recognise(map[string]any{"log": line, "ecs_task_arn": arn, "ecs_cluster": "prod"}, "log", time.Now())
		items = append(items, dest.Item{ID: i, Time: al.Time, Payload: al.AppendJSON(nil), Alert: al})
	}
	// A route with format=output sends text: it becomes {"output": TEXT}.
	items = append(items, dest.Item{ID: len(items), Time: time.Now(), Payload: []byte("10:00:00: Critical text only")})
	target := route.Target{Kind: eventbridge.Kind, Name: "falco"}
	reqs := s.Batches(dest.Flush{Now: time.Now(), Adjusted: func(_ int, format string, args ...any) { t.Logf(format, args...) }}, target, items)
	n := 0
	for _, r := range reqs {
		o := s.Send(context.Background(), target, r)
		if o.Err != nil || len(o.Failed)+len(o.Rejected) > 0 {
			t.Fatalf("send: %+v", o)
		}
		n += len(o.Accepted)
	}
	got := srv.BusEvents("falco")
	if n != len(items) || len(got) != len(items) {
		t.Fatalf("%d accepted, %d on the bus, want %d", n, len(got), len(items))
	}
	for i, e := range got[:len(lines)] {
		var detail map[string]any
		if err := json.Unmarshal(e.Detail, &detail); err != nil {
			t.Fatal(err)
		}
		al := items[i].Alert
		if e.Source != "falco" || e.DetailType != "Falco Alert" || detail["rule"] != al.Rule || detail["priority"] != al.Priority.String() ||
			detail["id"] != al.ID() || int64(e.Time*1000+0.5) != al.Time.UnixMilli() || len(e.Resources) != 1 || e.Resources[0] != arn {
			t.Errorf("entry %d: %+v, detail %v; alert %s at %v", i, e, detail, al, al.Time)
		}
	}
	var last map[string]any
	_ = json.Unmarshal(got[len(got)-1].Detail, &last)
	if last["output"] != "10:00:00: Critical text only" {
		t.Errorf("text payload became %s", got[len(got)-1].Detail)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("limits broken: %v", v)
	}
}

// TestSendUnderEntryFailures: failing 20 % of entries one by one and
// throttling whole calls, every entry arrives exactly once.
func TestSendUnderEntryFailures(t *testing.T) {
	fakeaws.SetEnv(t)
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	srv.CreateEventBus("default")
	srv.SetFaults(fakeaws.Faults{Seed: 5, RecordFailure: 0.2, Throttle: 0.1})
	a, _ := awsclient.New(context.Background(), awsclient.Options{})
	s := eventbridge.New(eventbridge.NewClient(a, srv.URL), eventbridge.Options{Source: "falco.test"})
	var items []dest.Item
	for i := 0; i < 300; i++ {
		items = append(items, dest.Item{ID: i, Time: time.Now(), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	target := route.Target{Kind: eventbridge.Kind, Name: "default"}
	reqs := s.Batches(dest.Flush{Now: time.Now(), Adjusted: func(_ int, format string, args ...any) { t.Logf(format, args...) }}, target, items)
	ctx := awsclient.WithStartBy(context.Background(), time.Now().Add(20*time.Second))
	for _, r := range reqs {
		if o := s.Send(ctx, target, r); o.Err != nil || len(o.Accepted) != len(r.([]eventbridge.Entry)) {
			t.Fatalf("send: %+v", o)
		}
	}
	seen := map[string]int{}
	for _, e := range srv.BusEvents("default") {
		seen[string(e.Detail)]++
		if e.Source != "falco.test" {
			t.Errorf("source %q", e.Source)
		}
	}
	for i := 0; i < 300; i++ {
		if c := seen[fmt.Sprintf(`{"n":%d}`, i)]; c != 1 {
			t.Errorf("entry %d arrived %d times", i, c)
		}
	}
	if inj := srv.Injected(); inj.RecordFailure == 0 || inj.Throttle == 0 {
		t.Errorf("no fault injected: %+v", inj)
	}
}
