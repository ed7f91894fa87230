// Package arena hands out memory that lives no longer than one flush,
// from blocks kept for the next: byte buffers carved from large pooled
// slabs (Arena), for the event JSON of each alert, which is escaped into a
// request body and then dead; and typed values (Slab), for the alerts and
// the plan's records.
//
// Allocating each event on its own heap made every flush ask the Go
// runtime for a few MiB of fresh memory, which the GC then swept and the
// scavenger gave back to the kernel, only for the next flush to fault it in
// again: about 0.7 µs of CPU per alert, an eighth of the plugin's cost.
// Slabs reused from flush to flush stay mapped and in cache.
//
// The price is a rule the compiler cannot check: nothing handed out by an
// Arena may be used after its Release. Poison makes a breach visible:
// tests set it, and Release then overwrites every slab, so that a request
// body or a log line built from a released buffer carries PoisonByte
// instead of the event, which the delivery tests' content checks catch.
package arena

import "sync"

// SlabSize is the size of one slab. A buffer larger than a quarter of it
// comes from the heap instead, so that an outsized event does not waste
// most of a slab.
const SlabSize = 256 << 10

// PoisonByte fills released slabs when Poison is set.
const PoisonByte = 0xDB

// Poison makes Release overwrite the slabs it returns to the pool. Set it
// in tests only, before any flush; it costs a memset per slab.
var Poison bool

var slabs = sync.Pool{New: func() any { return new([SlabSize]byte) }}

// Arena is the slabs of one flush. Its zero value is ready to use; it is
// not safe for concurrent use (each flush has its own).
type Arena struct {
	held []*[SlabSize]byte
	free []byte // the unused tail of the newest slab
}

// Buffer returns an empty buffer with room for at least n bytes, for the
// caller to append to and then hand back with Keep. Appending past its
// capacity is allowed: append moves to the heap, as usual.
func (a *Arena) Buffer(n int) []byte {
	if n > SlabSize/4 {
		return make([]byte, 0, n)
	}
	if cap(a.free) < n {
		s := slabs.Get().(*[SlabSize]byte)
		a.held = append(a.held, s)
		a.free = s[:0:SlabSize]
	}
	return a.free[:0]
}

// Keep marks b, the result of appending to the last Buffer, as used, and
// returns it with its capacity cut to its length, so that appending to it
// later cannot overwrite the next buffer.
func (a *Arena) Keep(b []byte) []byte {
	if len(b) > 0 && cap(a.free) > 0 && len(b) <= cap(a.free) && &b[0] == &a.free[:1][0] {
		a.free = a.free[len(b):len(b)]
	}
	return b[:len(b):len(b)]
}

// Release returns the slabs to the pool. Nothing the arena handed out may
// be used afterwards; the arena itself may be used again.
func (a *Arena) Release() {
	for i, s := range a.held {
		if Poison {
			for j := range s {
				s[j] = PoisonByte
			}
		}
		slabs.Put(s)
		a.held[i] = nil
	}
	a.held, a.free = a.held[:0], nil
}
