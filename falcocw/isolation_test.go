package falcocw_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

// isolationChunk is n alerts, each routed to CloudWatch Logs and to
// Firehose by the instance isolated builds.
func isolationChunk(n, from int) []byte {
	line := samples.DecodeJSON(samples.Lines("alerts.jsonl")[0])
	bodies := make([]map[string]any, n)
	for i := range bodies {
		b := map[string]any{}
		for k, v := range line {
			b[k] = v
		}
		b["uuid"] = fmt.Sprint("u-", from+i)
		bodies[i] = b
	}
	return samples.Chunk(chunk.FormatV2, time.Now(), bodies...)
}

func isolated(t *testing.T, srv *fakeaws.Server) (*falcocw.Instance, *logCapture) {
	srv.CreateLogGroup("g")
	srv.CreateDeliveryStream("archive")
	return newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_stream", "true",
		"route.1", "priority>=Debug -> firehose:archive continue", "destination_wait", "1s", "flush_timeout", "3s")
}

// TestDownDestinationDelaysNoOther: with Firehose failing in each way a
// service fails, a flush delivers CloudWatch's events and answers within
// destination_wait; the next flushes answer at once, handing Firehose's
// share back to Fluent Bit's retry (one line said it went down); once
// Firehose is back, the probe of a retry delivers the rest: every alert
// once at each destination.
func TestDownDestinationDelaysNoOther(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults fakeaws.Faults
	}{
		{"503 every call", fakeaws.Faults{Down: true, Ops: []string{"PutRecordBatch"}}},
		{"500 every call", fakeaws.Faults{ServerError: 1, Ops: []string{"PutRecordBatch"}}},
		{"every call throttled", fakeaws.Faults{Throttle: 1, Ops: []string{"PutRecordBatch"}}},
		{"connections reset", fakeaws.Faults{Reset: 1, Ops: []string{"PutRecordBatch"}}},
		{"answers after 25 s", fakeaws.Faults{Slow: 1, SlowDelay: 25 * time.Second, Ops: []string{"PutRecordBatch"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeaws.New()
			defer srv.Close()
			in, logs := isolated(t, srv)
			srv.SetFaults(tt.faults)
			var chunks [][]byte
			for i := 0; i < 3; i++ {
				chunks = append(chunks, isolationChunk(50, 50*i))
			}
			for i, c := range chunks {
				start := time.Now()
				res := in.Flush(context.Background(), "falco", c)
				took := time.Since(start)
				if res.Status != falcocw.Retry || res.Delivered["cloudwatch:g:s"] != 50 {
					t.Fatalf("flush %d: %s\n%s", i, res.Summary(), logs)
				}
				limit := 200 * time.Millisecond // down: handed back at once
				if i == 0 {
					limit = 8 * time.Second // the first waits for Firehose: its SDK retries, or destination_wait
				}
				if took > limit {
					t.Errorf("flush %d took %s with Firehose failing (want at most %s): CloudWatch's next chunk would wait behind it", i, took, limit)
				}
				if i > 0 && (res.HandedBack != 50 || !res.Quiet()) {
					t.Errorf("flush %d: %s; want Firehose's 50 events handed back, quietly", i, res.Summary())
				}
			}
			if n := len(srv.Events("g", "s")); n != 150 {
				t.Errorf("CloudWatch holds %d events during the outage, want all 150", n)
			}
			if n := strings.Count(logs.String(), "firehose:archive is down"); n != 1 {
				t.Errorf("%d lines say Firehose is down, want 1:\n%s", n, logs)
			}
			// Firehose is back: Fluent Bit's retries find it at the next probe.
			srv.SetFaults(fakeaws.Faults{})
			probeDue(in)
			deadline := time.Now().Add(40 * time.Second)
			for i := 0; i < len(chunks); {
				res := in.Flush(context.Background(), "falco", chunks[i])
				if res.Status == falcocw.OK {
					i++
					continue
				}
				if res.InFlight == 0 || time.Now().After(deadline) { // only a request still in flight may hold a retry back
					t.Fatalf("retry of chunk %d after recovery: %s\n%s", i, res.Summary(), logs)
				}
				time.Sleep(500 * time.Millisecond)
			}
			seen := map[string]map[string]int{}
			for dest, events := range delivered(t, srv) {
				seen[dest] = map[string]int{}
				for _, e := range events {
					seen[dest][e["uuid"].(string)]++
				}
			}
			for _, d := range []string{"cloudwatch:g:s", "firehose:archive"} {
				if len(seen[d]) != 150 {
					t.Errorf("%s: %d distinct alerts, want 150", d, len(seen[d]))
				}
				for u, n := range seen[d] {
					if n != 1 {
						t.Errorf("%s: %s delivered %d times", d, u, n)
					}
				}
			}
			if !strings.Contains(logs.String(), "firehose:archive is back after") {
				t.Errorf("no line says Firehose is back:\n%s", logs)
			}
		})
	}
}

