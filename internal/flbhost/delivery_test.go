package flbhost_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/flbhost"
	"github.com/falcocw/falcocw/internal/samples"
)

// numberedAlerts returns n Falco alerts, each a sample alert with a unique
// uuid "a-<i>", as records a parser decoded.
func numberedAlerts(n int) []map[string]any {
	lines := samples.Lines("alerts.jsonl")
	templates := make([]map[string]any, len(lines))
	for i, l := range lines {
		templates[i] = samples.DecodeJSON(l)
	}
	out := make([]map[string]any, n)
	for i := range out {
		b := make(map[string]any, len(templates[i%len(templates)])+1)
		for k, v := range templates[i%len(templates)] {
			b[k] = v
		}
		b["uuid"] = "a-" + strconv.Itoa(i)
		out[i] = b
	}
	return out
}

func chunksOf(bodies []map[string]any, size int) [][]byte {
	var out [][]byte
	var cur []byte
	base := time.Now()
	for i, b := range bodies {
		var err error
		if cur, err = chunk.Append(cur, chunk.FormatV2, base.Add(time.Duration(i)*time.Microsecond), b); err != nil {
			panic(err)
		}
		if len(cur) >= size {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// deliveryConfig routes every alert to Firehose and to a CloudWatch
// stream by source, critical ones to a third destination as well, errors
// and worse to EventBridge, Kubernetes audit alerts to Kinesis Data
// Streams, and emergencies to Security Hub.
var deliveryConfig = []string{
	"log_group_name", "/falco/alerts",
	"log_stream_name", "{source}",
	"auto_create_group", "true",
	"route.1", "* -> firehose:falco-archive continue",
	"route.2", "priority>=Critical -> cloudwatch:/falco/critical:all continue",
	"route.3", "priority>=Error -> eventbridge:falco continue",
	"route.4", "source=k8s_audit -> kinesis:falco-audit continue",
	"route.5", "priority=Emergency -> securityhub continue",
	"securityhub_account_id", fakeaws.Account,
	"flush_timeout", "2s",
	// A destination that is down is probed every 100 ms: the harness
	// flushes a chunk again after retryWait, where Fluent Bit waits 5 s
	// or more.
	"probe_interval", "100ms",
}

// retryWait is how long the harness lets pass before it flushes again
// the chunks answered FLB_RETRY, as Fluent Bit's scheduler does (from
// 5 s on, by default).
const retryWait = 150 * time.Millisecond

// expectedDestinations says, independently of falcocw, where
// deliveryConfig sends an alert.
func expectedDestinations(a map[string]any) []string {
	src, _ := a["source"].(string)
	if src == "" {
		src = "unknown"
	}
	d := []string{"firehose:falco-archive", "cloudwatch:/falco/alerts:" + src}
	switch a["priority"] {
	case "Critical", "Alert", "Emergency":
		d = append(d, "cloudwatch:/falco/critical:all")
	}
	switch a["priority"] {
	case "Error", "Critical", "Alert", "Emergency":
		d = append(d, "eventbridge:falco")
	}
	if src == "k8s_audit" {
		d = append(d, "kinesis:falco-audit")
	}
	if a["priority"] == "Emergency" {
		d = append(d, "securityhub")
	}
	return d
}

// countDeliveries returns, per destination, how many times each uuid
// arrived.
func countDeliveries(t *testing.T, srv *fakeaws.Server) map[string]map[string]int {
	t.Helper()
	got := map[string]map[string]int{}
	add := func(dest, msg string) {
		var m struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal([]byte(msg), &m); err != nil || m.UUID == "" {
			t.Fatalf("%s: event without uuid: %v %.200s", dest, err, msg)
		}
		if got[dest] == nil {
			got[dest] = map[string]int{}
		}
		got[dest][m.UUID]++
	}
	for key, events := range srv.AllEvents() {
		for _, e := range events {
			add("cloudwatch:"+key, e.Message)
		}
	}
	for name := range srv.DeliveryStreams() {
		for _, r := range srv.Records(name) {
			add("firehose:"+name, string(r))
		}
	}
	for name := range srv.KinesisStreams() {
		for _, r := range srv.KinesisRecords(name) {
			add("kinesis:"+name, string(r.Data))
		}
	}
	for name := range srv.EventBuses() {
		for _, e := range srv.BusEvents(name) {
			add("eventbridge:"+name, string(e.Detail))
		}
	}
	for _, f := range srv.Findings() { // imported n times: n copies
		pf, _ := f.Finding["ProductFields"].(map[string]any)
		for i := 0; i < f.Imports; i++ {
			add("securityhub", fmt.Sprintf(`{"uuid":%q}`, pf["falco/uuid"]))
		}
	}
	return got
}

// checkExactlyOnce compares deliveries with the expectation and returns
// the counts of lost and duplicated events.
func checkExactlyOnce(t *testing.T, alerts []map[string]any, got map[string]map[string]int) (expected, lost, dups int) {
	want := map[string]map[string]bool{}
	for _, a := range alerts {
		for _, d := range expectedDestinations(a) {
			if want[d] == nil {
				want[d] = map[string]bool{}
			}
			want[d][a["uuid"].(string)] = true
			expected++
		}
	}
	for d, uuids := range want {
		for u := range uuids {
			switch n := got[d][u]; {
			case n == 0:
				lost++
				if lost <= 5 {
					t.Errorf("%s: alert %s lost", d, u)
				}
			case n > 1:
				dups += n - 1
				if dups <= 5 {
					t.Errorf("%s: alert %s delivered %d times", d, u, n)
				}
			}
		}
	}
	for d, uuids := range got {
		for u := range uuids {
			if !want[d][u] {
				t.Errorf("%s: alert %s was not routed there", d, u)
			}
		}
	}
	return expected, lost, dups
}

// TestDeliveryUnderFaults pushes at least 100,000 uniquely numbered alerts
// through the .so, routed to two or three destinations each, while the
// endpoint throttles, fails, resets connections, answers slowly, fails
// Firehose records one by one, and loses a log group mid-run. Chunks are
// flushed by two threads at once, as with "workers 2", and every chunk
// answered FLB_RETRY is flushed again, as Fluent Bit does. Every alert must
// arrive at each of its destinations exactly once.
func TestDeliveryUnderFaults(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 20000
	}
	if s := os.Getenv("FALCOCW_DELIVERY_ALERTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	srv := verifyingServer()
	defer srv.Close()
	srv.CreateDeliveryStream("falco-archive")
	srv.CreateKinesisStream("falco-audit")
	srv.CreateEventBus("falco")
	h := startHost(t)
	id, ret, err := h.Init(props(append([]string{"endpoint", srv.URL}, deliveryConfig...)...))
	if err != nil || ret != flbhost.FLBOK {
		t.Fatalf("init %d %v\n%s", ret, err, h.Log())
	}
	alerts := numberedAlerts(n)
	pending := chunksOf(alerts, 256*1024)
	chunks := len(pending)
	// The endpoint is down for the first 3 s after it answered its first
	// request "down" (so the first flushes answer FLB_RETRY and come back,
	// as in an outage; the host may take seconds to hand the chunks over
	// on a loaded machine), then misbehaves at random: slow answers of
	// 4.5 s outlast the 2 s destination_wait, and are recorded when they
	// come.
	srv.SetFaults(fakeaws.Faults{Down: true})
	outageDone := make(chan struct{})
	defer close(outageDone)
	go func() {
		for end := time.Now().Add(60 * time.Second); srv.Injected().Down == 0 && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
		select {
		case <-time.After(3 * time.Second):
		case <-outageDone:
			return
		}
		srv.SetFaults(fakeaws.Faults{Seed: 7, Throttle: 0.05, ServerError: 0.03, Reset: 0.02, Slow: 0.005,
			SlowDelay: 4500 * time.Millisecond, RecordFailure: 0.05})
	}()
	start := time.Now()
	flushes, retries := flushUntilDone(t, h, id, pending, 60, func(round int) {
		if round == 1 {
			srv.DeleteLogGroup("/falco/alerts") // an operator deletes it while Fluent Bit runs
		}
	})
	elapsed := time.Since(start)
	if _, err := h.Exit(); err != nil {
		t.Error(err)
	}
	got := countDeliveries(t, srv)
	expected, lost, dups := checkExactlyOnce(t, alerts, got)
	f := srv.Injected()
	t.Logf("alerts sent: %d in %d chunks; flushes: %d; FLB_RETRY answers: %d; time: %s", n, chunks, flushes, retries, elapsed.Round(time.Millisecond))
	for d, m := range got {
		t.Logf("delivered to %s: %d", d, len(m))
	}
	t.Logf("expected deliveries: %d; lost: %d; duplicates: %d", expected, lost, dups)
	t.Logf("faults injected: down %d, throttled %d, 500s %d, connection resets %d, slow answers %d, Firehose record failures %d",
		f.Down, f.Throttle, f.ServerError, f.Reset, f.Slow, f.RecordFailure)
	t.Logf("API limit violations: %d", len(srv.Violations()))
	if len(srv.Violations()) > 0 {
		t.Errorf("API limits broken: %v", srv.Violations()[:1])
	}
	if f.Down == 0 || f.Throttle == 0 || f.ServerError == 0 || f.Reset == 0 || f.RecordFailure == 0 || retries == 0 || n >= 100000 && f.Slow == 0 {
		t.Errorf("the run did not exercise every fault and a retry: %+v, %d retries", f, retries)
	}
	if !strings.Contains(h.Log(), "exit:") {
		t.Errorf("no exit summary in the log")
	}
	if srv.Verified() == 0 { // every accepted request was signed right, retries included
		t.Errorf("no request had its signature verified")
	}
}

// flushUntilDone flushes the chunks two at a time, as "workers 2" does,
// and flushes again those answered FLB_RETRY after retryWait, as Fluent
// Bit's scheduler does, until all answered FLB_OK (FLB_ERROR fails the
// test: no data here is undeliverable), for at most rounds rounds; after
// is called after each round. It returns the flushes and the retries.
func flushUntilDone(t *testing.T, h *flbhost.Host, id int, pending [][]byte, rounds int, after func(round int)) (flushes, retries int) {
	t.Helper()
	for round := 1; len(pending) > 0; round++ {
		if round > rounds {
			t.Fatalf("%d chunks still answered FLB_RETRY after %d rounds\n%.3000s", len(pending), rounds, h.Log())
		}
		codes, err := h.FlushParallel(id, "falco", 2, pending)
		if err != nil {
			t.Fatal(err)
		}
		flushes += len(codes)
		var again [][]byte
		for i, c := range codes {
			switch c {
			case flbhost.FLBOK:
			case flbhost.FLBRetry:
				again = append(again, pending[i])
			default:
				t.Fatalf("chunk answered %d: no data here is undeliverable\n%.3000s", c, h.Log())
			}
		}
		retries += len(again)
		pending = again
		if after != nil {
			after(round)
		}
		if len(pending) > 0 {
			time.Sleep(retryWait)
		}
	}
	return flushes, retries
}

// TestEndpointDown: while the endpoint is down for longer than the flush
// deadline, flushes answer FLB_RETRY promptly; once it is back, the retried
// chunks deliver everything, once.
func TestEndpointDown(t *testing.T) {
	srv := verifyingServer()
	defer srv.Close()
	srv.CreateDeliveryStream("falco-archive")
	srv.CreateKinesisStream("falco-audit")
	srv.CreateEventBus("falco")
	h := startHost(t)
	id, ret, err := h.Init(props(append([]string{"endpoint", srv.URL}, deliveryConfig...)...))
	if err != nil || ret != flbhost.FLBOK {
		t.Fatalf("init %d %v", ret, err)
	}
	alerts := numberedAlerts(3000)
	pending := chunksOf(alerts, 64*1024)
	srv.SetFaults(fakeaws.Faults{Down: true})
	downUntil := time.Now().Add(6 * time.Second)
	for time.Now().Before(downUntil) {
		start := time.Now()
		codes, err := h.FlushParallel(id, "falco", 2, pending[:2])
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("two flushes took %s with a 2s flush_timeout", d)
		}
		for _, c := range codes {
			if c != flbhost.FLBRetry {
				t.Fatalf("endpoint down: answered %d, want FLB_RETRY", c)
			}
		}
	}
	srv.SetFaults(fakeaws.Faults{})
	time.Sleep(retryWait)
	flushUntilDone(t, h, id, pending, 60, nil) // requests of the outage may still be in flight for a few seconds
	expected, lost, dups := checkExactlyOnce(t, alerts, countDeliveries(t, srv))
	t.Logf("endpoint down 6s: expected %d deliveries, lost %d, duplicates %d", expected, lost, dups)
	fmt.Fprint(os.Stderr)
}
