package falcocw

import (
	"context"
	"time"

	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/falcocw/storm"
)

// addSummaries takes the storm summaries whose windows ended before now
// and adds them to the plan.
func (in *Instance) addSummaries(res *Result, p *plan, now time.Time) []storm.Summary {
	summaries := in.storm.Take(now)
	for i, sm := range summaries {
		e := (&encoded{alert: sm.Alert, full: sm.Alert.AppendJSON(nil)}).as(sm.Format)
		in.addItem(res, p, sm.Target, summaryBase+i, e, sm.Alert.Time)
	}
	return summaries
}

// settleSummaries gives the summaries no destination accepted back to the
// gate, takes all summaries out of accepted (they are not the chunk's, so
// not the ledger's), and returns how many were delivered.
func (in *Instance) settleSummaries(summaries []storm.Summary, accepted map[string][]int) int {
	if len(summaries) == 0 {
		return 0
	}
	var again []storm.Summary
	for i, sm := range summaries {
		dest := sm.Target.String()
		if !containsID(accepted[dest], summaryBase+i) {
			again = append(again, sm)
		}
		accepted[dest] = removeIDsFrom(accepted[dest], summaryBase)
	}
	if len(again) > 0 {
		in.storm.Requeue(again)
	}
	return len(summaries) - len(again)
}

// closeStorms ends every storm window at exit and delivers the summaries
// waiting, within ctx; it returns what it did.
func (in *Instance) closeStorms(ctx context.Context) Result {
	res := Result{Delivered: map[string]int{}, Undelivered: map[string]int{}}
	p := plan{index: map[route.Target]int{}}
	summaries := in.addSummaries(&res, &p, in.now().Add(100*365*24*time.Hour)) // every window ends
	late := &lateWork{}
	accepted := in.deliver(ctx, &res, &p, late)
	in.logNotes(&p.notes)
	late.wg.Wait() // ctx bounds it
	p.releaseRequests()
	res.Summaries = in.settleSummaries(summaries, accepted)
	if res.retry {
		res.Status = Retry
	}
	return res
}

// containsID reports whether ids holds id.
func containsID(ids []int, id int) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// removeIDsFrom drops ids at or above base (storm summaries) from ids.
func removeIDsFrom(ids []int, base int) []int {
	out := ids[:0]
	for _, id := range ids {
		if id < base {
			out = append(out, id)
		}
	}
	return out
}
