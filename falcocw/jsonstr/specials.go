package jsonstr

import (
	"math/bits"

	"github.com/segmentio/asm/ascii"
)

// Specials is a map of the bytes of a line of JSON text that end or escape
// a string or may not appear in one ('"', '\\', control characters), a
// bit per byte, made in one pass 64 bytes at a time where the CPU can
// (AVX-512). A scanner of the line then finds the end of each string by
// looking up the next bit instead of reading the string eight bytes at a
// time, which for the short keys and values of Falco's JSON was most of
// what reading them cost. Elsewhere, and for lines over 4 KiB, Next reads
// the line as Special does.
type Specials struct {
	s      string
	mapped bool
	bits   [64]uint64 // lines of up to 4 KiB; a slice of it kept here would send the scanner to the heap
}

// Map makes the map of s and reports whether s is all ASCII.
func (m *Specials) Map(s string) (isASCII bool) {
	m.s = s
	if m.mapped = useBlocks && len(s) <= 64*len(m.bits); m.mapped {
		return specialBits(m.bits[:(len(s)+63)/64], s)
	}
	return ascii.ValidString(s)
}

// Next returns the index of the first byte of the line at or after i that
// ends or escapes a JSON string or may not appear in one, or the line's
// length when there is none: i + Special(line[i:]).
func (m *Specials) Next(i int) int {
	if !m.mapped {
		return scan(m.s, i, false)
	}
	if i >= len(m.s) {
		return len(m.s)
	}
	w := i >> 6
	if x := m.bits[w&63] >> (uint(i) & 63); x != 0 {
		return i + bits.TrailingZeros64(x)
	}
	for w, n := w+1, (len(m.s)+63)>>6; w < n; w++ {
		if x := m.bits[w]; x != 0 {
			return w<<6 + bits.TrailingZeros64(x)
		}
	}
	return len(m.s)
}
