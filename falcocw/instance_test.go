package falcocw_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/health"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
	"github.com/falcocw/falcocw/internal/sampletest"
)

// testEnv gives the SDK credentials and a region, and keeps it away from
// the shared config files and instance metadata of the machine.
func testEnv(t testing.TB) { fakeaws.SetEnv(t) }

type logCapture struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCapture) log(level config.Level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level.String()+" "+msg)
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newInstance(t testing.TB, srv *fakeaws.Server, kv ...string) (*falcocw.Instance, *logCapture) {
	t.Helper()
	testEnv(t)
	srv.VerifySignatures(fakeaws.AccessKey, fakeaws.SecretKey)
	m := map[string]string{"endpoint": srv.URL, "falcocw_log_level": "debug"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	cfg, err := config.Parse(func(k string) string { return m[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &logCapture{}
	in, err := falcocw.New(context.Background(), cfg, logs.log)
	if err != nil {
		t.Fatal(err)
	}
	return in, logs
}

// probeDue moves the instance's clock past the time a destination that
// went down is probed again (health.ProbeEvery), as Fluent Bit's retry,
// 5 s or more later, finds it.
func probeDue(in *falcocw.Instance) {
	in.SetClock(func() time.Time { return time.Now().Add(health.ProbeEvery) })
}

// retryWhileInFlight flushes data again, as Fluent Bit retries it, while
// a request of an earlier attempt is still in flight (a request may go on
// retrying past destination_wait, to flush_timeout and its last backoff).
func retryWhileInFlight(in *falcocw.Instance, tag string, data []byte) falcocw.Result {
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := in.Flush(context.Background(), tag, data)
		if res.Status != falcocw.Retry || res.InFlight == 0 || time.Now().After(deadline) {
			return res
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func delivered(t *testing.T, srv *fakeaws.Server) map[string][]map[string]any {
	t.Helper()
	got, err := sampletest.Delivered(srv)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestSamplesRoutedOnce sends every sample in both record formats and
// checks that each alert arrived exactly once, where the configuration
// says, with its content, and that no request broke an API limit.
func TestSamplesRoutedOnce(t *testing.T) {
	for _, f := range []chunk.Format{chunk.FormatV1, chunk.FormatV2} {
		t.Run(fmt.Sprintf("format%d", f), func(t *testing.T) {
			srv := fakeaws.New()
			defer srv.Close()
			srv.CreateDeliveryStream("falco-mitre")
			in, logs := newInstance(t, srv, sampletest.RoutingConfig...)
			recs := samples.Records()
			res := in.Flush(context.Background(), "falco.var.log", samples.Chunk(f, time.Now(), samples.Bodies(recs)...))
			if res.Status != falcocw.OK {
				t.Fatalf("status %v: %s\n%s", res.Status, res.Summary(), logs)
			}
			noise := len(samples.Lines("noise.txt"))
			if res.NonFalco != noise || res.Alerts != len(recs)-noise || res.Malformed != 0 {
				t.Errorf("alerts %d non-Falco %d malformed %d; want %d, %d, 0", res.Alerts, res.NonFalco, res.Malformed, len(recs)-noise, noise)
			}
			for _, p := range sampletest.CheckRoutedOnce(srv, recs, 1) {
				t.Error(p)
			}
			// Every request the plugin made was checked as AWS checks
			// it: the bodies falcocw writes itself are the ones signed.
			if srv.Verified() < 3 {
				t.Errorf("%d requests had their signature verified", srv.Verified())
			}
		})
	}
}

// TestMetadataKept: FireLens and Kubernetes metadata reach CloudWatch with
// the alert.
func TestMetadataKept(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	in, logs := newInstance(t, srv, "log_group_name", "/falco/{ecs_cluster}", "log_stream_name", "{ecs_task_id}", "auto_create_group", "true")
	var bodies []map[string]any
	for _, l := range samples.Lines("wrapped-firelens.jsonl") {
		bodies = append(bodies, samples.DecodeJSON(l))
	}
	if res := in.Flush(context.Background(), "firelens", samples.Chunk(chunk.FormatV2, time.Now(), bodies...)); res.Status != falcocw.OK {
		t.Fatalf("%s\n%s", res.Summary(), logs)
	}
	n := 0
	for key, events := range delivered(t, srv) {
		if !strings.HasPrefix(key, "cloudwatch:/falco/prod-cluster:") {
			t.Errorf("unexpected destination %s", key)
		}
		for _, e := range events {
			n++
			if e["ecs_cluster"] != "prod-cluster" || e["ecs_task_arn"] == nil || e["container_name"] != "falco" {
				t.Errorf("ECS metadata missing: %v", e)
			}
			if !strings.HasSuffix(e["ecs_task_arn"].(string), strings.TrimPrefix(key, "cloudwatch:/falco/prod-cluster:")) {
				t.Errorf("stream %s is not the task id of %s", key, e["ecs_task_arn"])
			}
		}
	}
	if n != len(bodies) {
		t.Errorf("%d events, want %d", n, len(bodies))
	}
}

func TestNonFalcoPolicy(t *testing.T) {
	noise := samples.Lines("noise.txt")
	var bodies []map[string]any
	for _, l := range noise {
		bodies = append(bodies, map[string]any{"log": l})
	}
	t.Run("drop", func(t *testing.T) {
		srv := fakeaws.New()
		defer srv.Close()
		in, _ := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true")
		res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), bodies...))
		if res.Status != falcocw.OK || res.NonFalco != len(noise) || len(srv.LogStreams()) != 0 || in.Stats().NonFalco.Load() != int64(len(noise)) {
			t.Errorf("%s; streams %v", res.Summary(), srv.LogStreams())
		}
	})
	t.Run("destination", func(t *testing.T) {
		srv := fakeaws.New()
		defer srv.Close()
		in, _ := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true",
			"non_falco", "cloudwatch:/falco/other:{tag}")
		res := in.Flush(context.Background(), "falco.stdout", samples.Chunk(chunk.FormatV2, time.Now(), bodies...))
		if ev := srv.Events("/falco/other", "falco.stdout"); res.Status != falcocw.OK || len(ev) != len(noise) {
			t.Fatalf("%s; %d events", res.Summary(), len(ev))
		}
	})
}

func TestAutoCreate(t *testing.T) {
	alert := map[string]any{"log": samples.Lines("alerts.jsonl")[0]}
	t.Run("group and stream, with retention", func(t *testing.T) {
		srv := fakeaws.New()
		defer srv.Close()
		in, logs := newInstance(t, srv, "log_group_name", "/falco/new", "log_stream_name", "s", "auto_create_group", "true", "log_retention_days", "30")
		if res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), alert)); res.Status != falcocw.OK {
			t.Fatalf("%s\n%s", res.Summary(), logs)
		}
		if len(srv.Events("/falco/new", "s")) != 1 || srv.Retention("/falco/new") != 30 {
			t.Errorf("events %d retention %d", len(srv.Events("/falco/new", "s")), srv.Retention("/falco/new"))
		}
	})
	t.Run("group missing, auto_create_group off", func(t *testing.T) {
		srv := fakeaws.New()
		defer srv.Close()
		in, logs := newInstance(t, srv, "log_group_name", "/falco/missing", "log_stream_name", "s")
		res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), alert))
		if res.Status != falcocw.Retry || !strings.Contains(res.Summary(), "auto_create_group is off") {
			t.Errorf("%s\n%s", res.Summary(), logs)
		}
	})
}

