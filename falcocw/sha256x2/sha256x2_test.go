package sha256x2

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// TestSum2MatchesSum256 compares Sum2 with crypto/sha256 on pairs of
// random messages of lengths about the block and padding edges (55, 56
// and 64 bytes: where the length spills into another block), and of the
// sizes of request bodies; with the SHA-NI code and without it.
func TestSum2MatchesSum256(t *testing.T) {
	if !useSHANI {
		t.Log("NOTE: this CPU has no SHA extensions (or the build is purego): only the fallback is tested")
	}
	r := rand.New(rand.NewPCG(1, 2))
	message := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	lengths := []int{0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65536 + 7, 1 << 20}
	for _, shani := range []bool{useSHANI, false} {
		saved := useSHANI
		useSHANI = shani
		for _, la := range lengths {
			for _, lb := range lengths {
				a, b := message(la), message(lb)
				sa, sb := Sum2(a, b)
				if want := sha256.Sum256(a); sa != want {
					t.Errorf("SHA-NI %v: Sum2 of %d and %d bytes: first %x, want %x", shani, la, lb, sa, want)
				}
				if want := sha256.Sum256(b); sb != want {
					t.Errorf("SHA-NI %v: Sum2 of %d and %d bytes: second %x, want %x", shani, la, lb, sb, want)
				}
			}
		}
		useSHANI = saved
	}
}

// TestSum2SameMessage: one buffer given twice (the two chains must not
// share any state but the constants).
func TestSum2SameMessage(t *testing.T) {
	m := make([]byte, 3000)
	for i := range m {
		m[i] = byte(i * 7)
	}
	sa, sb := Sum2(m, m)
	if want := sha256.Sum256(m); sa != want || sb != want {
		t.Fatalf("Sum2(m, m) = %x, %x; want %x twice", sa, sb, want)
	}
}

func FuzzSum2(f *testing.F) {
	f.Add([]byte("a"), []byte("b"))
	f.Add(make([]byte, 200), make([]byte, 130))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		sa, sb := Sum2(a, b)
		if sa != sha256.Sum256(a) || sb != sha256.Sum256(b) {
			t.Fatalf("Sum2 of %d and %d bytes differs from sha256.Sum256", len(a), len(b))
		}
	})
}

var bodyA, bodyB = make([]byte, 1<<20), make([]byte, 1<<20)

// BenchmarkSum2 against BenchmarkSum256Twice: two megabyte bodies, as a
// flush's PutLogEvents calls have them.
func BenchmarkSum2(b *testing.B) {
	b.SetBytes(2 << 20)
	for b.Loop() {
		Sum2(bodyA, bodyB)
	}
}

func BenchmarkSum256Twice(b *testing.B) {
	b.SetBytes(2 << 20)
	for b.Loop() {
		sha256.Sum256(bodyA)
		sha256.Sum256(bodyB)
	}
}
