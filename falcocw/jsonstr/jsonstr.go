// Package jsonstr writes JSON strings: quoted, escaped as RFC 8259
// requires, and repaired, so that what it writes is always valid UTF-8
// JSON whatever the input (invalid bytes become U+FFFD, which CloudWatch
// needs: it refuses a whole batch for one invalid byte).
package jsonstr

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// Eight bytes at a time: a word holds ones in every byte times a value.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special sets the high bit of the lowest byte of x (little-endian) that is
// a control character, '"' or '\\', or, when ascii is set, not ASCII. Bytes
// above the lowest such byte may be marked too (a borrow carries up), so
// only the lowest mark counts.
func special(x uint64, ascii bool) uint64 {
	quote, backslash := x^(ones*'"'), x^(ones*'\\')
	m := (x - ones*0x20) &^ x
	m |= (quote - ones) &^ quote
	m |= (backslash - ones) &^ backslash
	if ascii {
		m |= x
	}
	return m & highs
}

// scan returns the index of the first byte of s at or after i that is a
// control character, '"' or '\\' (or, when ascii is set, not ASCII), or
// len(s) when there is none. It reads eight bytes at a time.
func scan(s string, i int, ascii bool) int {
	if i+8 <= len(s) {
		p := unsafeBytes(s)
		for ; i+8 <= len(p); i += 8 {
			if m := special(binary.LittleEndian.Uint64(p[i:]), ascii); m != 0 {
				return i + bits.TrailingZeros64(m)/8
			}
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || (ascii && c >= utf8.RuneSelf) {
			return i
		}
	}
	return i
}

// Special returns the index of the first byte of s that ends or escapes a
// JSON string or may not appear in one unescaped ('"', '\\' or a control
// character), or len(s) when there is none. Scanners of JSON text use it to
// skip the plain part of a string eight bytes at a time.
func Special(s string) int { return scan(s, 0, false) }

// Append appends s as a JSON string.
func Append(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		i = scan(s, i, true)
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendBytes appends p as a JSON string, as Append does.
func AppendBytes(b []byte, p []byte) []byte {
	return Append(b, unsafeString(p))
}
