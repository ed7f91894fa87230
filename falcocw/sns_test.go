package falcocw_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

const topic = "arn:aws:sns:eu-west-1:123456789012:falco-critical"

// TestSNSDelivery: critical alerts are published to SNS with the
// attributes subscription filter policies match on, in batches within
// PublishBatch's limits, while everything still reaches CloudWatch.
func TestSNSDelivery(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateTopic(topic)
	in, logs := newInstance(t, srv, "log_group_name", "/falco/alerts", "log_stream_name", "all", "auto_create_group", "true",
		"route.1", "priority>=Critical -> sns:"+topic+" continue")
	lines := samples.Lines("alerts.jsonl")
	var bodies []map[string]any
	critical := 0
	for _, l := range lines {
		bodies = append(bodies, map[string]any{"log": l})
		switch samples.DecodeJSON(l)["priority"] {
		case "Critical", "Alert", "Emergency":
			critical++
		}
	}
	res := in.Flush(context.Background(), "falco", samples.Chunk(chunk.FormatV2, time.Now(), bodies...))
	if res.Status != falcocw.OK {
		t.Fatalf("%s\n%s", res.Summary(), logs)
	}
	msgs := srv.Messages(topic)
	if len(msgs) != critical || len(srv.Events("/falco/alerts", "all")) != len(lines) {
		t.Fatalf("%d SNS messages (want %d), %d CloudWatch events (want %d)", len(msgs), critical, len(srv.Events("/falco/alerts", "all")), len(lines))
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Fatalf("limits broken: %v", v)
	}
	for _, m := range msgs {
		var ev map[string]any
		if err := json.Unmarshal([]byte(m.Body), &ev); err != nil {
			t.Fatalf("message is not the event JSON: %v", err)
		}
		if m.Attributes["priority"] != [2]string{"String", ev["priority"].(string)} || m.Attributes["rule"][1] != ev["rule"] {
			t.Errorf("attributes %v for %v/%v", m.Attributes, ev["priority"], ev["rule"])
		}
		if tags, ok := ev["tags"].([]any); ok && len(tags) > 0 {
			var got []any
			if m.Attributes["tags"][0] != "String.Array" || json.Unmarshal([]byte(m.Attributes["tags"][1]), &got) != nil || len(got) != len(tags) {
				t.Errorf("tags attribute %v, want %v", m.Attributes["tags"], tags)
			}
		}
		if len(m.Attributes) > 10 {
			t.Errorf("%d attributes", len(m.Attributes))
		}
	}
}

// TestSNSRetries: entries SNS fails one by one are published again, each
// exactly once, and a Fluent Bit retry after a failed topic publishes only
// what is missing.
func TestSNSRetries(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateTopic(topic)
	srv.SetFaults(fakeaws.Faults{Seed: 3, RecordFailure: 0.3})
	// destination_wait past flush_timeout: the entries' retries, with
	// their backoff, may take seconds on a loaded machine, and this test is
	// about them, not about a destination that stops answering.
	in, logs := newInstance(t, srv, "route.1", "* -> sns:"+topic, "flush_timeout", "5s", "destination_wait", "10s")
	alerts := make([]map[string]any, 200)
	for i := range alerts {
		alerts[i] = alertBody(map[string]any{"uuid": "u" + time.Duration(i).String()})
	}
	data := samples.Chunk(chunk.FormatV2, time.Now(), alerts...)
	res := in.Flush(context.Background(), "t", data)
	for tries := 0; res.Status == falcocw.Retry && tries < 5; tries++ {
		probeDue(in) // Fluent Bit's retry comes seconds later
		res = retryWhileInFlight(in, "t", data)
	}
	if res.Status != falcocw.OK {
		t.Fatalf("%s\n%s", res.Summary(), logs)
	}
	seen := map[string]int{}
	for _, m := range srv.Messages(topic) {
		var ev map[string]any
		_ = json.Unmarshal([]byte(m.Body), &ev)
		seen[ev["uuid"].(string)]++
	}
	if len(seen) != len(alerts) {
		t.Errorf("%d distinct alerts published, want %d", len(seen), len(alerts))
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("%s published %d times", u, n)
		}
	}
	if srv.Injected().RecordFailure == 0 {
		t.Error("no entry failed: the test proves nothing")
	}
}
