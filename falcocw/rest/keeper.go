package rest

import (
	"sync/atomic"
	"time"
)

// Quiet periods before a trim: start-up's pages are start-up's alone, so
// the first trim comes soon after the last instance has started; after
// that, a trim waits for a long spell with no flush, so that alerts a few
// minutes apart (Falco's usual pace) do not fault the flush's pages back
// in each time.
const (
	StartQuiet = 5 * time.Second
	RestQuiet  = 5 * time.Minute
)

// Keeper trims once the plugin has been quiet for long enough: StartQuiet
// after the last Busy at start, RestQuiet after the last Busy since a
// trim. While quiet after a trim it sleeps until the next Busy: a resting
// plugin has no timer ticking.
type Keeper struct {
	first, later time.Duration
	trim         func()
	last         atomic.Int64 // time.Now().UnixNano() of the last Busy
	trimmed      atomic.Bool  // a trim has run and no Busy since
	woke         chan struct{}
	stop         chan struct{}
}

// NewKeeper starts a keeper that calls trim after first of quiet, then
// after later of quiet each time Busy has been called since.
func NewKeeper(first, later time.Duration, trim func()) *Keeper {
	k := &Keeper{first: first, later: later, trim: trim, woke: make(chan struct{}, 1), stop: make(chan struct{})}
	k.last.Store(time.Now().UnixNano())
	go k.run()
	return k
}

// Busy says the plugin is at work (an instance started, a flush came): the
// quiet period starts again. It costs a flush two atomic operations.
func (k *Keeper) Busy() {
	k.last.Store(time.Now().UnixNano())
	if k.trimmed.Load() && k.trimmed.Swap(false) {
		select {
		case k.woke <- struct{}{}:
		default:
		}
	}
}

// Stop ends the keeper's goroutine.
func (k *Keeper) Stop() { close(k.stop) }

func (k *Keeper) run() {
	quiet := k.first
	for {
		for { // until quiet for long enough since the last Busy
			wait := time.Until(time.Unix(0, k.last.Load()).Add(quiet))
			if wait <= 0 {
				break
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-k.stop:
				t.Stop()
				return
			}
		}
		k.trimmed.Store(true)
		k.trim()
		quiet = k.later
		select { // asleep until a flush
		case <-k.woke:
		case <-k.stop:
			return
		}
	}
}