// TestFailures: retryable failures give Retry within the deadline;
// rejected data gives Error with each event named.
func TestFailures(t *testing.T) {
	alert := map[string]any{"log": samples.Lines("alerts.jsonl")[2]}
	tests := []struct {
		status int
		code   string
		want   falcocw.Status
	}{
		{500, "InternalFailure", falcocw.Retry},
		{400, "ThrottlingException", falcocw.Retry},
		{503, "ServiceUnavailableException", falcocw.Retry},
		{400, "AccessDeniedException", falcocw.Retry},
		{400, "InvalidParameterException", falcocw.Error},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			srv := fakeaws.New()
			defer srv.Close()
			srv.CreateLogGroup("g")
			srv.SetFault(func(op string, _ []byte) (int, string) {
				if op == "PutLogEvents" {
					return tt.status, tt.code
				}
				return 0, ""
			})
			in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "flush_timeout", "3s")
			start := time.Now()
			res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), alert))
			if res.Status != tt.want {
				t.Errorf("status %v, want %v: %s", res.Status, tt.want, res.Summary())
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("flush took %s, past its 3s deadline", d)
			}
			if tt.want == falcocw.Error && !strings.Contains(logs.String(), "not delivered to cloudwatch:g:s (AWS refused the request for good): alert rule=") {
				t.Errorf("the undeliverable alert is not named in the log:\n%s", logs)
			}
		})
	}
}

