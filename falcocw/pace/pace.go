// Package pace adapts the rate at which one destination's requests start
// to what AWS accepts, so that a fleet of falcocw instances sharing an
// account's quota (Security Hub's 10 calls a second, a Firehose stream's
// or a Kinesis shard's) converges on it instead of storming it.
//
// A Limiter starts unlimited: a destination that is never throttled is
// never paced. Its first throttling answer sets a rate below what the
// destination was taking; every later one cuts it (AIMD's multiplicative
// decrease: by a fifth after accepted calls, by half when nothing was
// accepted since the last cut), at most once per round of requests, so
// that the requests already on their way when AWS said "slow down" do not
// cut it again. Each accepted call raises the rate by a small fraction
// while the rate is what holds requests back: the increase is counted in
// calls, not seconds, so a node's share of throttled calls does not grow
// with the size of the fleet (with an increase per second, N nodes at a
// quota Q see a throttled share that grows as N²/Q²). Starts are spaced
// with jitter, so nodes do not fall into step.
package pace

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Tuning. One round of a node's rate, from a cut back to where AWS
// throttled, takes about ln(1/Backoff)/Increase accepted calls (≈ 11):
// fewer throttled calls than accepted ones by that factor, and an
// average rate near (1+Backoff)/2 of the quota's share.
const (
	// Backoff multiplies the rate at a throttling answer after calls
	// were accepted; BackoffAgain when none was since the last cut.
	Backoff      = 0.7
	BackoffAgain = 0.7
	// Increase is the rate's growth per accepted call while paced, in
	// the first Probe calls after a cut; it grows by as much every Probe
	// calls after, to MaxIncrease.
	Increase    = 0.02
	Probe       = 20
	MaxIncrease = 0.25
	// MinRate is the slowest pace, in requests a second: a destination
	// whose every call is throttled is still tried once a minute.
	MinRate = 1.0 / 60
	// MaxRate: a rate grown past it is no limit at all.
	MaxRate = 10000
)

// Limiter paces one destination's requests. It is safe for concurrent use.
type Limiter struct {
	mu sync.Mutex
	// rate is requests a second; 0 while nothing was throttled.
	rate float64
	// next is when the next request may start.
	next time.Time
	// cut is when the rate was last cut; a throttle of a request that
	// started before it is part of the round already answered.
	cut time.Time
	// acceptedSinceCut: calls accepted since the last cut.
	acceptedSinceCut int
	// starts holds the recent starts' times, to measure the rate the
	// destination took before its first throttling answer.
	starts [16]time.Time
	nstart int
}

// New returns an unlimited limiter.
func New() *Limiter { return &Limiter{} }

// Reserve books the next start for a request at now and returns how long
// it waits for it. When that start would be after by (zero: no bound), it
// books nothing and reports false: a request that cannot start in time
// does not hold back those behind it.
func (l *Limiter) Reserve(now, by time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := now
	if l.rate > 0 && l.next.After(now) {
		start = l.next
	}
	if !by.IsZero() && start.After(by) {
		return 0, false
	}
	if l.rate > 0 {
		// The interval is drawn from [0.5, 1.5) of 1/rate: nodes that cut
		// their rates at the same answer do not start in step.
		l.next = start.Add(time.Duration((0.5 + rand.Float64()) / l.rate * float64(time.Second)))
	}
	l.starts[l.nstart%len(l.starts)] = start
	l.nstart++
	return start.Sub(now), true
}

// Accepted records a call the destination accepted at now.
func (l *Limiter) Accepted(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acceptedSinceCut++
	if l.rate == 0 {
		return
	}
	// Raise the rate only while it is what holds requests back (the
	// schedule is booked ahead, or was within the last interval): a node
	// with little to send keeps the rate it learned rather than one it
	// never tried.
	if l.next.Add(time.Duration(float64(time.Second) / l.rate)).After(now) {
		// The longer no call was throttled, the faster the rate grows
		// (by Increase more every Probe calls): room freed by nodes that
		// went quiet is found in tens of calls, not hundreds.
		l.rate *= 1 + min(Increase*float64(1+l.acceptedSinceCut/Probe), MaxIncrease)
		if l.rate > MaxRate {
			l.rate = 0
		}
	}
}

// Throttled records a throttling answer at now to a request that started
// at started (a whole call, or entries of a batch refused for the rate).
func (l *Limiter) Throttled(now, started time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if started.Before(l.cut) {
		return // this round was answered already
	}
	switch {
	case l.rate == 0:
		l.rate = Backoff * l.measured(now)
	case l.acceptedSinceCut == 0:
		l.rate *= BackoffAgain
	default:
		l.rate *= Backoff
	}
	l.rate = max(l.rate, MinRate)
	l.cut = now
	l.acceptedSinceCut = 0
	// The next start waits a whole interval from now: the requests
	// booked at the old rate are not in step with the new one.
	l.next = now.Add(time.Duration(float64(time.Second) / l.rate))
}

// measured is the rate at which requests started in the last second, or
// over the recent starts when fewer than two fell in it.
func (l *Limiter) measured(now time.Time) float64 {
	n := min(l.nstart, len(l.starts))
	if n == 0 {
		return MinRate
	}
	oldest := now
	inSecond := 0
	for i := 0; i < n; i++ {
		t := l.starts[i]
		if now.Sub(t) <= time.Second {
			inSecond++
		}
		if t.Before(oldest) {
			oldest = t
		}
	}
	if inSecond >= 2 {
		return float64(inSecond)
	}
	span := now.Sub(oldest).Seconds()
	if span <= 0 {
		return float64(n)
	}
	return float64(n) / span
}

// Rate returns the current pace in requests a second; 0: not paced.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}

type ticketKey struct{}

// Ticket is one request's link to its destination's limiter: the longest
// an attempt waits for its turn, and when its current attempt started.
type Ticket struct {
	L       *Limiter
	MaxWait time.Duration
	mu      sync.Mutex
	started time.Time
	turn    bool // a turn taken ahead, for the next attempt
}

// With returns ctx carrying a ticket on l for one request (nil l: ctx),
// whose attempts wait maxWait at most for their turn (0: no bound but the
// flush deadline's).
func With(ctx context.Context, l *Limiter, maxWait time.Duration) context.Context {
	if l == nil {
		return ctx
	}
	return context.WithValue(ctx, ticketKey{}, &Ticket{L: l, MaxWait: maxWait})
}

// From returns ctx's ticket, or nil.
func From(ctx context.Context) *Ticket {
	t, _ := ctx.Value(ticketKey{}).(*Ticket)
	return t
}

// Start records that an attempt starts now.
func (t *Ticket) Start(now time.Time) {
	t.mu.Lock()
	t.started = now
	t.mu.Unlock()
}

// GiveTurn records that a turn was waited for ahead of the request's
// first attempt, which takes it (TakeTurn) instead of waiting again.
func (t *Ticket) GiveTurn() {
	t.mu.Lock()
	t.turn = true
	t.mu.Unlock()
}

// TakeTurn reports whether a turn was given ahead, and takes it.
func (t *Ticket) TakeTurn() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	had := t.turn
	t.turn = false
	return had
}

// Throttled records a throttling answer to the attempt last started.
func (t *Ticket) Throttled(now time.Time) {
	t.mu.Lock()
	s := t.started
	t.mu.Unlock()
	t.L.Throttled(now, s)
}
