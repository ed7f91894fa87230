package falcocw

import (
	"context"
	"fmt"
	"sync"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/awserr"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// call is one API request: a batch for one target.
type call struct {
	target route.Target
	sender dest.Sender
	req    dest.Request
}

// deliver has each target's sender cut its events into requests and sends
// them all, with at most max_concurrency requests in flight, so one slow
// destination does not hold up the others. It returns the ids each
// destination accepted.
func (in *Instance) deliver(ctx context.Context, res *Result, p *plan) map[string][]int {
	var calls []call
	type release struct {
		to   dest.Releaser
		reqs []dest.Request
	}
	var releases []release
	defer func() { // every call has returned (wg.Wait below): nothing reads the requests
		for _, r := range releases {
			r.to.Release(r.reqs)
		}
	}()
	now := in.now()
	warn := func(format string, args ...any) { in.logf(config.LevelWarn, format, args...) }
	for i, t := range p.order {
		sender := in.sender(t.Kind)
		reqs, adjusted := sender.Batches(t, p.items[i], now, warn)
		res.Clamped += adjusted
		for _, r := range reqs {
			calls = append(calls, call{target: t, sender: sender, req: r})
		}
		if r, ok := sender.(dest.Releaser); ok {
			releases = append(releases, release{r, reqs})
		}
	}

	accepted := map[string][]int{}
	failed := map[route.Target][]error{}
	// byID finds the item an event came from, to name it in an error; the
	// index is built on the first error (under mu), not for every flush.
	var index map[route.Target]map[int]dest.Item
	byID := func(t route.Target, id int) dest.Item {
		if index == nil {
			index = map[route.Target]map[int]dest.Item{}
		}
		ids, ok := index[t]
		if !ok {
			items := p.items[p.index[t]]
			ids = make(map[int]dest.Item, len(items))
			for _, it := range items {
				ids[it.ID] = it
			}
			index[t] = ids
		}
		return ids[id]
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, in.cfg.MaxConcurrency)
	for _, c := range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx := awsclient.WithAttemptErrors(ctx)
			// Past flush_timeout, the SDK's retryer refuses to start the
			// request (awsclient.WithStartBy): it fails at once.
			o := c.sender.Send(ctx, c.target, c.req)
			mu.Lock()
			defer mu.Unlock()
			name := c.target.String()
			accepted[name] = append(accepted[name], o.Accepted...)
			res.Delivered[name] += len(o.Accepted)
			if len(o.Rejected) > 0 {
				res.Status = Error
				res.Undelivered[name] += len(o.Rejected)
				for _, r := range o.Rejected {
					in.note(&p.notes, config.LevelError, "event refused by "+name+" for good, not delivered",
						func() string { return byID(c.target, r.ID).Describe() + ": " + r.Reason })
					// Rejected events can never be delivered: remember
					// them as done so a retry for another reason skips them.
					accepted[name] = append(accepted[name], r.ID)
				}
			}
			if o.Err != nil {
				res.Undelivered[name] += len(o.Failed)
				failed[c.target] = append(failed[c.target], o.Err)
				if awserr.Permanent(o.Err) {
					res.Status = Error
					for _, id := range o.Failed {
						in.note(&p.notes, config.LevelError, "not delivered to "+name+" (AWS refused the request for good)",
							func() string { return byID(c.target, id).Describe() + ": " + o.Err.Error() })
					}
				} else {
					res.retry = true
				}
			}
		}()
	}
	wg.Wait()
	for i, t := range p.order {
		errs := failed[t]
		if len(errs) == 0 {
			continue
		}
		note := fmt.Sprintf("%s: %d of %d events not delivered: %v", t, res.Undelivered[t.String()], len(p.items[i]), errs[0])
		if len(errs) > 1 {
			note += fmt.Sprintf(" (and %d more failed requests)", len(errs)-1)
		}
		if awserr.Permanent(errs[0]) {
			note += " (AWS rejected the data: it will not be retried)"
		}
		res.Failures = append(res.Failures, note)
	}
	return accepted
}
