package reuse

import (
	"runtime"
	"testing"
)

// TestKeptOutliveCollections: what a List keeps survives collections, which
// empty a sync.Pool; what it does not keep goes to the pool.
func TestKeptOutliveCollections(t *testing.T) {
	l := New[*[1 << 16]byte](2)
	var put []*[1 << 16]byte
	for i := range 3 {
		b := new([1 << 16]byte)
		b[0] = byte(i + 1)
		put = append(put, b)
		l.Put(b)
	}
	if l.Kept() != 2 {
		t.Fatalf("Kept() = %d after three Puts, want 2", l.Kept())
	}
	runtime.GC()
	runtime.GC()                    // the pool's victim cache is gone now
	for _, i := range []int{1, 0} { // last put, first out: the warmest
		b, ok := l.Get()
		if !ok || b != put[i] {
			t.Fatalf("Get after two collections = %p, %v; want the buffer put %d (%p)", b, ok, i, put[i])
		}
	}
	if b, ok := l.Get(); ok {
		// The third went to the pool, which two collections emptied.
		t.Fatalf("Get after the kept ones = %p (byte %d), want none", b, b[0])
	}
}

// TestGetEmpty: an empty List says so, and hands out no zero value as if
// it were a buffer.
func TestGetEmpty(t *testing.T) {
	l := New[[]byte](1)
	if b, ok := l.Get(); ok || b != nil {
		t.Fatalf("Get on an empty List = %v, %v; want nil, false", b, ok)
	}
	l.Put(make([]byte, 0, 8))
	if b, ok := l.Get(); !ok || cap(b) != 8 {
		t.Fatalf("Get = cap %d, %v; want cap 8, true", cap(b), ok)
	}
}

func BenchmarkGetPut(b *testing.B) {
	l := New[*[256]byte](4)
	l.Put(new([256]byte))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v, ok := l.Get()
			if !ok {
				v = new([256]byte)
			}
			l.Put(v)
		}
	})
}
