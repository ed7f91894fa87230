package falcocw

import "sync"

// chunks keeps the copies of chunks flushes work on (ownChunk), for the
// next flushes.
var chunks sync.Pool

// ownChunk returns a copy of data in memory of falcocw's own, which stays
// valid after the flush returns to Fluent Bit (that frees data) until
// releaseChunk.
func ownChunk(data []byte) *[]byte {
	b, _ := chunks.Get().(*[]byte)
	if b == nil {
		b = new([]byte)
	}
	*b = append((*b)[:0], data...)
	return b
}

// releaseChunk gives a copy back once nothing reads it.
func releaseChunk(b *[]byte) {
	if cap(*b) > 16<<20 { // an outsized chunk is not kept
		return
	}
	chunks.Put(b)
}
