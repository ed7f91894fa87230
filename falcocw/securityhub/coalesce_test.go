package securityhub_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/falcocw/securityhub"
	"github.com/falcocw/falcocw/internal/fakeaws"
)

// TestFlushesShareCalls: 8 workers flush 300 times 4 findings each, side
// by side, against Security Hub's quota of 10 calls a second with bursts
// of 30 (the fake enforces it): calls that wait for their turn take the
// findings of the flushes that come meanwhile, so that the 1,200 findings
// need far fewer calls than the 300 flushes; every finding is imported
// once, and each flush hears of its own findings only. (A call a flush,
// measured before calls gathered findings: 300 calls, 271 throttled, 27 s.)
func TestFlushesShareCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 4 s")
	}
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	srv.SetQuota("BatchImportFindings", fakeaws.Quota{Rate: securityhub.CallsPerSecond, Burst: securityhub.CallBurst})
	s := newSink(t, srv, securityhub.Options{AccountID: fakeaws.Account, Region: "eu-west-1"})
	const workers, flushes, per = 8, 300, 4
	target := route.Target{Kind: securityhub.Kind}
	var mu sync.Mutex
	accepted := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	next := make(chan int)
	go func() {
		for i := 0; i < flushes; i++ {
			next <- i
		}
		close(next)
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				var items []dest.Item
				for i := 0; i < per; i++ { // IDs 0..per-1 in every flush, as the flushes' own
					a := &falco.Alert{Time: time.Now(), Rule: "R", Priority: falco.PriorityCritical, Hostname: "h",
						Output: fmt.Sprintf("flush %d alert %d", n, i)}
					items = append(items, dest.Item{ID: i, Time: a.Time, Alert: a})
				}
				reqs := s.Batches(dest.Flush{Now: time.Now(), Adjusted: func(int, string, ...any) {}}, target, items)
				ctx := awsclient.WithStartBy(context.Background(), time.Now().Add(60*time.Second))
				for _, r := range reqs {
					o := s.Send(ctx, target, r)
					if o.Err != nil || len(o.Rejected) > 0 || len(o.Failed) > 0 {
						t.Errorf("flush %d: %+v", n, o)
					}
					mu.Lock()
					for _, id := range o.Accepted {
						if id < 0 || id >= per {
							t.Errorf("flush %d: accepted ID %d is not one of its own", n, id)
						}
						accepted[fmt.Sprint(n, "/", id)]++
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	for n := 0; n < flushes; n++ {
		for i := 0; i < per; i++ {
			if c := accepted[fmt.Sprint(n, "/", i)]; c != 1 {
				t.Errorf("flush %d finding %d accepted %d times", n, i, c)
			}
		}
	}
	if got := len(srv.Findings()); got != flushes*per {
		t.Errorf("%d findings imported, want %d", got, flushes*per)
	}
	q := srv.QuotaCounts("BatchImportFindings")
	t.Logf("%d flushes of %d findings from %d workers: %d calls (%.1f findings a call), %d throttled, in %v",
		flushes, per, workers, q.Accepted, float64(flushes*per)/float64(max(q.Accepted, 1)), q.Throttled, took.Round(time.Millisecond))
	// One call a flush would be 300 calls, 27 s at the quota. Calls that
	// waited gathered 8 flushes' findings at most (8 workers).
	if q.Accepted > flushes/3 {
		t.Errorf("%d calls for %d flushes: the flushes waiting for a turn did not share calls", q.Accepted, flushes)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("limits broken: %v", v)
	}
}
