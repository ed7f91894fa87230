// Package pace adapts the rate at which one destination's requests start
// to what AWS accepts, so that a fleet of falcocw instances sharing an
// account's quota (Security Hub's 10 calls a second, a Firehose stream's
// or a Kinesis shard's) converges on it instead of storming it.
//
// A Limiter starts unpaced, in slow start: one attempt unanswered at a
// time, one more for each accepted answer, so that a fleet whose nodes
// start together does not send every chunk's calls into a quota's burst
// at once. A destination that is never throttled is never paced. Its first
// throttling answer sets a rate below what the destination was taking
// (AIMD's multiplicative decrease, by Backoff), and the answers to the
// requests already on their way when AWS said "slow down" refine it by the
// share of them AWS accepted, rather than cutting it again: one round, one
// cut. Each accepted call raises the rate by a small fraction while the
// rate is what holds requests back: the increase is counted in calls, not
// seconds, so a node's share of throttled calls does not grow with the
// size of the fleet (with an increase per second, N nodes at a quota Q
// see a throttled share that grows as N²/Q²). Starts are spaced with
// jitter, so nodes do not fall into step.
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
	// StartWindow and MaxWindow bound the slow start: until its first
	// throttle, a destination has at most a window of attempts
	// unanswered, StartWindow at first and one more for each accepted
	// answer (twice as many each round trip); past MaxWindow it has none.
	StartWindow = 1
	MaxWindow   = 64
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
	// cutFrom is the rate the last cut started from (the measured one at
	// the first); roundAccepted and roundThrottled count the answers to
	// requests started before the cut, which refine it.
	cutFrom                       float64
	roundAccepted, roundThrottled int
	// slowed counts the times the rate went down: a turn booked before
	// is booked again (Slowed).
	slowed uint64
	// starts holds the recent starts' times, to measure the rate the
	// destination took before its first throttling answer.
	starts [16]time.Time
	nstart int
	// window is the slow start's bound on unanswered attempts; 0: none
	// (throttled once, or opened past MaxWindow). inflight counts the
	// attempts entered and not answered; freed wakes those waiting.
	window   int
	inflight int
	freed    chan struct{}
}

// New returns a limiter in slow start: no pace, and StartWindow attempts
// unanswered at most until answers widen the window. A fleet whose nodes
// all start at once (a cluster's DaemonSet rolled out, a deployment's
// tasks) thus begins with one call a node rather than every chunk's at
// once, which a quota's burst could not take.
func New() *Limiter { return &Limiter{window: StartWindow} }

