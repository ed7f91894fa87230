package route

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSanitizeMatchesStringsMap: the table path gives strings.Map's result
// for every sanitizer on every ASCII character, and on random text.
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
	for _, s := range inputs {
		for _, tc := range []struct {
			name string
			fast func(string) string
			ref  func(rune) bool
		}{{"group", sanitizeGroup, validGroupChar}, {"stream", sanitizeStream, validStreamChar},
			{"firehose", sanitizeFirehose, validFirehoseChar}, {"topic", sanitizeTopic, validTopicNameChar}} {
			if got, want := tc.fast(s), sanitizeWith(s, tc.ref); got != want {
				t.Fatalf("%s(%q) = %q, want %q", tc.name, s, got, want)
			}
		}
	}
}

// referenceGlob is Glob as first written: both sides lowered and turned
// into runes.
func referenceGlob(pattern, s string) bool {
	p, str := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(s))
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func TestGlobMatchesReference(t *testing.T) {
	alphabet := []string{"a", "B", "*", "?", "_", "É", "é", "ß", "\xff", "İ", strings.Repeat("x", 70)}
	r := rand.New(rand.NewPCG(5, 6))
	word := func() string {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 20000 {
		p, s := word(), strings.ReplaceAll(strings.ReplaceAll(word(), "*", "c"), "?", "d")
		if got, want := Glob(p, s), referenceGlob(p, s); got != want {
			t.Fatalf("Glob(%q, %q) = %v, want %v", p, s, got, want)
		}
	}
}
