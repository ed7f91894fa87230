package falcocw

import (
	"sync"

	"github.com/falcocw/falcocw/falcocw/arena"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
)

// scratch is what a flush builds per alert and drops when it returns: the
// alerts, their encoded events, the plan's items and the routes' matches.
// Kept from flush to flush (a pool, as concurrent flushes each need their
// own), it spares a flush three heap objects per alert, two thirds of the
// bytes it allocated: fewer collections, and a smaller heap between them.
//
// Nothing in it may be used after release, the arena's rule: the storm
// gate, the one thing that keeps an alert past its flush, keeps a Clone.
type scratch struct {
	alerts  falco.Alerts
	encoded arena.Slab[encoded]
	plan    plan
	matches []route.Match
}

var scratches = sync.Pool{New: func() any { return &scratch{plan: plan{index: map[route.Target]int{}}} }}

func newScratch() *scratch { return scratches.Get().(*scratch) }

// release zeroes what the flush used and gives the scratch back.
func (s *scratch) release() {
	s.alerts.Reset()
	s.encoded.Reset()
	s.plan.reset()
	clear(s.matches[:cap(s.matches)])
	s.matches = s.matches[:0]
	scratches.Put(s)
}
