// Package storm collapses alert storms: within a window, alerts with the
// same key (route, destination, rule and chosen fields) after the first
// are held back and counted, and once the window has passed one summary
// event carries the count. The first alert of a window always goes out at
// once.
//
// Decisions survive Fluent Bit's retries: an alert is named by its chunk
// and record index, so the retry of the chunk that opened a window opens
// it again rather than being counted as a repeat, and a repeat retried is
// counted once.
package storm

import (
	"sort"
	"sync"
	"time"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/ledger"
	"github.com/falcocw/falcocw/falcocw/route"
)

// MaxWindows bounds how many windows are open at once; past it, alerts
// are not collapsed (they are sent), so memory stays bounded and nothing
// is lost.
const MaxWindows = 10000

// ID names one alert: its chunk and its record's index.
type ID struct {
	Chunk ledger.Key
	Index int
}

type window struct {
	opener     ID
	until      time.Time
	target     route.Target
	format     string
	window     time.Duration
	suppressed map[ID]bool
	first      time.Time
	last       *falco.Alert
}

// Gate holds the open windows. It is safe for concurrent use.
type Gate struct {
	mu      sync.Mutex
	windows map[string]*window
	closed  []*window // windows a later alert ended, awaiting Take
	pending []Summary // summaries whose delivery failed, to send again
}

// NewGate returns an empty gate.
func NewGate() *Gate { return &Gate{windows: map[string]*window{}} }

// Key builds the key of an alert for a route's storm options.
func Key(m route.Match, a *falco.Alert) string {
	k := m.Rule + "\x00" + m.Target.String() + "\x00" + a.Rule
	for _, f := range m.Options.StormBy {
		v, _ := a.Field(f)
		k += "\x00" + v
	}
	return k
}

// Admit reports whether the alert goes out now: true for the first alert
// of a window (or when too many windows are open), false for a repeat,
// which is counted for the window's summary.
func (g *Gate) Admit(key string, id ID, m route.Match, a *falco.Alert) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	w, ok := g.windows[key]
	if ok && !a.Time.Before(w.until) && w.opener != id {
		// This alert is past the window: the window closes (its summary
		// goes out at the next Take) and the alert opens the next one.
		g.closed = append(g.closed, w)
		delete(g.windows, key)
		ok = false
	}
	if !ok {
		if len(g.windows) >= MaxWindows {
			return true
		}
		// The window outlives the flush: it keeps a target and an alert of
		// its own, not views into the flush's chunk.
		g.windows[key] = &window{opener: id, until: a.Time.Add(m.Options.Storm), target: m.Target.Clone(), format: m.Options.Format,
			window: m.Options.Storm, suppressed: map[ID]bool{}}
		return true
	}
	if w.opener == id {
		return true
	}
	if !w.suppressed[id] {
		w.suppressed[id] = true
		if w.first.IsZero() || a.Time.Before(w.first) {
			w.first = a.Time
		}
		if w.last == nil || !a.Time.Before(w.last.Time) {
			w.last = a.Clone()
		}
	}
	return false
}

// Summary is the event that closes a window with repeats.
type Summary struct {
	Target route.Target
	Format string
	Alert  *falco.Alert // the last repeat, carrying the storm counts in Extra["storm"]
}

// Take removes the windows that ended before now and returns the summaries
// of those with repeats, with the summaries given back by Requeue.
func (g *Gate) Take(now time.Time) []Summary {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.pending
	g.pending = nil
	keys := make([]string, 0)
	for k, w := range g.windows {
		if now.After(w.until) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	ended := g.closed
	g.closed = nil
	for _, k := range keys {
		ended = append(ended, g.windows[k])
		delete(g.windows, k)
	}
	for _, w := range ended {
		if len(w.suppressed) == 0 {
			continue
		}
		s := *w.last
		s.Extra = map[string]any{}
		for k, v := range w.last.Extra {
			s.Extra[k] = v
		}
		s.Extra["storm"] = map[string]any{
			"suppressed": int64(len(w.suppressed)),
			"first_time": w.first.UTC().Format(falco.TimeFormat),
			"last_time":  w.last.Time.UTC().Format(falco.TimeFormat),
			"window":     w.window.String(),
		}
		out = append(out, Summary{Target: w.target, Format: w.format, Alert: &s})
	}
	return out
}

// Requeue gives back summaries whose delivery failed; the next Take
// returns them again.
func (g *Gate) Requeue(s []Summary) {
	g.mu.Lock()
	g.pending = append(g.pending, s...)
	g.mu.Unlock()
}

// Open returns how many windows are open.
func (g *Gate) Open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.windows)
}

// Waiting returns how many ended windows and requeued summaries wait for
// the next Take.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.closed) + len(g.pending)
}