// TestBadDataDelivered: oversized alerts are truncated with a marker,
// invalid UTF-8 is repaired, old timestamps are clamped, and none of them
// breaks a batch.
func TestBadDataDelivered(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateDeliveryStream("big")
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true", "delivery_stream", "big")
	now := time.Now().UTC()
	bodies := []map[string]any{
		{"rule": "Huge", "priority": "Critical", "time": now.Format(time.RFC3339Nano), "output": strings.Repeat("A", 2<<20)},
		{"rule": "Bad\xffUTF8", "priority": "Warning", "time": now.Format(time.RFC3339Nano), "output": "x\xfe\x00y"},
		{"rule": "Old", "priority": "Notice", "time": now.Add(-30 * 24 * time.Hour).Format(time.RFC3339Nano), "output": "old"},
		{"rule": "Future", "priority": "Notice", "time": now.Add(5 * time.Hour).Format(time.RFC3339Nano), "output": "future"},
	}
	res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, now, bodies...))
	if res.Status != falcocw.OK || res.Truncated != 2 || res.Adjusted != 2 {
		t.Fatalf("%s truncated=%d adjusted=%d\n%s", res.Summary(), res.Truncated, res.Adjusted, logs)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Fatalf("limits broken: %v", v)
	}
	got := delivered(t, srv)
	rules := map[string]map[string]any{}
	for _, e := range got["cloudwatch:g:s"] {
		rules[e["rule"].(string)] = e
	}
	if h := rules["Huge"]; h == nil || h["falcocw_truncated"] != true || h["priority"] != "Critical" {
		t.Errorf("huge alert: %.300v", h)
	}
	if rules["Bad\ufffdUTF8"] == nil {
		t.Errorf("invalid UTF-8 alert missing: %v", rules)
	}
	if o := rules["Old"]; o == nil || !strings.HasPrefix(o["time"].(string), now.Add(-30*24*time.Hour).Format("2006-01-02")) {
		t.Errorf("old alert lost its own time: %v", o)
	}
	if len(got["firehose:big"]) != 4 {
		t.Errorf("firehose got %d records", len(got["firehose:big"]))
	}
}

// TestConcurrentFlushes: one instance flushed from many goroutines at
// once, as with "workers N", delivers every alert exactly once.
func TestConcurrentFlushes(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "{hostname}", "auto_create_group", "true")
	line := samples.DecodeJSON(samples.Lines("alerts.jsonl")[0])
	const flushes, per = 16, 200
	var wg sync.WaitGroup
	for f := 0; f < flushes; f++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies := make([]map[string]any, per)
			for i := range bodies {
				b := map[string]any{}
				for k, v := range line {
					b[k] = v
				}
				b["uuid"] = fmt.Sprintf("%d-%d", f, i)
				bodies[i] = b
			}
			if res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), bodies...)); res.Status != falcocw.OK {
				t.Errorf("%s\n%s", res.Summary(), logs)
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, events := range delivered(t, srv) {
		for _, e := range events {
			seen[e["uuid"].(string)]++
		}
	}
	if len(seen) != flushes*per {
		t.Errorf("%d distinct alerts, want %d", len(seen), flushes*per)
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("alert %s delivered %d times", u, n)
		}
	}
}

