package awsclient

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/falcocw/falcocw/falcocw/reuse"
	"github.com/falcocw/falcocw/falcocw/sha256x2"
)

// Body is a request body written into a buffer from a pool, so that the
// megabyte-sized bodies of data calls do not each cost a fresh allocation
// (and, in a host process, fresh pages). Write it with Append, send it with
// WithBody, and Release it once the call returned.
//
// Reuse is safe whatever the HTTP transport does: every read of the body
// goes through Body under its lock, and after Release every read fails
// instead of returning bytes of another request. (The SDK closes the
// request body after each attempt, waiting for a read in progress, so a
// released body is not read in practice.)
type Body struct {
	mu       sync.Mutex
	buf      []byte
	r        bytes.Reader
	released bool
	// hash is the hex SHA-256 of buf, computed once (PayloadHash).
	hash string
	// read counts the bytes read through Read, for tests: a body is read
	// once per attempt, by the transport.
	read int
}

// Request bodies' buffers are kept for the next bodies in a reuse.List:
// up to keptBuffers whatever the collector does, more in a sync.Pool.
// With a pool alone nearly every body was a fresh megabyte, whose pages
// the kernel faulted in and zeroed as the body was written: two thirds of
// the Fluent Bit process's page faults with falcocw. Buffers over maxKept
// bytes (larger than any batch of Falco alerts: an outsized Firehose
// batch) are left to the collector, so that what stays resident between
// bursts is at most keptBuffers*maxKept bytes.
const (
	keptBuffers = 8
	maxKept     = 2 << 20
	// sizeStep rounds a new buffer's capacity up, so that the next body
	// of about the same size fits the buffer this one gives back.
	sizeStep = 128 << 10
)

var buffers = reuse.New[[]byte](keptBuffers)

var errReleased = errors.New("falcocw: a request body was read after its call returned (not sent)")

// NewBody returns an empty body with room for size bytes.
func NewBody(size int) *Body {
	return &Body{buf: buffer(size)}
}

// buffer returns an empty buffer with room for size bytes, one given back
// where it fits. One too small is left to the collector, so that a buffer
// of the right size takes its place.
func buffer(size int) []byte {
	if b, ok := buffers.Get(); ok && cap(b) >= size {
		return b[:0]
	}
	if size > sizeStep {
		size = (size + sizeStep - 1) / sizeStep * sizeStep
	}
	return make([]byte, 0, size)
}

// Append lets write append to the body's bytes; call it before sending.
func (b *Body) Append(write func([]byte) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = write(b.buf)
	b.r.Reset(b.buf)
	b.hash = ""
}

// PayloadHash returns the hex SHA-256 of the body, as SigV4 signs it,
// computed once from the buffer itself. Given to the signer
// (WithBody), it spares the SDK's own pass, which reads the body through
// a fresh 32 KiB buffer and rewinds it for every attempt: a copy of the
// megabyte and the hash again on each retry.
func (b *Body) PayloadHash() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return "", errReleased
	}
	if b.hash == "" {
		sum := sha256.Sum256(b.buf)
		b.hash = hex.EncodeToString(sum[:])
	}
	return b.hash, nil
}

// HashBodies computes the payload hashes of bodies (PayloadHash) two at a
// time, for a caller that writes several bodies before sending any: with
// SHA-NI two messages hash in two thirds of the time of one after the
// other (sha256x2). Bodies released or hashed already are skipped.
func HashBodies(bodies []*Body) {
	var pending *Body // waiting for a second
	for _, b := range bodies {
		if b == pending || !b.needsHash() {
			continue
		}
		if pending == nil {
			pending = b
			continue
		}
		hashPair(pending, b)
		pending = nil
	}
	if pending != nil {
		_, _ = pending.PayloadHash() // an error: released meanwhile, nothing to do
	}
}

func (b *Body) needsHash() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.released && b.hash == ""
}

// hashPair sets the hashes of a and b, two different bodies.
func hashPair(a, b *Body) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if a.released || b.released { // meanwhile: PayloadHash does the other
		return
	}
	sa, sb := sha256x2.Sum2(a.buf, b.buf)
	a.hash, b.hash = hex.EncodeToString(sa[:]), hex.EncodeToString(sb[:])
}

// Release gives the buffer back to the pool. The body must not be used
// after: reads fail.
func (b *Body) Release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return
	}
	b.released = true
	b.r.Reset(nil)
	if cap(b.buf) <= maxKept {
		buffers.Put(b.buf[:0])
	}
	b.buf = nil
}

// Read, Seek and Len make Body the seekable stream the SDK rewinds for
// each attempt and measures for Content-Length.
//
// Body has no WriteTo, on purpose. The SDK wraps the stream in a closer
// whose WriteTo, once closed (right after the response arrives), returns
// io.EOF as an error; Go's transport, checking for bytes past
// Content-Length after the body was sent, takes that for a write error
// and closes the connection while the response is being read; the SDK
// then retries a request AWS already accepted: a duplicate. Through Read,
// a closed body is a clean end of data.

func (b *Body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return 0, errReleased
	}
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *Body) Seek(offset int64, whence int) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return 0, errReleased
	}
	return b.r.Seek(offset, whence)
}

func (b *Body) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.r.Len()
}
