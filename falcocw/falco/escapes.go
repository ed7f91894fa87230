package falco

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The fast path's scanner reads escapes and numbers here: the rarer parts
// of a Falco line, kept apart from the loop over its keys (fastpath.go).

// escaped finishes a string that holds escapes, from start: it checks
// them all, and when keep is set returns the value unescaped.
func (sc *scanner) escaped(start int, keep bool) (string, bool) {
	var b []byte
	special := false // a byte written that JSON escapes: then not clean
	if keep {
		b = sc.textBuffer(2 * (sc.pos - start + 16))
		b = append(b, sc.s[start:sc.pos]...)
	}
	for sc.pos < len(sc.s) {
		c := sc.s[sc.pos]
		switch {
		case c == '"':
			sc.pos++
			// Unescaped, a string may need no escaping after all (the
			// \u003c that encoding/json writes for '<').
			sc.clean = sc.ascii && !special
			return sc.keepText(b), true
		case c < 0x20:
			return "", false
		case c != '\\':
			// The plain run up to the next quote, backslash or control
			// character, at once: an escape is mostly one of a few in a
			// long string (a command line's quotes, the \u003c that
			// encoding/json writes for '<').
			n := sc.specials.Next(sc.pos)
			if keep {
				b = append(b, sc.s[sc.pos:n]...)
			}
			sc.pos = n
			continue
		}
		if sc.pos+1 >= len(sc.s) {
			return "", false
		}
		e := sc.s[sc.pos+1]
		sc.pos += 2
		switch e {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			if keep {
				b = append(b, unescape[e])
			}
			special = special || e != '/'
		case 'u':
			r, ok := sc.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				if !strings.HasPrefix(sc.s[sc.pos:], `\u`) {
					return "", false
				}
				sc.pos += 2
				r2, ok := sc.hex4()
				if !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
			}
			if keep {
				b = utf8.AppendRune(b, r)
			}
			special = special || r < 0x20 || r == '"' || r == '\\' || r >= utf8.RuneSelf
		default:
			return "", false
		}
	}
	return "", false
}

// unescape is the byte a one-letter JSON escape stands for.
var unescape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func (sc *scanner) hex4() (rune, bool) {
	if sc.pos+4 > len(sc.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(sc.s[sc.pos:sc.pos+4], 16, 32)
	if err != nil {
		return 0, false
	}
	sc.pos += 4
	return rune(n), true
}

// numberByte marks the bytes a JSON number is written with.
var numberByte = func() (t [256]bool) {
	for _, c := range "+-0123456789.eE" {
		t[c] = true
	}
	return t
}()

// number checks a JSON number as RFC 8259 writes it.
func (sc *scanner) number() bool {
	start := sc.pos
	for sc.pos < len(sc.s) && numberByte[sc.s[sc.pos]] {
		sc.pos++
	}
	return sc.pos > start && validNumber(sc.s[start:sc.pos])
}
