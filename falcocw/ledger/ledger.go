// Package ledger remembers, across Fluent Bit's retries of a chunk, which
// destinations already accepted which records of it, so that a retry sends
// each record only where it has not arrived yet.
//
// Fluent Bit flushes a chunk again, byte for byte, after FLB_RETRY; the
// chunk is identified by a 128-bit hash of its tag and bytes. An entry
// lives from the first FLB_RETRY of its chunk until the chunk ends (FLB_OK
// or FLB_ERROR), and at most Max entries are kept, the oldest forgotten
// first: that bounds the memory, at the price of possible duplicates if a
// forgotten chunk is retried.
//
// A request a flush stopped waiting for (its destination was slow) goes
// on after the flush answered FLB_RETRY: its events are marked in flight
// (Begin), and its answer, when it comes, settles them (Settle). A retry
// of the chunk meanwhile neither sends them again nor counts them as
// delivered: a slow answer makes no duplicate.
package ledger

import (
	"hash/maphash"
	"math/bits"
	"sync"
)

// Key identifies a chunk.
type Key [2]uint64

var seed1, seed2 = maphash.MakeSeed(), maphash.MakeSeed()

// KeyOf returns the key of the chunk data flushed under tag.
func KeyOf(tag string, data []byte) Key {
	var h1, h2 maphash.Hash
	h1.SetSeed(seed1)
	h2.SetSeed(seed2)
	h1.WriteString(tag)
	h2.WriteString(tag)
	h1.WriteByte(0)
	h2.WriteByte(0)
	h1.Write(data)
	h2.Write(data)
	return Key{h1.Sum64(), h2.Sum64()}
}

// Progress is what destinations accepted of one chunk: for each
// destination, a set of record indices.
type Progress map[string]bitset

// Has reports whether dest accepted record i.
func (p Progress) Has(dest string, i int) bool { return p[dest].has(i) }

// Add records that dest accepted record i.
func (p Progress) Add(dest string, i int) {
	p[dest] = p[dest].set(i)
}

// Count is how many records all destinations accepted in total.
func (p Progress) Count() int {
	n := 0
	for _, b := range p {
		n += b.count()
	}
	return n
}

func (p Progress) bytes() int {
	n := 0
	for d, b := range p {
		n += len(d) + 8*len(b) + 48
	}
	return n
}

type bitset []uint64

func (b bitset) has(i int) bool { return i/64 < len(b) && b[i/64]&(1<<(i%64)) != 0 }

func (b bitset) set(i int) bitset {
	for i/64 >= len(b) {
		b = append(b, 0)
	}
	b[i/64] |= 1 << (i % 64)
	return b
}

func (b bitset) clear(i int) {
	if i/64 < len(b) {
		b[i/64] &^= 1 << (i % 64)
	}
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}

// Ledger is a bounded map from chunk to Progress, safe for concurrent use.
type Ledger struct {
	mu      sync.Mutex
	max     int
	entries map[Key]*entry
	order   []Key // oldest first; may hold keys already forgotten
	bytes   int
}

// entry is what is known of one chunk: what destinations accepted, and
// what requests still in flight carry.
type entry struct {
	done, inFlight Progress
}

func (e *entry) bytes() int { return e.done.bytes() + e.inFlight.bytes() }

// New returns a ledger of at most max chunks.
func New(max int) *Ledger {
	return &Ledger{max: max, entries: map[Key]*entry{}}
}

func (p Progress) clone() Progress {
	c := make(Progress, len(p))
	for d, b := range p {
		c[d] = append(bitset(nil), b...)
	}
	return c
}

// Get returns a copy of the chunk's progress, or nil when nothing of it
// was accepted before.
func (l *Ledger) Get(k Key) Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[k]
	if !ok || e.done.Count() == 0 {
		return nil
	}
	return e.done.clone()
}

// InFlight returns a copy of the chunk's records that requests still in
// flight carry, by destination, or nil when none.
func (l *Ledger) InFlight(k Key) Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[k]
	if !ok || e.inFlight.Count() == 0 {
		return nil
	}
	return e.inFlight.clone()
}

// entry returns the chunk's entry, made (and room made for it) if new;
// evicted counts the chunks forgotten for it.
func (l *Ledger) entry(k Key) (e *entry, evicted int) {
	if e, ok := l.entries[k]; ok {
		l.bytes -= e.bytes()
		return e, 0
	}
	e = &entry{done: Progress{}, inFlight: Progress{}}
	l.entries[k] = e
	l.order = append(l.order, k)
	for len(l.entries) > l.max {
		oldest := l.order[0]
		l.order = l.order[1:]
		if old, ok := l.entries[oldest]; ok {
			l.bytes -= old.bytes()
			delete(l.entries, oldest)
			evicted++
		}
	}
	return e, evicted
}

// Begin marks the records ids of the chunk as in flight to dest.
func (l *Ledger) Begin(k Key, dest string, ids []int) (evicted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, evicted := l.entry(k)
	for _, id := range ids {
		e.inFlight.Add(dest, id)
	}
	l.bytes += e.bytes()
	return evicted
}

// Settle ends what Begin marked: ids are no longer in flight to dest, and
// done among them (accepted, or refused for good) are delivered there.
// A chunk forgotten meanwhile stays forgotten; one left with nothing
// delivered and nothing in flight is forgotten.
func (l *Ledger) Settle(k Key, dest string, ids, done []int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[k]
	if !ok {
		return
	}
	l.bytes -= e.bytes()
	if b := e.inFlight[dest]; b != nil {
		for _, id := range ids {
			b.clear(id)
		}
	}
	for _, id := range done {
		e.done.Add(dest, id)
	}
	if e.done.Count() == 0 && e.inFlight.Count() == 0 {
		// Nothing arrived and nothing flies: the entry says nothing, and
		// kept it would make every flush hash its chunk (Len > 0) until
		// evicted.
		delete(l.entries, k)
		return
	}
	l.bytes += e.bytes()
}

// Remember adds the chunk's progress to what is stored and returns how
// many chunks were forgotten to make room. What is stored only grows: an
// answer settled meanwhile is kept.
func (l *Ledger) Remember(k Key, p Progress) (evicted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, evicted := l.entry(k)
	for d, b := range p {
		for i, w := range b {
			for ; w != 0; w &= w - 1 {
				e.done.Add(d, i*64+bits.TrailingZeros64(w))
			}
		}
	}
	l.bytes += e.bytes()
	if len(l.order) > 2*l.max+16 { // drop keys of forgotten chunks
		live := l.order[:0]
		for _, k := range l.order {
			if _, ok := l.entries[k]; ok {
				live = append(live, k)
			}
		}
		l.order = live
	}
	return evicted
}

// Forget drops the chunk: it ended and will not be flushed again.
func (l *Ledger) Forget(k Key) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.entries[k]; ok {
		l.bytes -= old.bytes()
		delete(l.entries, k)
	}
}

// Len returns how many chunks are remembered.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Bytes estimates the memory the remembered progress takes.
func (l *Ledger) Bytes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bytes
}
