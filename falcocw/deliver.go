package falcocw

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/awserr"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/health"
	"github.com/falcocw/falcocw/falcocw/ledger"
	"github.com/falcocw/falcocw/falcocw/pace"
	"github.com/falcocw/falcocw/falcocw/route"
)

// call is one API request: a batch for one target.
type call struct {
	target route.Target
	sender dest.Sender
	req    dest.Request
}

// share is one destination's part of a flush: its calls, in order, and
// the targets they go to.
type share struct {
	dest    *health.Dest
	calls   []call
	targets []route.Target
}

// answer is a call's outcome.
type answer struct {
	c *call
	o dest.Outcome
}

// lateWork is what requests that outlive their flush need: the chunk's
// ledger key, to record their answers where a retry of the chunk finds
// them, the records' hashes for the journal, and a count of them, so that
// the flush's memory is released only when the last one is answered.
type lateWork struct {
	key    func() ledger.Key // nil: not a chunk (storm summaries at exit)
	hashes []uint64
	wg     sync.WaitGroup
	any    atomic.Bool // some request goes on after the flush
}

// delivery is one flush's sending.
type delivery struct {
	in       *Instance
	res      *Result
	p        *plan
	late     *lateWork
	mu       sync.Mutex
	accepted map[string][]int
	failed   map[route.Target][]error
	index    map[route.Target]map[int]dest.Item
}

// deliver has each target's sender cut its events into requests and sends
// them, each destination (kind and name) on its own: with its own slots
// for requests in flight (max_concurrency), waited for only while it
// answers (destination_wait), and not at all while it is down (package
// health), so that a slow or failing destination never delays another. A
// destination's events that are not delivered go back to Fluent Bit's
// retry; requests still in flight when the flush stops waiting go on, and
// their answers are recorded in the ledger (lateWork). It returns the ids
// each destination accepted.
func (in *Instance) deliver(rctx context.Context, res *Result, p *plan, lw *lateWork) map[string][]int {
	now := in.now()
	f := dest.Flush{Now: now, Adjusted: func(n int, format string, args ...any) {
		res.Adjusted += n
		in.logf(config.LevelWarn, format, args...)
	}}
	var shares []*share
	byDest := map[*health.Dest]*share{}
	for i, t := range p.order {
		sender := in.sender(t.Kind)
		reqs := sender.Batches(f, t, p.items[i])
		p.releases = append(p.releases, release{sender, reqs})
		d := in.health.Get(string(t.Kind) + ":" + t.Name)
		s := byDest[d]
		if s == nil {
			s = &share{dest: d}
			byDest[d] = s
			shares = append(shares, s)
		}
		s.targets = append(s.targets, t)
		for _, r := range reqs {
			s.calls = append(s.calls, call{target: t, sender: sender, req: r})
		}
	}

	dl := &delivery{in: in, res: res, p: p, late: lw, accepted: map[string][]int{}, failed: map[route.Target][]error{}}
	var wg sync.WaitGroup
	for _, s := range shares {
		switch s.dest.Admit(now) {
		case health.HandBack: // down: no request, and no wait
			n := dl.pending(s)
			s.dest.HandBack(n)
			dl.mu.Lock() // the shares started before write res too
			res.retry = true
			res.HandedBack += n
			dl.mu.Unlock()
			continue
		case health.Probe:
			wg.Add(1)
			go func() { defer wg.Done(); dl.run(rctx, s, true) }()
		default:
			wg.Add(1)
			go func() { defer wg.Done(); dl.run(rctx, s, false) }()
		}
	}
	wg.Wait()

	for i, t := range p.order {
		name := t.String()
		if n := len(p.items[i]) - len(dl.accepted[name]); n > 0 {
			res.Undelivered[name] += n
		}
		errs := dl.failed[t]
		if len(errs) == 0 {
			continue
		}
		note := fmt.Sprintf("%s: %d of %d events not delivered: %v", t, res.Undelivered[name], len(p.items[i]), errs[0])
		if len(errs) > 1 {
			note += fmt.Sprintf(" (and %d more failed requests)", len(errs)-1)
		}
		if awserr.Permanent(errs[0]) {
			note += " (AWS rejected the data: it will not be retried)"
		}
		res.Failures = append(res.Failures, note)
	}
	return dl.accepted
}

// pending counts the events of s's targets not accepted yet.
func (dl *delivery) pending(s *share) int {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	n := 0
	for _, t := range s.targets {
		n += len(dl.p.items[dl.p.index[t]]) - len(dl.accepted[t.String()])
	}
	return n
}

