// Package jsonstr writes JSON strings: quoted, escaped as RFC 8259
// requires, and repaired, so that what it writes is always valid UTF-8
// JSON whatever the input (invalid bytes become U+FFFD, which CloudWatch
// needs: it refuses a whole batch for one invalid byte). It also finds
// where a line's strings end (Specials), for scanners of JSON text.
//
// Escaping and scanning are the two passes over every byte of an alert;
// both go eight bytes at a time in portable Go, on every CPU.
package jsonstr

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
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

// AppendTwice appends the JSON string of s (what Append writes) as the
// contents of another JSON string: escaped a second time, without outer
// quotes. plain is the length of the JSON string itself. A writer of JSON
// that is to travel inside a string uses it for its string values, so
// that it writes the travelling form at once.
func AppendTwice(b []byte, s string) (out []byte, plain int) {
	b = append(b, `\"`...)
	plain = 2
	for i := 0; i < len(s); {
		j := scan(s, i, true)
		b = append(b, s[i:j]...)
		plain += j - i
		if j == len(s) {
			break
		}
		i = j + 1
		switch c := s[j]; {
		case c == '"':
			b, plain = append(b, `\\\"`...), plain+2
		case c == '\\':
			b, plain = append(b, `\\\\`...), plain+2
		case c == '\n':
			b, plain = append(b, `\\n`...), plain+2
		case c == '\r':
			b, plain = append(b, `\\r`...), plain+2
		case c == '\t':
			b, plain = append(b, `\\t`...), plain+2
		case c < 0x20:
			b, plain = append(b, '\\', '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf]), plain+6
		default:
			r, size := utf8.DecodeRuneInString(s[j:])
			switch {
			case r == utf8.RuneError && size == 1:
				b, plain = append(b, "\ufffd"...), plain+3
			case r == '\u2028' || r == '\u2029':
				b, plain = append(b, '\\', '\\', 'u', '2', '0', '2', hex[r&0xf]), plain+6
			default:
				b, plain = append(b, s[j:j+size]...), plain+size
			}
			i = j + size
		}
	}
	return append(b, `\"`...), plain
}

// Append appends s as a JSON string, eight bytes at a time: each word is
// stored whole and the output advanced past its plain bytes, so a run of
// plain text costs no copy call of its own.
func Append(b []byte, s string) []byte {
	return append(AppendContent(append(b, '"'), s), '"')
}

// AppendContent appends s escaped as Append escapes it, without the
// quotes: for JSON text written inside a JSON string, as an event is
// inside the request body that carries it as a string.
func AppendContent(b []byte, s string) []byte {
	const slack = 16 // a word, or the longest escape (6 bytes), and then some
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
			m := special(x, true)
			if m == 0 {
				i, n = i+8, n+8
				continue
			}
			k := bits.TrailingZeros64(m) / 8
			i, n = i+k, n+k
		} else if c := p[i]; c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			b[n] = c
			i, n = i+1, n+1
			continue
		}
		c := p[i]
		if c == '"' || c == '\\' { // the usual escapes: in JSON text, a quote every few bytes
			b[n], b[n+1] = '\\', c
			i, n = i+1, n+2
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '\n':
				b[n], b[n+1] = '\\', 'n'
			case '\r':
				b[n], b[n+1] = '\\', 'r'
			case '\t':
				b[n], b[n+1] = '\\', 't'
			default:
				n += copy(b[n:], `\u00`)
				b[n], b[n+1] = hex[c>>4], hex[c&0xf]
			}
			i, n = i+1, n+2
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += copy(b[n:], "\ufffd")
		case r == '\u2028' || r == '\u2029':
			n += copy(b[n:], `\u202`)
			b[n] = hex[r&0xf]
			n++
		default:
			n += copy(b[n:], p[i:i+size])
		}
		i += size
	}
	return b[:n]
}

// AppendBytes appends p as a JSON string, as Append does.
func AppendBytes(b []byte, p []byte) []byte {
	return Append(b, unsafeString(p))
}

// Truncate cuts s to at most n bytes without splitting a character, and
// repairs invalid UTF-8 (each bad byte becomes U+FFFD), as every text
// falcocw sends must be valid UTF-8.
func Truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
