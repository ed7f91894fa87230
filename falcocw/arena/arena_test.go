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