// run sends one destination's calls, as many at once as its slots allow.
// It waits while the destination answers: once a request fails (after
// the SDK's retries) or none is answered within destination_wait, the
// destination is down, the calls not started go back to Fluent Bit's
// retry, and those in flight go on without the flush (lateWork). A probe
// sends the first call alone and the others only once it is accepted.
func (dl *delivery) run(rctx context.Context, s *share, probe bool) {
	in, d := dl.in, s.dest
	answers := make(chan answer, len(s.calls))
	wait := in.cfg.DestinationWait
	timer := time.NewTimer(wait)
	defer timer.Stop()
	next, out, delivered := 0, 0, 0
	var failure error
	expired, answered := false, false
	// adaptive_pace: requests start at the pace AWS's throttles set, each
	// at its turn until the flush's deadline (flush_timeout); a turn later
	// than that hands the events back to Fluent Bit's retry, without a
	// destination down. Waiting for turns is not silence: destination_wait
	// counts only while an attempt is unanswered (pace.Track).
	var lim *pace.Limiter
	var track *pace.Track
	if in.cfg.AdaptivePace {
		lim, track = d.Pace, &pace.Track{}
	}
	for {
		for failure == nil && next < len(s.calls) && !(probe && next > 0) {
			if out == 0 {
				if !d.Acquire(timer.C) { // every slot held by other flushes' requests
					expired = true
					break
				}
			} else if !d.TryAcquire() {
				break
			}
			c := &s.calls[next]
			next++
			out++
			go func() {
				ctx := pace.With(awsclient.WithAttemptErrors(rctx), lim, track)
				o := c.sender.Send(ctx, c.target, c.req)
				d.Release()
				answers <- answer{c, o}
				if t := pace.From(ctx); t != nil {
					t.Done() // after the answer is in the channel: no gap in which the flush sees neither
				}
			}()
		}
		if out == 0 || expired {
			break
		}
		select {
		case a := <-answers:
			out--
			delivered += len(a.o.Accepted)
			if err := dl.take(a); err != nil {
				failure = err
			} else {
				answered, probe = true, false
			}
			timer.Reset(wait) // go 1.23 timers: no stale expiry is received after Reset
		case <-timer.C:
			if len(answers) > 0 { // an answer came with the expiry: select chose at random
				timer.Reset(wait)
				continue
			}
			if silent, left := track.Silent(time.Now(), wait); !silent {
				timer.Reset(left) // paced: the requests wait for their turns
				continue
			}
			expired = true
		}
		if expired {
			break
		}
	}
	now := in.now()
	if out > 0 {
		dl.goOn(s, answers, out)
	}
	notDone := dl.pending(s)
	var change health.Change
	switch {
	case failure != nil && awsclient.Throttled(failure) && !expired:
		// AWS throttled it until the deadline: it answers, at a rate; its
		// events go back to Fluent Bit's retry without a destination down.
		change = d.Accepted(now, delivered)
	case expired:
		what := fmt.Sprintf("no answer within destination_wait (%s); the requests in flight go on and their answers are kept", wait)
		if failure != nil {
			what = failure.Error()
		}
		change = d.Failed(now, notDone, what)
	case failure != nil:
		change = d.Failed(now, notDone, failure.Error())
	case answered:
		change = d.Accepted(now, delivered)
	}
	in.logChange(d, change)
	dl.mu.Lock()
	defer dl.mu.Unlock()
	dl.res.retry = dl.res.retry || notDone > 0
	dl.res.wentDown = dl.res.wentDown || change.Down
}

// take records a call's outcome in the flush; it returns the call's
// error when a later attempt may cure it.
func (dl *delivery) take(a answer) error {
	in, o := dl.in, a.o
	dl.mu.Lock()
	defer dl.mu.Unlock()
	name := a.c.target.String()
	res := dl.res
	dl.accepted[name] = append(dl.accepted[name], o.Accepted...)
	res.Delivered[name] += len(o.Accepted)
	if len(o.Rejected) > 0 {
		res.Status = Error
		for _, r := range o.Rejected {
			in.note(&dl.p.notes, config.LevelError, "event refused by "+name+" for good, not delivered",
				func() string { return dl.byID(a.c.target, r.ID).Describe() + ": " + r.Reason })
			// Rejected events can never be delivered: remember
			// them as done so a retry for another reason skips them.
			dl.accepted[name] = append(dl.accepted[name], r.ID)
		}
	}
	if o.Err == nil {
		return nil
	}
	dl.failed[a.c.target] = append(dl.failed[a.c.target], o.Err)
	if !awserr.Permanent(o.Err) {
		return o.Err
	}
	res.Status = Error
	for _, id := range o.Failed {
		in.note(&dl.p.notes, config.LevelError, "not delivered to "+name+" (AWS refused the request for good)",
			func() string { return dl.byID(a.c.target, id).Describe() + ": " + o.Err.Error() })
		dl.accepted[name] = append(dl.accepted[name], id) // never to be sent again
	}
	return nil
}

