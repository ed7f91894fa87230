// Package reuse keeps large buffers from one flush for the next, whatever
// the garbage collector does.
//
// A sync.Pool drops what it holds at the second collection after the Put,
// and in a Fluent Bit at full load the collector runs between most
// flushes. Request bodies taken from a pool alone were therefore mostly
// fresh allocations: megabytes per flush zeroed by the runtime and faulted
// in by the kernel page by page. A List keeps a bounded number of values,
// which no collection takes, and hands the rest to a sync.Pool as before.
// (The arena's slabs and the flush scratches measured the same either way
// in Fluent Bit, and stay on their pools.)
package reuse

import "sync"

// List is a free list: a few values kept for good, more in a sync.Pool.
// It is safe for concurrent use. Values are kept as they are put: clear
// what must not outlive its user before Put.
//
// The kept values are a stack: Get returns the value put last, the one
// most likely still in the cache (a channel, first in first out, handed
// out the coldest).
type List[T any] struct {
	mu   sync.Mutex
	kept []T
	pool sync.Pool
}

// New returns a List that keeps up to n values whatever the collector
// does: as many as a busy plugin has in use at once, so that they stay
// resident between bursts (n times their size, at most).
func New[T any](n int) *List[T] {
	return &List[T]{kept: make([]T, 0, n)}
}

// Get returns a value put before, kept ones first, and false if there is
// none: the caller then makes one.
func (l *List[T]) Get() (T, bool) {
	var zero T
	l.mu.Lock()
	if n := len(l.kept); n > 0 {
		v := l.kept[n-1]
		l.kept[n-1] = zero
		l.kept = l.kept[:n-1]
		l.mu.Unlock()
		return v, true
	}
	l.mu.Unlock()
	if v, ok := l.pool.Get().(T); ok {
		return v, true
	}
	return zero, false
}

// Put gives v back for a later Get.
func (l *List[T]) Put(v T) {
	l.mu.Lock()
	if len(l.kept) < cap(l.kept) {
		l.kept = append(l.kept, v)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	l.pool.Put(v)
}

// Kept is how many values the List holds whatever the collector does, for
// tests.
func (l *List[T]) Kept() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.kept)
}
