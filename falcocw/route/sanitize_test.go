package route

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSanitizeMatchesStringsMap: a Charset's table path gives strings.Map's
// result on every ASCII character and on random text, for charsets of
// several shapes (the destination packages declare the real ones).
func TestSanitizeMatchesStringsMap(t *testing.T) {
	inputs := []string{"", "ip-10-0-1-23.eu-west-1.compute.internal", "a:b*c", "é", "\xff", "Read sensitive file"}
	for c := 0; c < 256; c++ {
		inputs = append(inputs, "x"+string(rune(c))+"y", "x"+string([]byte{byte(c)})+"y")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		inputs = append(inputs, string(b))
	}
	for name, valid := range map[string]func(rune) bool{
		"alnum and /": func(c rune) bool { return c == '/' || IsAlnum(c) },
		"not : or *":  func(c rune) bool { return c != ':' && c != '*' && c >= 0x20 },
		"alnum":       IsAlnum,
	} {
		cs := NewCharset(valid, 512)
		for _, s := range inputs {
			if got, want := cs.Sanitize(s), sanitizeWith(s, valid); got != want {
				t.Fatalf("%s: Sanitize(%q) = %q, want %q", name, s, got, want)
			}
		}
	}
}

// TestLowerRunesMatchesToLower: Glob's folding into runes without
// building strings gives []rune(strings.ToLower(s)), which Glob used
// before, on ASCII, on other scripts and on invalid UTF-8.
func TestLowerRunesMatchesToLower(t *testing.T) {
	alphabet := []string{"a", "B", "Z", "*", "?", "_", "É", "é", "ß", "\xff", "İ", "Σ", strings.Repeat("X", 70)}
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		if got, want := lowerRunes(nil, s), []rune(strings.ToLower(s)); !slices.Equal(got, want) {
			t.Fatalf("lowerRunes(%q) = %q, want %q", s, string(got), string(want))
		}
	}
}

// TestGlobASCIIMatchesRunes: on ASCII text, Glob's byte path decides as
// its rune path (lower-cased runes) does, for patterns of stars, question
// marks and letters of either case against text of the same letters.
func TestGlobASCIIMatchesRunes(t *testing.T) {
	pat := []string{"a", "B", "b", "*", "?", "_", "*", "z"}
	txt := []string{"a", "A", "b", "B", "_", "*", "?", "z", "Z", "1"}
	r := rand.New(rand.NewPCG(7, 8))
	gen := func(alphabet []string, n int) string {
		var b strings.Builder
		for range r.IntN(n) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	matched := 0
	for range 200000 {
		p, s := gen(pat, 7), gen(txt, 9)
		var pb, sb [64]rune
		got, want := Glob(p, s), glob(lowerRunes(pb[:0], p), lowerRunes(sb[:0], s))
		if got != want {
			t.Fatalf("Glob(%q, %q): bytes say %v, runes %v", p, s, got, want)
		}
		if got {
			matched++
		}
	}
	if matched < 10000 {
		t.Fatalf("only %d of the cases matched: the test is not testing matches", matched)
	}
}

// BenchmarkGlob is a tag term against a Falco alert's tags.
func BenchmarkGlob(b *testing.B) {
	tags := []string{"PCI_DSS_10.2.5", "T1610", "cis", "container", "maturity_incubating", "mitre_execution"}
	for b.Loop() {
		for _, tag := range tags {
			Glob("mitre_*", tag)
		}
	}
}
