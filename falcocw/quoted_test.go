package falcocw_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

// TestQuotedEventsAsPlain: an alert bound for CloudWatch alone has its
// event written as a JSON string at once (Item.Quoted), one also bound for
// Firehose the plain event, escaped into the body by the sink; one over
// CloudWatch's limit is cut from the plain form. Whichever way, CloudWatch
// receives exactly the event the alert's AppendJSON writes (or JSON cuts),
// and Firehose the same bytes.
func TestQuotedEventsAsPlain(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateDeliveryStream("falco-mitre")
	in, logs := newInstance(t, srv, "log_group_name", "/falco/alerts", "log_stream_name", "all", "auto_create_group", "true",
		"route.1", "tag=mitre_* -> firehose:falco-mitre continue")
	lines := samples.Lines("alerts.jsonl")
	var huge string // an alert for CloudWatch alone, over its 256 KiB: cut from the plain form
	for _, l := range lines {
		if !strings.Contains(l, `"mitre_`) {
			huge = strings.Replace(l, `"output":"`, `"output":"`+strings.Repeat(`q\"é\\`, 70000), 1)
			break
		}
	}
	lines = append(lines, huge)
	base := time.Now()
	var bodies []map[string]any
	for _, l := range lines {
		bodies = append(bodies, map[string]any{"log": l})
	}
	if res := in.Flush(context.Background(), "falco", samples.Chunk(chunk.FormatV2, base, bodies...)); res.Status != falcocw.OK || res.Truncated != 1 {
		t.Fatalf("%s (truncated %d, want 1)\n%s", res.Summary(), res.Truncated, logs)
	}
	got := map[string]bool{}
	for _, e := range srv.Events("/falco/alerts", "all") {
		got[e.Message] = true
	}
	records := map[string]bool{}
	for _, r := range srv.Records("falco-mitre") {
		records[strings.TrimSuffix(string(r), "\n")] = true
	}
	quoted, plain := 0, 0
	for _, l := range lines {
		a, ok := falco.RecogniseLine("log", l, "log", base)
		if !ok {
			t.Fatalf("not an alert: %.100s", l)
		}
		want := a.AppendJSON(nil)
		if l == huge {
			want, _ = a.JSON(256*1024 - 26)
		}
		if !got[string(want)] {
			t.Fatalf("CloudWatch did not receive the event of %s:\n%.400s", a, want)
		}
		mitre := false
		for _, tag := range a.Tags {
			mitre = mitre || strings.HasPrefix(tag, "mitre_")
		}
		if mitre {
			plain++
			if l != huge && !records[string(want)] {
				t.Fatalf("Firehose did not receive the event of %s", a)
			}
		} else {
			quoted++
		}
	}
	if quoted < 20 || plain < 20 {
		t.Fatalf("%d alerts to CloudWatch alone, %d also to Firehose: the samples should have both", quoted, plain)
	}
}
