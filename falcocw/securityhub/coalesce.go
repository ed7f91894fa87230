package securityhub

import (
	"context"
	"slices"
	"sync"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/pace"
)

// Security Hub's quota counts calls, not findings: 10 calls a second for
// the whole account and Region, whether a call holds 1 finding or 100.
// One instance's flushes run side by side (workers), and each used to make
// its own call; a call now gathers the findings of the flushes that come
// while it waits for its turn (the pacer's, and the destination's learned
// pace), up to BatchImportFindings' limits, so that a quota that is
// binding serves findings, not calls. While turns come at once nothing
// waits, and each flush still calls at once.

// call is one BatchImportFindings call being formed: the findings of the
// flush that opened it and of those that joined while it waited.
type call struct {
	findings []Finding            // the flushes' findings, their IDs this call's positions
	ids      map[string]bool      // the ASFF Ids in the call: a finding is in a call once
	bytes    int                  // the findings' size in the request
	done     chan struct{}        // closed with the outcome below
	accepted []int                // positions
	rejected []awsclient.Rejected // by position
	err      error
	noTurn   bool         // the opener's turn did not come in time: nothing was sent
	ticket   *pace.Ticket // the opener's request's, at its destination's pace (nil: none)
}

// joins are the calls being formed, one open at a time.
type joins struct {
	mu   sync.Mutex
	open *call
}

// add appends findings to c, renumbered by their position in the call,
// and returns where they start.
func (c *call) add(findings []Finding) int {
	at := len(c.findings)
	for i, f := range findings {
		f.ID = at + i
		c.findings = append(c.findings, f)
		c.ids[f.FindingID] = true
		c.bytes += f.Size() + 1
	}
	return at
}

// fits reports whether findings can join c within a call's limits, none
// of them in it already.
func (c *call) fits(findings []Finding) bool {
	if len(c.findings)+len(findings) > MaxBatchFindings {
		return false
	}
	n := c.bytes
	for _, f := range findings {
		if c.ids[f.FindingID] {
			return false
		}
		n += f.Size() + 1
	}
	return n <= MaxBatchBytes-64
}

// outcome is the part of c's outcome for the findings added at at, with
// their own IDs.
func (c *call) outcome(at int, findings []Finding) (accepted []int, rejected []awsclient.Rejected, err error) {
	mine := func(pos int) (int, bool) {
		if pos < at || pos >= at+len(findings) {
			return 0, false
		}
		return findings[pos-at].ID, true
	}
	for _, pos := range c.accepted {
		if id, ok := mine(pos); ok {
			accepted = append(accepted, id)
		}
	}
	for _, r := range c.rejected {
		if id, ok := mine(r.ID); ok {
			r.ID = id
			rejected = append(rejected, r)
		}
	}
	return accepted, rejected, c.err
}

// put imports findings in a call of their own, or in one waiting for its
// turn that they fit in.
func (s *Sink) put(ctx context.Context, findings []Finding) ([]int, []awsclient.Rejected, error) {
	for {
		s.joins.mu.Lock()
		if c := s.joins.open; c != nil && c.fits(findings) {
			at := c.add(findings)
			c.ticket.Carry(pace.From(ctx)) // this flush waits for the opener's call
			s.joins.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				// The call may still import them; Fluent Bit's retry sends
				// them again, which updates the findings (same Ids).
				return nil, nil, context.Cause(ctx)
			}
			if c.noTurn {
				continue
			}
			return c.outcome(at, findings)
		}
		c := &call{ids: make(map[string]bool, len(findings)), done: make(chan struct{}), ticket: pace.From(ctx)}
		c.add(findings)
		s.joins.open = c
		s.joins.mu.Unlock()
		err := s.turn(ctx)
		s.joins.mu.Lock()
		if s.joins.open == c {
			s.joins.open = nil
		}
		all := slices.Clip(c.findings)
		s.joins.mu.Unlock()
		if err != nil {
			c.noTurn = true
			close(c.done)
			return nil, nil, err
		}
		c.accepted, c.rejected, c.err = s.putBatch(ctx, all)
		close(c.done)
		return c.outcome(0, findings)
	}
}

// turn waits for the next call's turn: the pacer's (under Security Hub's
// own limit) and the destination's learned pace (a fleet's share of it).
func (s *Sink) turn(ctx context.Context) error {
	if err := s.pace.wait(ctx); err != nil {
		return err
	}
	return awsclient.WaitTurn(ctx)
}
