package falcocw_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

// TestAdaptivePace: four flushes at a time against a Firehose stream whose
// quota takes 4 calls a second. With adaptive_pace, the instance learns
// the pace from the throttles and makes far fewer throttled calls than it
// does without; a paced destination is never marked down, and every
// alert arrives once either way.
func TestAdaptivePace(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s at a quota of 4 calls a second")
	}
	run := func(adaptive string) (fakeaws.QuotaCounts, string) {
		srv := fakeaws.New()
		defer srv.Close()
		srv.CreateDeliveryStream("archive")
		srv.SetQuota("PutRecordBatch", fakeaws.Quota{Rate: 4, Burst: 4})
		// destination_wait past the longest turn waited (half of it) plus
		// the SDK's last backoff (2 s): a request's retries may wait for a
		// turn more than once.
		in, logs := newInstance(t, srv, "route.1", "* -> firehose:archive", "adaptive_pace", adaptive, "flush_timeout", "5s", "destination_wait", "10s")
		defer in.Close(5 * time.Second)
		const chunks, perChunk = 24, 5
		var wg sync.WaitGroup
		work := make(chan int, chunks)
		for c := 0; c < chunks; c++ {
			work <- c
		}
		close(work)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range work {
					bodies := make([]map[string]any, perChunk)
					for j := range bodies {
						bodies[j] = alertBody(map[string]any{"uuid": fmt.Sprint("u", c*perChunk+j)})
					}
					data := samples.Chunk(chunk.FormatV2, time.Now(), bodies...)
					for tries := 0; ; tries++ {
						res := in.Flush(context.Background(), "t", data)
						if res.Status == falcocw.OK {
							break
						}
						if tries > 60 {
							t.Errorf("chunk %d: %s", c, res.Summary())
							return
						}
						time.Sleep(500 * time.Millisecond) // Fluent Bit's retry, soon
					}
				}
			}()
		}
		wg.Wait()
		if n := len(srv.Records("archive")); n != chunks*perChunk {
			t.Errorf("adaptive_pace %s: %d records, want %d", adaptive, n, chunks*perChunk)
		}
		return srv.QuotaCounts("PutRecordBatch"), logs.String()
	}
	paced, logs := run("true")
	if strings.Contains(logs, "is down") {
		t.Errorf("a paced destination was marked down:\n%s", logs)
	}
	unpaced, _ := run("false")
	t.Logf("throttled/accepted calls: %d/%d paced, %d/%d without", paced.Throttled, paced.Accepted, unpaced.Throttled, unpaced.Accepted)
	if paced.Throttled*2 > unpaced.Throttled {
		t.Errorf("paced: %d throttled calls; without the pace %d", paced.Throttled, unpaced.Throttled)
	}
}

// TestPacedFlushTakesItsTurns: a flush whose Firehose calls a quota of 2
// calls a second (burst 1) cannot take at once sends them at the pace it
// learns, each at its turn, within the flush: it answers OK with every
// record delivered once, where waiting for turns past destination_wait
// (300 ms here) would have counted the destination down or handed the
// calls back to Fluent Bit's retry.
func TestPacedFlushTakesItsTurns(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds at a quota of 2 calls a second")
	}
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateDeliveryStream("archive")
	srv.SetQuota("PutRecordBatch", fakeaws.Quota{Rate: 2, Burst: 1})
	in, logs := newInstance(t, srv, "route.1", "* -> firehose:archive", "adaptive_pace", "true",
		"flush_timeout", "20s", "destination_wait", "300ms")
	defer in.Close(5 * time.Second)
	const alerts = 3000 // six calls of 500 records
	bodies := make([]map[string]any, alerts)
	for j := range bodies {
		bodies[j] = alertBody(map[string]any{"uuid": fmt.Sprint("u", j)})
	}
	start := time.Now()
	res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), bodies...))
	took := time.Since(start)
	q := srv.QuotaCounts("PutRecordBatch")
	t.Logf("%s in %v; %d calls accepted, %d throttled", res.Summary(), took.Round(10*time.Millisecond), q.Accepted, q.Throttled)
	if res.Status != falcocw.OK {
		t.Errorf("the flush answered %v, want OK: %s\n%s", res.Status, res.Summary(), logs)
	}
	if n := len(srv.Records("archive")); n != alerts {
		t.Errorf("%d records stored, want %d", n, alerts)
	}
	if strings.Contains(logs.String(), "is down") {
		t.Errorf("a paced destination was marked down:\n%s", logs)
	}
	if q.Accepted < 6 || took < 2*time.Second {
		t.Errorf("%d calls accepted in %v: the quota (2 a second, burst 1) cannot take six calls in under 2.5 s", q.Accepted, took)
	}
}
