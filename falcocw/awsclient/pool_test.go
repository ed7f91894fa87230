package awsclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"runtime"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestBodyReadsUntilReleased(t *testing.T) {
	b := NewBody(16)
	b.Append(func(p []byte) []byte { return append(p, `{"a":1}`...) })
	for range 2 { // an attempt, then a retry after a rewind
		if _, err := b.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if b.Len() != 7 {
			t.Fatalf("Len = %d, want 7", b.Len())
		}
		var w bytes.Buffer
		if _, err := io.Copy(&w, b); err != nil || w.String() != `{"a":1}` {
			t.Fatalf("copy: %q, %v", w.String(), err)
		}
	}
	b.Release()
	b.Release() // twice is harmless
	if n, err := b.Read(make([]byte, 8)); n != 0 || !errors.Is(err, errReleased) {
		t.Fatalf("Read after Release = %d, %v; want 0, errReleased", n, err)
	}
	if _, err := b.Seek(0, io.SeekStart); !errors.Is(err, errReleased) {
		t.Fatalf("Seek after Release: %v, want errReleased", err)
	}
	// The buffer serves the next body, which never sees the old bytes.
	c := NewBody(4)
	c.Append(func(p []byte) []byte { return append(p, "xy"...) })
	if got, err := io.ReadAll(c); err != nil || string(got) != "xy" {
		t.Fatalf("next body = %q, %v; want %q", got, err, "xy")
	}
}

// TestClosedBodyEndsCleanly reproduces what Go's transport does after
// sending a body: it reads on, to check for bytes past Content-Length,
// possibly after the SDK closed the body because the answer had arrived.
// That read must end cleanly: an error there makes the transport close the
// connection under the answer, and the SDK send the request again (seen
// as PutRecordBatch accepted twice by a loopback endpoint).
func TestClosedBodyEndsCleanly(t *testing.T) {
	b := NewBody(16)
	b.Append(func(p []byte) []byte { return append(p, `{"a":1}`...) })
	req, err := smithyhttp.NewStackRequest().(*smithyhttp.Request).SetStream(b)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 7
	built := req.Build(context.Background())
	if _, err := io.Copy(io.Discard, io.LimitReader(built.Body, 7)); err != nil {
		t.Fatal(err)
	}
	_ = built.Body.Close() // the SDK, once the answer arrived
	if n, err := io.Copy(io.Discard, built.Body); n != 0 || err != nil {
		t.Fatalf("reading a closed request body: %d bytes, %v; want 0, nil", n, err)
	}
}

// TestBuffersOutliveCollections checks that a body's buffer serves a later
// body after collections, which empty a sync.Pool: in a busy host the
// collector runs between most flushes, and a fresh megabyte for each body
// cost its pages' faults and zeroing on every request.
func TestBuffersOutliveCollections(t *testing.T) {
	for buffers.Kept() > 0 { // start from no kept buffers
		buffers.Get()
	}
	const size = 1 << 20 // a CloudWatch batch
	b := NewBody(size)
	b.Append(func(p []byte) []byte { return append(p, "first"...) })
	b.Release()
	runtime.GC()
	runtime.GC()
	c := NewBody(size - 1000) // about the same size
	defer c.Release()
	// A fresh allocation (which may well take the same address) is zeroed;
	// the buffer reused still holds the old bytes past the new body's end.
	if old := c.buf[:5]; string(old) != "first" {
		t.Fatalf("the next body's buffer holds %q: the released one did not serve it after two collections", old)
	}
	c.Append(func(p []byte) []byte { return append(p, 'x') })
	if got, err := io.ReadAll(c); err != nil || string(got) != "x" {
		t.Fatalf("next body = %q, %v; want %q", got, err, "x")
	}
}

// TestKeptBuffersBounded checks what stays resident between bursts: no
// buffer larger than maxKept; and that a buffer too small for a body is
// not handed out for it.
func TestKeptBuffersBounded(t *testing.T) {
	for buffers.Kept() > 0 {
		buffers.Get()
	}
	big := NewBody(maxKept + 1)
	big.Release()
	if buffers.Kept() != 0 {
		t.Fatalf("a buffer of %d bytes kept, over maxKept (%d)", maxKept+1, maxKept)
	}
	small := NewBody(64 << 10)
	small.Release() // the only buffer given back, too small for the next
	if buffers.Kept() != 1 {
		t.Fatalf("%d buffers kept, want 1", buffers.Kept())
	}
	larger := NewBody(256 << 10)
	defer larger.Release()
	if cap(larger.buf) < 256<<10 {
		t.Fatalf("body for 256 KiB got a buffer of %d bytes", cap(larger.buf))
	}
}

// TestHashBodies: the bodies' hashes, computed two at a time, are each
// body's own SHA-256, set before any send; a released body and one given
// twice are left alone.
func TestHashBodies(t *testing.T) {
	var bodies []*Body
	for i, n := range []int{1 << 20, 1<<20 - 333, 70, 0, 5000} {
		b := NewBody(n)
		b.Append(func(p []byte) []byte {
			for j := range n {
				p = append(p, byte(i+j*31))
			}
			return p
		})
		bodies = append(bodies, b)
	}
	released := NewBody(10)
	released.Release()
	twice := bodies[2]
	HashBodies(append(bodies, released, twice, twice))
	for i, b := range bodies {
		if b.hash == "" {
			t.Fatalf("body %d (%d bytes) not hashed by HashBodies", i, len(b.buf))
		}
		sum := sha256.Sum256(b.buf)
		if want := hex.EncodeToString(sum[:]); b.hash != want {
			t.Fatalf("body %d (%d bytes): hash %s, want %s", i, len(b.buf), b.hash, want)
		}
		b.Release()
	}
	if released.hash != "" {
		t.Fatalf("a released body was hashed: %s", released.hash)
	}
}
