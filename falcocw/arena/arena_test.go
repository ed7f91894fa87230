package arena

import (
	"bytes"
	"testing"
)

func TestBuffersDoNotOverlap(t *testing.T) {
	var a Arena
	defer a.Release()
	var kept [][]byte
	for i := 0; i < 3*SlabSize/1000; i++ { // spans several slabs
		b := a.Buffer(1000)
		if cap(b) < 1000 || len(b) != 0 {
			t.Fatalf("Buffer(1000): len %d cap %d", len(b), cap(b))
		}
		b = append(b, bytes.Repeat([]byte{byte(i)}, 700+i%300)...)
		kept = append(kept, a.Keep(b))
	}
	if len(a.held) < 3 {
		t.Errorf("%d slabs held, want at least 3", len(a.held))
	}
	for i, b := range kept {
		if cap(b) != len(b) {
			t.Errorf("buffer %d: cap %d after Keep, want its length %d", i, cap(b), len(b))
		}
		if want := bytes.Repeat([]byte{byte(i)}, 700+i%300); !bytes.Equal(b, want) {
			t.Fatalf("buffer %d was overwritten by a later one", i)
		}
	}
	// Appending to a kept buffer must not reach into the next one.
	next := a.Keep(append(a.Buffer(10), "next"...))
	grown := append(kept[len(kept)-1], "more"...)
	_ = grown
	if string(next) != "next" {
		t.Errorf("appending to a kept buffer overwrote the next: %q", next)
	}
}

func TestOutsizedAndOutgrownBuffers(t *testing.T) {
	var a Arena
	defer a.Release()
	big := a.Buffer(SlabSize/4 + 1)
	if len(a.held) != 0 || cap(big) < SlabSize/4+1 {
		t.Errorf("an outsized buffer took a slab (%d held) or is short (cap %d)", len(a.held), cap(big))
	}
	b := a.Buffer(16)
	free := cap(a.free)
	b = append(b, bytes.Repeat([]byte("x"), SlabSize+1)...) // outgrows the slab: moves to the heap
	if k := a.Keep(b); len(k) != SlabSize+1 || cap(a.free) != free {
		t.Errorf("Keep of an outgrown buffer: len %d, slab space %d -> %d (want unchanged)", len(k), free, cap(a.free))
	}
	c := a.Keep(append(a.Buffer(16), "after"...))
	if string(c) != "after" {
		t.Errorf("got %q", c)
	}
}

func TestPoison(t *testing.T) {
	for _, poison := range []bool{false, true} {
		Poison = poison
		var a Arena
		b := a.Keep(append(a.Buffer(100), "an event"...))
		a.Release()
		if got := bytes.Equal(b, bytes.Repeat([]byte{PoisonByte}, len(b))); got != poison {
			t.Errorf("Poison %v: after Release the buffer reads %q", poison, b)
		}
		if len(a.held) != 0 || a.free != nil {
			t.Errorf("Release left %d slabs held", len(a.held))
		}
	}
	Poison = false
}

func TestSlabHandsOutDistinctZeroValues(t *testing.T) {
	type rec struct {
		n    int
		name string
	}
	var s Slab[rec]
	for round := 0; round < 2; round++ { // the second round reuses the blocks
		var got []*rec
		for i := 0; i < 2*slabLen+10; i++ { // spans three blocks
			r := s.New()
			if *r != (rec{}) {
				t.Fatalf("round %d: value %d not zero: %+v", round, i, *r)
			}
			r.n, r.name = i, "x"
			got = append(got, r)
		}
		for i, r := range got {
			if r.n != i {
				t.Fatalf("round %d: value %d overwritten by %d", round, i, r.n)
			}
		}
		if s.Len() != len(got) || len(s.blocks) != 3 {
			t.Errorf("round %d: Len %d blocks %d, want %d and 3", round, s.Len(), len(s.blocks), len(got))
		}
		s.Reset()
		for i, r := range got {
			if *r != (rec{}) {
				t.Fatalf("round %d: value %d not zeroed by Reset: %+v", round, i, *r)
			}
		}
	}
}

func TestSlabDrop(t *testing.T) {
	var s Slab[[2]string]
	a := s.New()
	b := s.New()
	b[0] = "b"
	s.Drop(a) // not the last: stays handed out
	if s.Len() != 2 {
		t.Fatalf("Drop of an earlier value: Len %d, want 2", s.Len())
	}
	s.Drop(b)
	if s.Len() != 1 || b[0] != "" {
		t.Fatalf("Drop of the last value: Len %d, value %q; want 1 and zeroed", s.Len(), b[0])
	}
	if c := s.New(); c != b {
		t.Errorf("New after Drop did not reuse the dropped value")
	}
}
