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
