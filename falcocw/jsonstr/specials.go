package jsonstr

import "github.com/segmentio/asm/ascii"

// Specials finds, in a line of JSON text, the bytes that end or escape a
// string or may not appear in one ('"', '\\', control characters), for a
// scanner that walks the line's strings: Map checks the line once, Next
// reads from a position eight bytes at a time (Special).
type Specials struct {
	s string
}

// Map takes s as the line and reports whether s is all ASCII.
func (m *Specials) Map(s string) (isASCII bool) {
	m.s = s
	return ascii.ValidString(s)
}

// Next returns the index of the first byte of the line at or after i that
// ends or escapes a JSON string or may not appear in one, or the line's
// length when there is none: i + Special(line[i:]).
func (m *Specials) Next(i int) int {
	return scan(m.s, i, false)
}