// Enter waits until an attempt may be sent under the slow start's window
// (at once when there is none), until by (false; zero: no bound), or until
// ctx ends (its error). Every attempt it lets through is answered to the
// limiter (Accepted, Throttled or Left).
func (l *Limiter) Enter(ctx context.Context, by time.Time) (bool, error) {
	var deadline <-chan time.Time
	for {
		l.mu.Lock()
		if l.window == 0 || l.inflight < l.window {
			l.inflight++
			l.mu.Unlock()
			return true, nil
		}
		if l.freed == nil {
			l.freed = make(chan struct{})
		}
		freed := l.freed
		l.mu.Unlock()
		if deadline == nil && !by.IsZero() {
			t := time.NewTimer(time.Until(by))
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-freed:
		case <-deadline:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// Left records that an attempt Enter let through was answered (after its
// Accepted or Throttled, if either), and wakes those waiting for the
// window.
func (l *Limiter) Left() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	if l.freed != nil {
		close(l.freed)
		l.freed = nil
	}
}

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

// Accepted records a call the destination accepted at now, to a request
// that started at started.
func (l *Limiter) Accepted(now, started time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.window > 0 {
		if l.window++; l.window > MaxWindow {
			l.window = 0
		}
	}
	if started.Before(l.cut) {
		l.roundAccepted++
		l.refine()
		return
	}
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
	l.window = 0 // the pace governs from the first throttle
	if started.Before(l.cut) {
		// This round was cut already; its answers say how much of what
		// it sent got through.
		l.roundThrottled++
		l.refine()
		return
	}
	l.cutFrom = l.rate
	if l.rate == 0 {
		l.cutFrom = l.measured(now)
	}
	// Backoff and BackoffAgain are one value today: the round's share
	// accepted (refine) is what cuts deeper.
	if l.acceptedSinceCut == 0 && l.rate != 0 {
		l.rate = l.cutFrom * BackoffAgain
	} else {
		l.rate = l.cutFrom * Backoff
	}
	l.rate = max(l.rate, MinRate)
	l.cut = now
	l.slowed++
	l.acceptedSinceCut = 0
	l.roundAccepted, l.roundThrottled = 0, 1
	// The next start waits a whole interval from now: the requests
	// booked at the old rate are not in step with the new one.
	l.next = now.Add(time.Duration(float64(time.Second) / l.rate))
}

// refine sets the rate of the last cut from the share of its round that
// AWS accepted: of 15 requests sent at once by each of many nodes, one
// accepted and 14 throttled say that this node's share of the quota is a
// fifteenth of what it sent, which one cut by Backoff would take rounds of
// throttles to learn. The first answer, the throttle that cut, counts as
// one accepted: a cut alone is Backoff.
func (l *Limiter) refine() {
	if l.cutFrom == 0 {
		return // no cut yet: an answer from before any throttle
	}
	share := float64(l.roundAccepted+1) / float64(l.roundAccepted+l.roundThrottled)
	rate := max(l.cutFrom*Backoff*min(share, 1), MinRate)
	if rate < l.rate {
		l.slowed++
	}
	l.rate = rate
	if next := l.cut.Add(time.Duration(float64(time.Second) / l.rate)); next.After(l.next) {
		l.next = next
	}
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

// Slowed returns a count of the times the rate went down. A request that
// reads it before Reserve and finds it changed once its turn comes books
// again: its turn was given at a rate AWS has since refused (the answers
// to a burst come over some milliseconds, and the retries of the first
// ones would otherwise keep the turns booked at the first cut's rate).
func (l *Limiter) Slowed() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.slowed
}

// Rate returns the current pace in requests a second; 0: not paced.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}

type ticketKey struct{}

// Ticket is one request's link to its destination's limiter, and to the
// Track of the flush it belongs to: when its current attempt started.
type Ticket struct {
	L       *Limiter
	Track   *Track // nil: none
	mu      sync.Mutex
	started time.Time
	turn    bool // a turn taken ahead, for the next attempt
	entered bool // the attempt went through the limiter's window
	held    bool // the request is in the client's hands (see hold)
	out     bool // an attempt is sent and not answered yet
	// riders are the Tracks of flushes whose entries ride in this
	// request (Carry): they see its attempts as their own.
	riders []*Track
}

// With returns ctx carrying a ticket on l for one request (nil l: ctx),
// followed by track (nil: none). Its attempts wait for their turns until
// the flush's deadline at most.
func With(ctx context.Context, l *Limiter, track *Track) context.Context {
	if l == nil {
		return ctx
	}
	t := &Ticket{L: l, Track: track}
	t.hold() // being written, before its first attempt
	return context.WithValue(ctx, ticketKey{}, t)
}

// hold records that the request is in the client's hands, not AWS's,
// until its next attempt starts or it is Done: being written before its
// first attempt, pausing after a throttling answer before the next, or
// being read after an accepted one. Its flush does not count that time
// as the destination's silence (Track.Silent). After any other answer the
// caller's clock decides, so that a destination answering errors still
// counts as down after destination_wait.
func (t *Ticket) hold() { t.setHeld(true) }

// unhold ends hold.
func (t *Ticket) unhold() { t.setHeld(false) }

func (t *Ticket) setHeld(h bool) {
	if t.Track == nil {
		return
	}
	t.mu.Lock()
	was := t.held
	t.held = h
	t.mu.Unlock()
	if was != h {
		t.Track.waiting(h)
	}
}

// Done records that the request has ended: its caller has the outcome.
func (t *Ticket) Done() { t.unhold() }

// Erred records that an accepted answer failed some of the request's
// entries for another cause than a rate: until the next attempt, the
// caller's clock decides, as after a failed call.
func (t *Ticket) Erred() { t.unhold() }

// From returns ctx's ticket, or nil.
func From(ctx context.Context) *Ticket {
	t, _ := ctx.Value(ticketKey{}).(*Ticket)
	return t
}

// Waiting records that an attempt waits for its turn (true) or has it
// (false).
func (t *Ticket) Waiting(w bool) {
	if t.Track != nil {
		t.Track.waiting(w)
	}
}

// Enter waits for the attempt's place in the slow start's window (see
// Limiter.Enter); the attempt's Answered leaves it.
func (t *Ticket) Enter(ctx context.Context, by time.Time) (bool, error) {
	t.Waiting(true)
	ok, err := t.L.Enter(ctx, by)
	t.Waiting(false)
	if ok {
		t.mu.Lock()
		t.entered = true
		t.mu.Unlock()
	}
	return ok, err
}

// Carry records that the flush of rider (another request's ticket; nil:
// none) waits for this request, which carries its entries (Security Hub's
// calls gather the findings of several flushes): rider's Track sees this
// request's attempts, so that its flush counts the destination silent when
// this request goes unanswered, as this request's own flush does.
func (t *Ticket) Carry(rider *Ticket) {
	if t == nil || rider == nil || rider.Track == nil || rider.Track == t.Track {
		return
	}
	t.mu.Lock()
	t.riders = append(t.riders, rider.Track)
	out, s := t.out, t.started
	t.mu.Unlock()
	if out {
		rider.Track.begin(s)
	}
}

// Start records that an attempt starts now.
func (t *Ticket) Start(now time.Time) {
	t.unhold()
	t.mu.Lock()
	t.started, t.out = now, true
	riders := t.riders
	t.mu.Unlock()
	if t.Track != nil {
		t.Track.begin(now)
	}
	for _, k := range riders {
		k.begin(now)
	}
}

// Answered records the answer to the attempt last started, at now: err
// nil (accepted), a throttling answer (throttled true), or another.
func (t *Ticket) Answered(now time.Time, err error, throttled bool) {
	t.mu.Lock()
	s, entered, out, riders := t.started, t.entered, t.out, t.riders
	t.entered, t.out = false, false
	t.mu.Unlock()
	switch {
	case err == nil:
		t.L.Accepted(now, s)
	case throttled:
		t.L.Throttled(now, s)
	}
	if entered {
		t.L.Left()
	}
	if t.Track != nil {
		t.Track.end(now)
	}
	if out {
		for _, k := range riders {
			k.end(now)
		}
	}
	if err == nil || throttled {
		t.hold()
	}
}

// Throttled records a throttling answer to the attempt last started that
// its Answered did not: entries of an accepted batch refused for a rate.
func (t *Ticket) Throttled(now time.Time) {
	t.mu.Lock()
	s := t.started
	t.mu.Unlock()
	t.L.Throttled(now, s)
	t.hold() // its refused entries are sent again, at their turn
}

// Leave gives back the window's place Enter took for an attempt that is
// not sent.
func (t *Ticket) Leave() {
	t.mu.Lock()
	entered := t.entered
	t.entered = false
	t.mu.Unlock()
	if entered {
		t.L.Left()
	}
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

// Track follows one flush's requests to a destination through their two
// waits, for a turn at the pace and for the destination's answer, so that
// the flush tells a destination slow to answer from one whose requests
// wait their turns: only the first counts as silent (Silent).
type Track struct {
	mu       sync.Mutex
	turns    int       // requests waiting for a turn, or in the client's hands (Ticket.hold)
	attempts int       // attempts sent, not answered yet
	since    time.Time // the last answer, or the first attempt sent after it
}

func (k *Track) waiting(w bool) {
	k.mu.Lock()
	if w {
		k.turns++
	} else {
		k.turns--
	}
	k.mu.Unlock()
}

func (k *Track) begin(now time.Time) {
	k.mu.Lock()
	if k.attempts == 0 {
		k.since = now
	}
	k.attempts++
	k.mu.Unlock()
}

func (k *Track) end(now time.Time) {
	k.mu.Lock()
	k.attempts--
	k.since = now
	k.mu.Unlock()
}

// Silent reports whether the destination has been silent for wait at now:
// an attempt is unanswered and nothing was answered for wait. When it is
// not, it returns how long it can be before it is. With no attempt
// unanswered and some requests waiting for their turns or in the client's
// hands (written, pausing after a throttle, read), the destination is
// paced, not silent. With neither (a request between retries after an
// error, or no Track), it is silent: the caller's own clock of answers
// decides.
func (k *Track) Silent(now time.Time, wait time.Duration) (bool, time.Duration) {
	if k == nil {
		return true, 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.attempts > 0:
		if quiet := now.Sub(k.since); quiet < wait {
			return false, wait - quiet
		}
		return true, 0
	case k.turns > 0:
		return false, wait
	}
	return true, 0
}
