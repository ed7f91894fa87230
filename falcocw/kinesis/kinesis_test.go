package kinesis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/kinesis"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/internal/fakeaws"
)

func TestBatchesRespectLimits(t *testing.T) {
	var records []kinesis.Record
	for i := 0; i < 1203; i++ {
		records = append(records, kinesis.Record{ID: i, Data: []byte("small"), Key: "host"})
	}
	for i := 0; i < 12; i++ {
		records = append(records, kinesis.Record{ID: 2000 + i, Data: bytes.Repeat([]byte("b"), kinesis.MaxRecordBytes-kinesis.MaxKeyBytes), Key: strings.Repeat("k", kinesis.MaxKeyBytes)})
	}
	total := 0
	for _, b := range kinesis.Batches(records) {
		size := 0
		for _, r := range b {
			size += r.Len()
		}
		if len(b) > kinesis.MaxBatchRecords || size > kinesis.MaxBatchBytes {
			t.Errorf("batch of %d records, %d bytes breaks a limit", len(b), size)
		}
		total += len(b)
	}
	if total != len(records) {
		t.Errorf("%d records batched, want %d", total, len(records))
	}
}

func TestBody(t *testing.T) {
	b := kinesis.AppendBody(nil, "falco-all", []kinesis.Record{{Data: []byte(`{"a":"é"}`), Key: `h"1`}, {Data: []byte{0, 255}, Key: "h2"}})
	var got struct {
		StreamName string
		Records    []struct {
			Data         []byte
			PartitionKey string
		}
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if got.StreamName != "falco-all" || len(got.Records) != 2 || string(got.Records[0].Data) != `{"a":"é"}` || got.Records[0].PartitionKey != `h"1` ||
		!bytes.Equal(got.Records[1].Data, []byte{0, 255}) {
		t.Errorf("%+v", got)
	}
}

// TestSendUnderRecordFailures: through the real SDK to the fake endpoint,
// failing 20 % of the records one by one and throttling whole calls: every
// record arrives exactly once, under the partition key its template gives.
func TestSendUnderRecordFailures(t *testing.T) {
	fakeaws.SetEnv(t)
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	srv.CreateKinesisStream("falco-all")
	srv.SetFaults(fakeaws.Faults{Seed: 3, RecordFailure: 0.2, Throttle: 0.1})
	a, err := awsclient.New(context.Background(), awsclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := kinesis.PartitionKeyTemplate("{hostname}-{priority}")
	s := kinesis.New(kinesis.NewClient(a, srv.URL), kinesis.Options{PartitionKey: key})
	var items []dest.Item
	for i := 0; i < 1200; i++ {
		al := &falco.Alert{Rule: "R", Priority: falco.PriorityWarning, Hostname: fmt.Sprintf("node-%d", i%3)}
		items = append(items, dest.Item{ID: i, Time: time.Now(), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)), Alert: al})
	}
	items = append(items, dest.Item{ID: 5000, Payload: []byte(`{"metric":1}`), Metric: true}) // no alert: key "unknown-unknown"
	target := route.Target{Kind: kinesis.Kind, Name: "falco-all"}
	reqs := s.Batches(dest.Flush{Now: time.Now(), Adjusted: func(_ int, format string, args ...any) { t.Logf(format, args...) }}, target, items)
	accepted := 0
	for _, r := range reqs {
		o := s.Send(context.Background(), target, r)
		if o.Err != nil {
			t.Fatalf("send: %v", o.Err)
		}
		accepted += len(o.Accepted)
	}
	got := srv.KinesisRecords("falco-all")
	seen := map[string]int{}
	for _, r := range got {
		seen[string(r.Data)]++
		if r.PartitionKey != "node-0-Warning" && r.PartitionKey != "node-1-Warning" && r.PartitionKey != "node-2-Warning" && r.PartitionKey != "unknown-unknown" {
			t.Fatalf("partition key %q", r.PartitionKey)
		}
	}
	if accepted != len(items) || len(got) != len(items) || len(seen) != len(items) {
		t.Errorf("accepted %d, stored %d (%d distinct), want %d each", accepted, len(got), len(seen), len(items))
	}
	if inj := srv.Injected(); inj.RecordFailure == 0 {
		t.Errorf("no record failure injected: %+v", inj)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("limits broken: %v", v)
	}
}
