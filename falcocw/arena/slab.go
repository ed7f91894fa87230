package arena

// Slab hands out values of type T from blocks it keeps from one flush to
// the next: the alerts a flush parses, the room for their tags and their
// encoded events, small objects, a few per alert, which on the heap were
// two thirds of the bytes a flush allocated (and so of the garbage
// collections, and of the heap the collector lets grow between them).
//
// The rule is Arena's: nothing handed out may be used after Reset. Reset
// zeroes every value it takes back, so a value kept by mistake reads as
// empty rather than as a later flush's, and the blocks hold no pointer
// into memory the flush no longer owns. Its zero value is ready to use; it
// is not safe for concurrent use (each flush has its own).
type Slab[T any] struct {
	blocks []*[slabLen]T
	next   int // index of the next value to hand out, over all blocks
}

// slabLen is the number of values in one block.
const slabLen = 256

// New returns a pointer to a zero T, valid until Reset.
func (s *Slab[T]) New() *T {
	b, i := s.next/slabLen, s.next%slabLen
	if b == len(s.blocks) {
		s.blocks = append(s.blocks, new([slabLen]T))
	}
	s.next++
	return &s.blocks[b][i]
}

// Drop takes back p when it is the value New handed out last, zeroed for
// the next New; any other p is left alone (it stays in use until Reset).
func (s *Slab[T]) Drop(p *T) {
	if s.next == 0 {
		return
	}
	last := &s.blocks[(s.next-1)/slabLen][(s.next-1)%slabLen]
	if p == last {
		var zero T
		*last = zero
		s.next--
	}
}

// Reset zeroes every value handed out and takes them all back.
func (s *Slab[T]) Reset() {
	for b := 0; b*slabLen < s.next; b++ {
		clear(s.blocks[b][:min(slabLen, s.next-b*slabLen)])
	}
	s.next = 0
}

// Len is the number of values handed out since the last Reset.
func (s *Slab[T]) Len() int { return s.next }