// TestRetrySendsOnlyWhatFailed: when one destination accepts a chunk and
// another fails, Fluent Bit's retry of the chunk goes only to the one that
// failed.
func TestRetrySendsOnlyWhatFailed(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateDeliveryStream("archive")
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true",
		"delivery_stream", "archive", "flush_timeout", "1s")
	var bodies []map[string]any
	for _, l := range samples.Lines("alerts.jsonl") {
		bodies = append(bodies, map[string]any{"log": l})
	}
	data := samples.Chunk(chunk.FormatV2, time.Now(), bodies...)
	srv.SetFault(func(op string, _ []byte) (int, string) {
		if op == "PutLogEvents" {
			return 503, "ServiceUnavailableException"
		}
		return 0, ""
	})
	res := in.Flush(context.Background(), "falco", data)
	if res.Status != falcocw.Retry || res.Delivered["firehose:archive"] != len(bodies) {
		t.Fatalf("first attempt: %s", res.Summary())
	}
	srv.SetFault(nil)
	probeDue(in) // Fluent Bit's retry comes when the destination down is probed again
	res = retryWhileInFlight(in, "falco", data)
	if res.Status != falcocw.OK || res.AlreadyDelivered != len(bodies) || res.Delivered["firehose:archive"] != 0 {
		t.Fatalf("retry: %s\n%s", res.Summary(), logs)
	}
	if n, m := len(srv.Records("archive")), len(srv.Events("g", "s")); n != len(bodies) || m != len(bodies) {
		t.Errorf("firehose has %d records, CloudWatch %d events; want %d each", n, m, len(bodies))
	}
	// The chunk ended: the same bytes flushed again are a new chunk.
	if res := in.Flush(context.Background(), "falco", data); res.AlreadyDelivered != 0 {
		t.Errorf("ledger kept a finished chunk: %s", res.Summary())
	}
}

// TestCloseAbandonsInFlight: exit waits for a running flush, then
// abandons its requests after the grace period; the flush answers Retry.
func TestCloseAbandonsInFlight(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateLogGroup("g")
	srv.SetFaults(fakeaws.Faults{Slow: 1, SlowDelay: time.Minute})
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "flush_timeout", "60s")
	done := make(chan falcocw.Result)
	go func() {
		done <- in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), map[string]any{"log": samples.Lines("alerts.jsonl")[0]}))
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	in.Close(500 * time.Millisecond)
	res := <-done
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %s with a 500ms grace", d)
	}
	if res.Status != falcocw.Retry || res.Undelivered["cloudwatch:g:s"] != 1 {
		t.Errorf("abandoned flush: %s", res.Summary())
	}
	if !strings.Contains(logs.String(), "abandoning") {
		t.Errorf("no log line about abandoned requests:\n%s", logs)
	}
	if res := in.Flush(context.Background(), "t", nil); res.Status != falcocw.Retry {
		t.Errorf("flush after Close: %v", res.Status)
	}
}