// TestDestinationMetrics: with metrics_namespace set, a destination going
// down is published at the next flush as an EMF record an alarm can use:
// Down 1, the events waiting, by Destination.
func TestDestinationMetrics(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateLogGroup("g")
	srv.CreateLogGroup("/falco/metrics")
	srv.CreateDeliveryStream("archive")
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_stream", "true",
		"route.1", "priority>=Debug -> firehose:archive continue", "destination_wait", "1s", "flush_timeout", "1s",
		"metrics_namespace", "Falco", "cluster", "prod")
	srv.SetFaults(fakeaws.Faults{Down: true, Ops: []string{"PutRecordBatch"}})
	for i := 0; i < 2; i++ {
		if res := in.Flush(context.Background(), "falco", isolationChunk(50, 50*i)); res.Status != falcocw.Retry {
			t.Fatalf("flush %d: %s\n%s", i, res.Summary(), logs)
		}
	}
	var firehose, cloudwatch map[string]any
	for _, streams := range []string{"falcocw"} {
		for _, e := range srv.Events("/falco/metrics", streams) {
			m := samples.DecodeJSON(e.Message)
			switch m["Destination"] {
			case "firehose:archive":
				firehose = m
			case "cloudwatch:g":
				cloudwatch = m
			}
		}
	}
	if firehose == nil || cloudwatch == nil {
		t.Fatalf("no destination metrics in /falco/metrics: %v\n%s", srv.LogStreams(), logs)
	}
	// The record is taken as the second flush starts: the first flush's
	// 50 events failed and wait.
	if firehose["Down"] != int64(1) || firehose["Waiting"] != int64(50) || firehose["Failed"] != int64(50) || firehose["cluster"] != "prod" {
		t.Errorf("firehose:archive's record: %v; want Down 1, Failed 50, Waiting 50", firehose)
	}
	if cloudwatch["Down"] != int64(0) || cloudwatch["Delivered"] != int64(50) {
		t.Errorf("cloudwatch:g's record: %v; want Down 0, Delivered 50 (the first flush's)", cloudwatch)
	}
	if !strings.Contains(fmt.Sprint(firehose["_aws"]), "Destination") {
		t.Errorf("the record declares no Destination dimension: %v", firehose["_aws"])
	}
}

// TestTwoSlowDestinations: both destinations of a flush answer after the
// flush stopped waiting; their requests go on side by side, the retries
// meanwhile send nothing again, and their answers settle the chunk: every
// alert once at each (run with -race, as make test does).
func TestTwoSlowDestinations(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	in, logs := isolated(t, srv)
	srv.SetFaults(fakeaws.Faults{Slow: 1, SlowDelay: 3 * time.Second, Ops: []string{"PutRecordBatch", "PutLogEvents"}})
	data := isolationChunk(40, 0)
	res := in.Flush(context.Background(), "falco", data)
	if res.Status != falcocw.Retry {
		t.Fatalf("first attempt: %s", res.Summary())
	}
	srv.SetFaults(fakeaws.Faults{})
	probeDue(in)
	res = retryWhileInFlight(in, "falco", data)
	if res.Status != falcocw.OK {
		t.Fatalf("retry: %s\n%s", res.Summary(), logs)
	}
	for dest, events := range delivered(t, srv) {
		if len(events) != 40 {
			t.Errorf("%s holds %d events, want 40", dest, len(events))
		}
	}
}
