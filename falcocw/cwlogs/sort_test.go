package cwlogs

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestSortAllocatesNothing: sorting a flush's events out of order costs
// no allocation once the pool holds keys of its size (a flush sorted
// 104 bytes per event into fresh keys and a fresh copy before), and
// leaves them in order.
func TestSortAllocatesNothing(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(9, 10))
	shuffled := make([]Event, 2400)
	for i := range shuffled {
		shuffled[i] = Event{ID: i, Time: t0.Add(time.Duration(r.IntN(20_000)) * time.Microsecond)}
	}
	events := slices.Clone(shuffled)
	sortByTime(events) // fills the pool
	if !inOrder(events) {
		t.Fatal("sortByTime left the events out of order")
	}
	if raceEnabled {
		t.Skip("the race detector empties sync.Pool at random")
	}
	allocs := testing.AllocsPerRun(20, func() {
		copy(events, shuffled)
		sortByTime(events)
	})
	if allocs >= 0.5 { // a collection may empty the pool once
		t.Errorf("sortByTime made %.1f allocations a call; want none", allocs)
	}
	if !inOrder(events) {
		t.Fatal("sortByTime left the events out of order")
	}
}
