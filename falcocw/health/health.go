// Package health keeps each destination's state across flushes, so that a
// destination that is slow, down, throttled or refusing never delays
// another's alerts: its own slots for requests in flight (one
// destination's slow requests never hold another's), and a circuit
// breaker. A destination that failed (an error the SDK's retries did not
// overcome, or no answer within the flush's wait) is down: flushes hand
// its events back to Fluent Bit's retry at once, without a request, but
// for one probe request every probe interval; the first request it answers
// marks it up again.
//
// Why a breaker rather than a queue of falcocw's own: the events of a
// destination that is down wait in Fluent Bit's chunks, which its storage
// keeps (on disk with storage.type filesystem, across restarts) and
// bounds, and the ledger makes each retry send a chunk only where it has
// not arrived. falcocw answers FLB_OK only when every destination holds
// its events, as Fluent Bit's own outputs do, and keeps no second copy.
package health

import (
	"github.com/falcocw/falcocw/falcocw/pace"
	"sort"
	"strings"
	"sync"
	"time"
)

// ProbeEvery is how often, by default, a destination that is down is
// sent one request to learn whether it is back.
const ProbeEvery = 5 * time.Second

// Board holds the state of every destination of an instance, by name
// (kind and name: "firehose:falco-archive").
type Board struct {
	mu    sync.Mutex
	slots int
	probe time.Duration
	dests map[string]*Dest
	// reported is when reports were last delivered; changed, whether a
	// destination went down or came back since.
	reported time.Time
	changed  bool
}

// NewBoard returns a board whose destinations each have slots requests
// in flight at most, and are probed every probe while down.
func NewBoard(slots int, probe time.Duration) *Board {
	if probe <= 0 {
		probe = ProbeEvery
	}
	return &Board{slots: max(slots, 1), probe: probe, dests: map[string]*Dest{}}
}

// Get returns the destination's state, created up on first use.
func (b *Board) Get(name string) *Dest {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.dests[name]
	if !ok {
		name = strings.Clone(name) // a name from a template shares a chunk's bytes
		d = &Dest{Name: name, Pace: pace.New(), slots: make(chan struct{}, b.slots), probe: b.probe, board: b}
		b.dests[name] = d
	}
	return d
}

