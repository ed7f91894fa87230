package cwlogs

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
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

// TestReleaseReusesEventRoom: the room of a flush's events (80 bytes each,
// what a flush allocated most of) comes back through Release, cleared, and
// serves the next flush's Batches, instead of being allocated anew.
func TestReleaseReusesEventRoom(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	items := make([]dest.Item, 2400)
	for i := range items {
		items[i] = dest.Item{ID: i, Time: t0.Add(time.Duration(i) * time.Millisecond), Quoted: []byte(`"{}"`), QuotedLen: 2}
	}
	var s Sink
	cycle := func() {
		reqs := s.Batches(dest.Flush{Now: t0, Adjusted: func(int, string, ...any) {}}, route.Target{}, items)
		s.Release(reqs)
	}
	cycle()
	runtime.GC() // a collection keeps the room
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		cycle()
	}
	runtime.ReadMemStats(&after)
	room, _ := eventRooms.Get() // the room kept holds nothing of the flush's events
	for i, e := range room[:len(items)] {
		if e.Quoted != nil || e.Message != nil || e.ID != 0 {
			t.Fatalf("the room kept still holds event %d: %+v", i, e)
		}
	}
	if perFlush := (after.TotalAlloc - before.TotalAlloc) / 10; perFlush > 4<<10 {
		t.Errorf("Batches and Release allocated %d bytes a flush of %d events; want the events' room (%d bytes) reused", perFlush, len(items), len(items)*int(unsafe.Sizeof(Event{})))
	}
}