// byID finds the item an event came from, to name it in an error; the
// index is built on the first error (under mu), not for every flush.
func (dl *delivery) byID(t route.Target, id int) dest.Item {
	if dl.index == nil {
		dl.index = map[route.Target]map[int]dest.Item{}
	}
	ids, ok := dl.index[t]
	if !ok {
		items := dl.p.items[dl.p.index[t]]
		ids = make(map[int]dest.Item, len(items))
		for _, it := range items {
			ids[it.ID] = it
		}
		dl.index[t] = ids
	}
	return ids[id]
}

// goOn lets the out calls of s still in flight finish without the flush:
// their events are marked in flight in the ledger (a retry of the chunk
// neither resends nor counts them), and their answers, when they come,
// are recorded there and in the journal.
func (dl *delivery) goOn(s *share, answers <-chan answer, out int) {
	lw := dl.late
	type begun struct {
		dest string
		ids  []int
	}
	var marks []begun
	var key ledger.Key
	if lw.key != nil {
		dl.mu.Lock() // also keeps two destinations' goOn from computing the key at once
		key = lw.key()
		for _, t := range s.targets {
			name := t.String()
			done := map[int]bool{}
			for _, id := range dl.accepted[name] {
				done[id] = true
			}
			var ids []int
			for _, it := range dl.p.items[dl.p.index[t]] {
				if !done[it.ID] && it.ID < reportBase { // the chunk's records, not the flush's own metric records or summaries
					ids = append(ids, it.ID)
				}
			}
			marks = append(marks, begun{name, ids})
		}
		dl.mu.Unlock()
		for _, m := range marks {
			dl.in.ledger.Begin(key, m.dest, m.ids)
		}
	}
	lw.wg.Add(1)
	lw.any.Store(true)
	go func() {
		defer lw.wg.Done()
		in, d := dl.in, s.dest
		done := map[string][]int{}
		delivered := 0
		for ; out > 0; out-- {
			a := <-answers
			name := a.c.target.String()
			done[name] = append(done[name], a.o.Accepted...)
			delivered += len(a.o.Accepted)
			for _, r := range a.o.Rejected {
				done[name] = append(done[name], r.ID)
				in.logf(config.LevelError, "record %d of a chunk refused by %s for good, not delivered (its answer came after the flush): %s", r.ID, name, r.Reason)
			}
			if a.o.Err != nil && awserr.Permanent(a.o.Err) {
				done[name] = append(done[name], a.o.Failed...)
				in.logf(config.LevelError, "%d records of a chunk not delivered to %s (AWS refused the request for good; its answer came after the flush): %v", len(a.o.Failed), name, a.o.Err)
			}
		}
		// An answer after the wait leaves the destination down: the next
		// probe answered in time brings it back.
		in.stats.Delivered.Add(int64(delivered))
		d.Late(delivered)
		if lw.key == nil {
			return
		}
		for _, m := range marks {
			in.ledger.Settle(key, m.dest, m.ids, removeIDsFrom(done[m.dest], reportBase))
		}
		if in.journal != nil {
			in.writeJournal(done, lw.hashes)
		}
		in.logf(config.LevelDebug, "%s answered after the flush stopped waiting: %d events accepted, recorded for the chunk's retry", d.Name, delivered)
	}()
}

// logChange logs a destination going down or coming back, once.
func (in *Instance) logChange(d *health.Dest, c health.Change) {
	switch {
	case c.Down:
		in.logf(config.LevelWarn, "%s is down: %s. Its events go back to Fluent Bit's retry without waiting, and one request every %s tests it; "+
			"the other destinations are not affected", d.Name, c.Err, d.ProbeInterval())
	case c.Up:
		in.logf(config.LevelInfo, "%s is back after %s down; %d events went back to Fluent Bit's retry meanwhile and are being delivered",
			d.Name, c.For.Round(time.Millisecond), c.Waited)
	}
}