// All returns every destination known so far, by name.
func (b *Board) All() []*Dest {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*Dest, 0, len(b.dests))
	for _, d := range b.dests {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Admission is how a flush may use a destination now.
type Admission int

const (
	// Send: the destination is up; send its events.
	Send Admission = iota
	// Probe: it is down, and this flush sends one request to test it;
	// the rest follow only if that one is accepted.
	Probe
	// HandBack: it is down; its events go back to Fluent Bit's retry
	// at once.
	HandBack
)

// Dest is one destination's state.
type Dest struct {
	Name string
	// Pace is the rate its requests start at, learned from AWS's
	// throttling answers.
	Pace  *pace.Limiter
	slots chan struct{}
	probe time.Duration
	board *Board

	mu        sync.Mutex
	down      bool
	since     time.Time // when it went down
	lastErr   string
	nextProbe time.Time
	// waited counts the events handed back or failed while down, said
	// when it comes back.
	waited int

	// Totals, for metrics: events accepted, events that failed (went
	// back to Fluent Bit's retry after a request), events handed back
	// without a request while down.
	delivered, failed, handedBack int64
	// reported are those totals as the last delivered Report took them.
	reported [3]int64
}

// Acquire takes one of the destination's request slots, waiting until
// deadline at most; it reports whether it got one.
func (d *Dest) Acquire(deadline <-chan time.Time) bool {
	select {
	case d.slots <- struct{}{}:
		return true
	default:
	}
	select {
	case d.slots <- struct{}{}:
		return true
	case <-deadline:
		return false
	}
}

// TryAcquire takes a slot if one is free.
func (d *Dest) TryAcquire() bool {
	select {
	case d.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release gives a slot back.
func (d *Dest) Release() { <-d.slots }

// Admit says how a flush at now may use the destination.
func (d *Dest) Admit(now time.Time) Admission {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.down {
		return Send
	}
	if now.Before(d.nextProbe) {
		return HandBack
	}
	d.nextProbe = now.Add(d.probe)
	return Probe
}

// Change is a change of a destination's state, to be logged once.
type Change struct {
	// Down: it went down, because of Err. Up: it came back after For,
	// with Waited events having gone back to Fluent Bit's retry meanwhile.
	Down, Up bool
	Err      string
	For      time.Duration
	Waited   int
}

// Accepted records a request the destination answered, with n events
// accepted; a destination that was down is up again.
func (d *Dest) Accepted(now time.Time, n int) Change {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.delivered += int64(n)
	if !d.down {
		return Change{}
	}
	c := Change{Up: true, For: now.Sub(d.since), Waited: d.waited}
	d.down, d.waited, d.lastErr = false, 0, ""
	d.board.changedNow()
	return c
}

// Failed records a request that failed with err (retryable: its n events
// go back to Fluent Bit's retry) or that was not answered within the
// flush's wait; the destination is down from now.
func (d *Dest) Failed(now time.Time, n int, err string) Change {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failed += int64(n)
	d.waited += n
	d.lastErr = err
	if d.down {
		return Change{}
	}
	d.down, d.since, d.nextProbe = true, now, now.Add(d.probe)
	d.board.changedNow()
	return Change{Down: true, Err: err}
}

// Late records n events accepted by a request answered after its flush
// stopped waiting: counted, but no sign that the destination is back.
func (d *Dest) Late(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.delivered += int64(n)
}

// HandBack records n events handed back without a request.
func (d *Dest) HandBack(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.handedBack += int64(n)
	d.waited += n
}

// ProbeInterval is how often the destination is probed while down.
func (d *Dest) ProbeInterval() time.Duration { return d.probe }

// State is a snapshot of a destination, for metrics and logs.
type State struct {
	Name                          string
	Down                          bool
	Since                         time.Time
	LastErr                       string
	Delivered, Failed, HandedBack int64
	// Waiting counts the events gone back to Fluent Bit's retry since
	// it went down (0 while up).
	Waiting  int
	InFlight int
}

// State returns a snapshot.
func (d *Dest) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return State{Name: d.Name, Down: d.down, Since: d.since, LastErr: d.lastErr, Delivered: d.delivered, Failed: d.failed,
		HandedBack: d.handedBack, Waiting: d.waited, InFlight: len(d.slots)}
}

// Report is what a destination did since the last report that was
// delivered: the counts to publish as metrics.
type Report struct {
	Name string
	Down bool
	// Delivered, Failed and HandedBack are events since the last report
	// taken (Commit); Waiting is a level: the events gone back to Fluent
	// Bit's retry since the destination went down.
	Delivered, Failed, HandedBack int64
	Waiting                       int

	d                     *Dest
	delivered, failed, hb int64 // the totals it was taken at
}

// Reports returns a report per destination when one is due: every
// interval, and at once after a destination went down or came back, so
// that an alarm on "Down" fires within a flush. None is due otherwise.
func (b *Board) Reports(now time.Time, interval time.Duration) []Report {
	b.mu.Lock()
	due := now.Sub(b.reported) >= interval || b.changed
	b.mu.Unlock()
	if !due {
		return nil
	}
	var out []Report
	for _, d := range b.All() {
		d.mu.Lock()
		r := Report{Name: d.Name, Down: d.down, Delivered: d.delivered - d.reported[0], Failed: d.failed - d.reported[1],
			HandedBack: d.handedBack - d.reported[2], d: d, delivered: d.delivered, failed: d.failed, hb: d.handedBack}
		if d.down {
			r.Waiting = d.waited
		}
		d.mu.Unlock()
		out = append(out, r)
	}
	return out
}

// Commit marks reports as delivered (the next count from where they were
// taken) at now; reports that were not delivered are counted again in
// the next.
func (b *Board) Commit(now time.Time, reports []Report) {
	for _, r := range reports {
		r.d.mu.Lock()
		r.d.reported = [3]int64{r.delivered, r.failed, r.hb}
		r.d.mu.Unlock()
	}
	b.mu.Lock()
	b.reported, b.changed = now, false
	b.mu.Unlock()
}

// changedNow marks that a destination's state changed: a report is due.
func (b *Board) changedNow() {
	b.mu.Lock()
	b.changed = true
	b.mu.Unlock()
}
