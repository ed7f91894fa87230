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
package ledger

import (
	"hash/maphash"
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
	entries map[Key]Progress
	order   []Key // oldest first; may hold keys already forgotten
	bytes   int
}

// New returns a ledger of at most max chunks.
func New(max int) *Ledger {
	return &Ledger{max: max, entries: map[Key]Progress{}}
}

// Get returns a copy of the chunk's progress, or nil when nothing of it
// was accepted before.
func (l *Ledger) Get(k Key) Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.entries[k]
	if !ok {
		return nil
	}
	c := make(Progress, len(p))
	for d, b := range p {
		c[d] = append(bitset(nil), b...)
	}
	return c
}

// Remember stores the chunk's progress (replacing what was stored) and
// returns how many chunks were forgotten to make room.
func (l *Ledger) Remember(k Key, p Progress) (evicted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.entries[k]; ok {
		l.bytes -= old.bytes()
	} else {
		l.order = append(l.order, k)
	}
	l.entries[k] = p
	l.bytes += p.bytes()
	for len(l.entries) > l.max {
		oldest := l.order[0]
		l.order = l.order[1:]
		if old, ok := l.entries[oldest]; ok {
			l.bytes -= old.bytes()
			delete(l.entries, oldest)
			evicted++
		}
	}
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
