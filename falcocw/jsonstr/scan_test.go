package jsonstr

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// referenceAppend is Append as it was before it read eight bytes at a
// time: one byte at a time against a table. The word-at-a-time scan must
// give exactly its result.
func referenceAppend(b []byte, s string) []byte {
	var plain [256]bool
	for c := 0x20; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && plain[s[i]] {
			i++
		}
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

// naiveSpecial is Special one byte at a time.
func naiveSpecial(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return len(s)
}

// TestScanMatchesByteAtATime puts every byte value at every position of
// words of one to three eight-byte lanes, after every kind of earlier byte
// (a borrow from a lower byte must never hide or invent a mark), and
// compares with the one-byte-at-a-time result.
func TestScanMatchesByteAtATime(t *testing.T) {
	fillers := []byte{'a', ' ', 0x7f, 0x80, 0x9f, 0xa0, 0xff, 0x00, 0x1f, '"', '\\', '!', '#', '[', ']'}
	for n := 1; n <= 24; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				for _, fill := range fillers {
					p := bytes.Repeat([]byte{'x'}, n)
					if pos > 0 {
						p[pos-1] = fill
					}
					p[pos] = byte(c)
					s := string(p)
					if got, want := Special(s), naiveSpecial(s); got != want {
						t.Fatalf("Special(%q) = %d, want %d", s, got, want)
					}
					if got, want := Append(nil, s), referenceAppend(nil, s); !bytes.Equal(got, want) {
						t.Fatalf("Append(%q) = %q, want %q", s, got, want)
					}
				}
			}
		}
	}
}

func TestAppendMatchesReference(t *testing.T) {
	for _, s := range []string{"", "plain", strings.Repeat("long plain text ", 40), `{"a":"b\"c","d":[1,2]}`,
		"é😀 and more text after it", "bad\xffbyte\xc3", "\u2028\u2029 in the middle of a long line", "\x00\x01\x1f\x7f",
		// Escapes that outgrow the room made for the text as it is.
		strings.Repeat("\x01", 300), strings.Repeat("\xff", 300), strings.Repeat(`"\`, 300), strings.Repeat("ab\u2028\x02\xc3", 100)} {
		for _, prefix := range [][]byte{nil, []byte("x"), make([]byte, 3, 5)} {
			got, want := Append(bytes.Clone(prefix), s), referenceAppend(bytes.Clone(prefix), s)
			if !bytes.Equal(got, want) {
				t.Errorf("Append(%q, %q) = %q, want %q", prefix, s, got, want)
			}
		}
	}
}

func FuzzScan(f *testing.F) {
	f.Add("a\"b\\c\x00\xff\u2028 then a long plain tail of text")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Special(s), naiveSpecial(s); got != want {
			t.Fatalf("Special(%q) = %d, want %d", s, got, want)
		}
		var m Specials
		if m.Map(s) != isASCII(s) {
			t.Fatalf("Map(%q): wrong ASCII answer", s)
		}
		for i := 0; i <= len(s); { // as a scanner walks it: from one special to the next
			got, want := m.Next(i), i+naiveSpecial(s[i:])
			if got != want {
				t.Fatalf("Next(%d) in %q = %d, want %d", i, s, got, want)
			}
			i = got + 1
		}
		if got, want := Append(nil, s), referenceAppend(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("Append(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestAppendEveryByteMatchesReference puts every byte value at every
// position of strings of 32 to 100 bytes (across the eight-byte words
// Append reads), after every kind of earlier byte, among text with quotes
// and backslashes every few bytes or none, and compares Append with the
// one-byte-at-a-time result.
func TestAppendEveryByteMatchesReference(t *testing.T) {
	fillers := []byte{'a', 0x7f, 0x80, 0xff, 0x00, 0x1f, '"', '\\'}
	bases := []string{strings.Repeat("x", 100), strings.Repeat(`a"b\\cd"`, 13), strings.Repeat(`""`, 50), strings.Repeat(`\\`, 100)}
	for _, base := range bases {
		for _, n := range []int{32, 33, 63, 64, 65, 96, 100} {
			for pos := 0; pos < n; pos += 1 + pos/8 {
				for c := 0; c < 256; c++ {
					for _, fill := range fillers {
						p := []byte(base[:n])
						if pos > 0 {
							p[pos-1] = fill
						}
						p[pos] = byte(c)
						s := string(p)
						for _, room := range []int{0, 70} { // a buffer with room to spare, or none
							got := Append(make([]byte, 1, 1+room), s)
							want := referenceAppend([]byte{0}, s)
							if !bytes.Equal(got, want) {
								t.Fatalf("Append(%q) (room %d) = %q, want %q", s, room, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestAppendResume: in long text with a control or non-ASCII byte here
// and there (a command line with an accented name), Append escapes as the
// reference does, going back to eight bytes at a time past each.
func TestAppendResume(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	odd := []string{"é", "\x01", "\n", "\xff", "\u2028", "😀", "\xe2\x80"}
	for i := 0; i < 5000; i++ {
		var sb strings.Builder
		for sb.Len() < 50+r.IntN(1500) {
			if r.IntN(40) == 0 {
				sb.WriteString(odd[r.IntN(len(odd))])
			} else {
				const text = `abc "\\:{},xyz0123`
				sb.WriteByte(text[r.IntN(len(text))])
			}
		}
		s := sb.String()
		for _, room := range []int{0, 4096} {
			if got, want := Append(make([]byte, 0, room), s), referenceAppend(nil, s); !bytes.Equal(got, want) {
				t.Fatalf("Append(%q) (room %d) = %q, want %q", s, room, got, want)
			}
		}
	}
}

// TestSpecialsMatchesSpecial: Next finds, from every position, the same
// next special byte as the byte-at-a-time reference, whatever the line's
// length, with every byte value at every position of a few lengths, and
// Map says whether the line is ASCII.
func TestSpecialsMatchesSpecial(t *testing.T) {
	check := func(s string) {
		t.Helper()
		var m Specials
		if got, want := m.Map(s), isASCII(s); got != want {
			t.Fatalf("Map(%q) ascii = %v, want %v", s, got, want)
		}
		for i := 0; i <= len(s); i++ {
			if got, want := m.Next(i), i+naiveSpecial(s[i:]); got != want {
				t.Fatalf("Next(%d) in %q = %d, want %d", i, s, got, want)
			}
		}
	}
	for _, n := range []int{0, 1, 7, 63, 64, 65, 127, 128, 129, 200, 4095, 4096, 4097, 5000} {
		check(strings.Repeat("x", n))
		check(strings.Repeat(`{"k":"v"},`, n/10+1)[:n])
		check(strings.Repeat("é\"\x01", n/4+1)[:n])
	}
	for _, n := range []int{64, 70, 130} {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				p := bytes.Repeat([]byte{'a'}, n)
				p[pos] = byte(c)
				var m Specials
				s := string(p)
				if got, want := m.Map(s), c < 0x80; got != want {
					t.Fatalf("Map(%q) ascii = %v, want %v", s, got, want)
				}
				for _, i := range []int{0, pos, pos + 1} {
					if got, want := m.Next(i), i+naiveSpecial(s[min(i, n):]); got != want {
						t.Fatalf("Next(%d) in %q = %d, want %d", i, s, got, want)
					}
				}
			}
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
