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

// TestMergeRunsSorts: merging runs sorts keys as a general sort does,
// whatever their number (one, a few interleaved sensors, every key its own
// run) and lengths, equal milliseconds ordered by ID.
func TestMergeRunsSorts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 3, 7, 100, 2380} {
		for _, runs := range []int{1, 2, 3, 16, 151, n} {
			if runs < 1 || runs > max(n, 1) {
				continue
			}
			keys := make([]sortKey, n)
			for i := range keys { // runs interleaved, each in order: the sensors' alerts as a router mixes them
				run := i % runs
				keys[i] = sortKey{ms: int64(i/runs*10 + run%3 + r.IntN(2)), id: i, pos: i}
			}
			if runs == n { // and shuffled at random
				r.Shuffle(n, func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			}
			want := slices.Clone(keys)
			slices.SortFunc(want, func(a, b sortKey) int {
				if a.less(b) {
					return -1
				}
				if b.less(a) {
					return 1
				}
				return 0
			})
			got := mergeRuns(slices.Clone(keys), make([]sortKey, n))
			if !slices.Equal(got, want) {
				t.Fatalf("%d keys in %d runs: merged %v, want %v", n, runs, got, want)
			}
		}
	}
}