// TestMetricsAndCluster: with metrics_namespace, each flush writes EMF
// records counting its alerts by the chosen dimensions, and every event
// carries the cluster in its context.
func TestMetricsAndCluster(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	in, logs := newInstance(t, srv, "log_group_name", "/falco/alerts", "log_stream_name", "{cluster}", "auto_create_group", "true",
		"cluster", "prod-eks", "metrics_namespace", "Falco", "metrics_dimensions", "cluster,priority")
	var bodies []map[string]any
	byPriority := map[string]int{}
	for _, l := range samples.Lines("alerts.jsonl") {
		bodies = append(bodies, map[string]any{"log": l})
		byPriority[samples.DecodeJSON(l)["priority"].(string)]++
	}
	res := in.Flush(context.Background(), "falco", samples.Chunk(chunk.FormatV2, time.Now(), bodies...))
	if res.Status != falcocw.OK || res.Metrics == 0 {
		t.Fatalf("%s metrics=%d\n%s", res.Summary(), res.Metrics, logs)
	}
	got := map[string]int{}
	for _, e := range srv.Events("/falco/metrics", "falcocw") {
		var m struct {
			Cluster, Priority string
			Alerts            int
		}
		if err := json.Unmarshal([]byte(e.Message), &m); err != nil || m.Cluster != "prod-eks" {
			t.Fatalf("metric record %v: %s", err, e.Message)
		}
		got[m.Priority] += m.Alerts
	}
	for p, n := range byPriority {
		if got[p] != n {
			t.Errorf("%s: metrics count %d, want %d", p, got[p], n)
		}
	}
	events := srv.Events("/falco/alerts", "prod-eks")
	if len(events) != len(bodies) || !strings.Contains(events[0].Message, `"context":{"cluster":"prod-eks"`) {
		t.Errorf("%d events in the cluster's stream; first %.300s", len(events), events[0].Message)
	}
}

// TestExitTotalsCountRecordsOnce: a chunk answered Retry and then OK counts
// its records once in the exit totals, not once per attempt.
func TestExitTotalsCountRecordsOnce(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true")
	var denied atomic.Bool
	denied.Store(true)
	srv.SetFault(func(op string, _ []byte) (int, string) {
		if op == "PutLogEvents" && denied.Load() {
			return 403, "AccessDeniedException"
		}
		return 0, ""
	})
	var bodies []map[string]any
	for _, l := range samples.Lines("alerts.jsonl")[:10] {
		bodies = append(bodies, map[string]any{"log": l})
	}
	data := samples.Chunk(chunk.FormatV2, time.Now(), bodies...)
	if res := in.Flush(context.Background(), "t", data); res.Status != falcocw.Retry {
		t.Fatalf("first attempt: %s", res.Summary())
	}
	denied.Store(false)
	probeDue(in)
	if res := retryWhileInFlight(in, "t", data); res.Status != falcocw.OK {
		t.Fatalf("second attempt: %s", res.Summary())
	}
	in.Close(time.Second)
	if !strings.Contains(logs.String(), "exit: 2 flushes (1 answered retry, 0 error); chunks done held 10 records: 10 Falco alerts") {
		t.Errorf("exit totals:\n%s", logs.String())
	}
}

// TestKinesisRoute: a kinesis: route through the whole flush: the alerts
// it matches arrive once each in the data stream, under the partition key
// kinesis_partition_key gives, beside the default group.
func TestKinesisRoute(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateKinesisStream("falco-mitre")
	srv.SetFaults(fakeaws.Faults{Seed: 9, RecordFailure: 0.1})
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true",
		"kinesis_partition_key", "{source}", "route.1", "tag=mitre_* -> kinesis:falco-mitre continue")
	var bodies []map[string]any
	want := 0
	for _, l := range samples.Lines("alerts.jsonl") {
		bodies = append(bodies, map[string]any{"log": l})
		if strings.Contains(l, `"mitre_`) {
			want++
		}
	}
	if res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), bodies...)); res.Status != falcocw.OK {
		t.Fatalf("%s\n%s", res.Summary(), logs)
	}
	got := srv.KinesisRecords("falco-mitre")
	if len(got) != want || want == 0 {
		t.Fatalf("%d records in the stream, want %d", len(got), want)
	}
	for _, r := range got {
		var ev map[string]any
		if err := json.Unmarshal(r.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if src, _ := ev["source"].(string); r.PartitionKey != src && !(src == "" && r.PartitionKey == "unknown") {
			t.Errorf("partition key %q for source %q", r.PartitionKey, src)
		}
	}
	if n := len(srv.Events("g", "s")); n != len(bodies) {
		t.Errorf("%d events in the default group, want %d", n, len(bodies))
	}
}
