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
	"github.com/falcocw/falcocw/falcocw/pace"
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

// TestRiderSeesTheCall: with adaptive_pace, a flush whose findings join a
// call another flush opened waits for that call, so its own count of the
// destination's silence (destination_wait) follows the call's attempts: a
// call Security Hub leaves unanswered is silence for both flushes, not
// only for the one that opened it, which would otherwise hold the
// other's Fluent Bit worker until flush_timeout.
func TestRiderSeesTheCall(t *testing.T) {
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	const hang = 1500 * time.Millisecond
	srv.SetFault(func(op string, _ []byte) (int, string) {
		if op == "BatchImportFindings" {
			time.Sleep(hang) // unanswered for a while, then imported
		}
		return 0, ""
	})
	s := newSink(t, srv, securityhub.Options{AccountID: fakeaws.Account, Region: "eu-west-1"})
	// A pace of 1.4 calls a second: the first call waits about 0.7 s for
	// its turn, while the second flush's findings join it.
	l := pace.New()
	now := time.Now()
	l.Reserve(now, time.Time{})
	l.Reserve(now, time.Time{})
	l.Throttled(now, now)
	target := route.Target{Kind: securityhub.Kind}
	tracks := []*pace.Track{{}, {}}
	outcomes := make([]dest.Outcome, 2)
	var wg sync.WaitGroup
	for i, k := range tracks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &falco.Alert{Time: time.Now(), Rule: "R", Priority: falco.PriorityCritical, Hostname: "h", Output: fmt.Sprint("flush ", i)}
			reqs := s.Batches(dest.Flush{Now: time.Now(), Adjusted: func(int, string, ...any) {}}, target, []dest.Item{{ID: 0, Time: a.Time, Alert: a}})
			ctx := pace.With(awsclient.WithStartBy(context.Background(), time.Now().Add(30*time.Second)), l, k)
			outcomes[i] = s.Send(ctx, target, reqs[0])
			pace.From(ctx).Done()
		}()
		time.Sleep(100 * time.Millisecond) // the first opens the call; the second joins it
	}
	const wait = 300 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	for {
		if silent, _ := tracks[0].Silent(time.Now(), wait); silent {
			break // the opener's call is unanswered for the wait
		}
		if time.Now().After(deadline) {
			t.Fatal("the opener's call never went unanswered for the wait")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if silent, _ := tracks[1].Silent(time.Now(), wait); !silent {
		t.Error("the call carrying the second flush's findings is unanswered, and that flush does not see it")
	}
	wg.Wait()
	for i, o := range outcomes {
		if o.Err != nil || len(o.Accepted) != 1 {
			t.Errorf("flush %d: %+v", i, o)
		}
	}
	if n := srv.Calls()["BatchImportFindings"]; n != 1 {
		t.Errorf("%d calls, want the second flush's findings in the first's call", n)
	}
}
