// Package jsonstr writes JSON strings: quoted, escaped as RFC 8259
// requires, and repaired, so that what it writes is always valid UTF-8
// JSON whatever the input (invalid bytes become U+FFFD, which CloudWatch
// needs: it refuses a whole batch for one invalid byte).
package jsonstr

import (
	"encoding/binary"
	"math/bits"
	"slices"
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
func Append(b []byte, s string) []byte { return appendString(b, s, quoted) }

// AppendContent appends s escaped as Append escapes it, without the
// quotes: the inside of a JSON string. For JSON text this package's
// callers wrote, it is how that text sits inside another JSON string (a
// CloudWatch message inside the PutLogEvents body).
func AppendContent(b []byte, s string) []byte { return appendString(b, s, content) }

// AppendTwice appends the JSON string of s escaped once more, as content:
// AppendContent(b, Append(nil, s)) in one pass. A writer of JSON that is
// itself to sit inside a JSON string writes its strings with it.
func AppendTwice(b []byte, s string) []byte { return appendString(b, s, twice) }

// mode is how appendString writes: the three functions above.
type mode uint8

const (
	quoted mode = iota
	content
	twice
)

// appendString writes s in mode m. Plain text (printable ASCII but for "
// and \\, which every mode copies as it is) goes eight bytes at a time:
// each word is stored whole and the output advanced past its plain bytes,
// so a run of plain text costs no copy call of its own.
func appendString(b []byte, s string, m mode) []byte {
	const slack = 16 // a word, or the longest escape (7 bytes), and then some
	b = appendQuote(b, m)
	n := len(b)
	b = slices.Grow(b, len(s)+slack)
	b = b[:cap(b)]
	p := unsafeBytes(s)
	for i := 0; i < len(p); {
		if len(b)-n < slack { // escapes used up the room
			b = slices.Grow(b[:n], len(p)-i+slack)
			b = b[:cap(b)]
		}
		if i+8 <= len(p) {
			x := binary.LittleEndian.Uint64(p[i:])
			binary.LittleEndian.PutUint64(b[n:], x)
			mask := special(x, true)
			if mask == 0 {
				i, n = i+8, n+8
				continue
			}
			k := bits.TrailingZeros64(mask) / 8
			i, n = i+k, n+k
		} else if c := p[i]; c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			b[n] = c
			i, n = i+1, n+1
			continue
		}
		c := p[i]
		if c == '"' || c == '\\' { // the usual escapes, in JSON text a quote every few bytes
			if m == twice {
				b[n], b[n+1], b[n+2], b[n+3] = '\\', '\\', '\\', c
				n += 4
			} else {
				b[n], b[n+1] = '\\', c
				n += 2
			}
			i++
			continue
		}
		// Another escape, as Append writes it, into e; twice escapes it again.
		var e [6]byte
		var el int
		size := 1
		if c < utf8.RuneSelf {
			switch c {
			case '\n':
				e[0], e[1], el = '\\', 'n', 2
			case '\r':
				e[0], e[1], el = '\\', 'r', 2
			case '\t':
				e[0], e[1], el = '\\', 't', 2
			default:
				e, el = [6]byte{'\\', 'u', '0', '0', hex[c>>4], hex[c&0xf]}, 6
			}
		} else {
			var r rune
			r, size = utf8.DecodeRune(p[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				n += copy(b[n:], "\ufffd") // not ASCII: no mode escapes it
				i++
				continue
			case r == '\u2028' || r == '\u2029':
				e, el = [6]byte{'\\', 'u', '2', '0', '2', hex[r&0xf]}, 6
			default:
				n += copy(b[n:], p[i:i+size])
				i += size
				continue
			}
		}
		if m == twice {
			for _, c := range e[:el] {
				if c == '\\' || c == '"' {
					b[n] = '\\'
					n++
				}
				b[n] = c
				n++
			}
		} else {
			n += copy(b[n:], e[:el])
		}
		i += size
	}
	return appendQuote(b[:n], m)
}

// appendQuote opens or closes a string in mode m.
func appendQuote(b []byte, m mode) []byte {
	switch m {
	case quoted:
		return append(b, '"')
	case twice:
		return append(b, '\\', '"')
	}
	return b
}

// AppendBytesContent appends p as AppendContent appends a string.
func AppendBytesContent(b []byte, p []byte) []byte {
	return appendString(b, unsafeString(p), content)
}

// AppendBytes appends p as a JSON string, as Append does.
func AppendBytes(b []byte, p []byte) []byte {
	return Append(b, unsafeString(p))
}
