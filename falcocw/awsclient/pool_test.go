package awsclient

import (
	"bytes"
	"context"
	"errors"
	"io"
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
