package awsclient

import (
	"bytes"
	"errors"
	"io"
	"testing"
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
		if _, err := b.WriteTo(&w); err != nil || w.String() != `{"a":1}` {
			t.Fatalf("WriteTo: %q, %v", w.String(), err)
		}
	}
	b.Release()
	b.Release() // twice is harmless
	if n, err := b.Read(make([]byte, 8)); n != 0 || !errors.Is(err, errReleased) {
		t.Fatalf("Read after Release = %d, %v; want 0, errReleased", n, err)
	}
	if _, err := b.WriteTo(io.Discard); !errors.Is(err, errReleased) {
		t.Fatalf("WriteTo after Release: %v, want errReleased", err)
	}
	if _, err := b.Seek(0, io.SeekStart); !errors.Is(err, errReleased) {
		t.Fatalf("Seek after Release: %v, want errReleased", err)
	}
	// The buffer serves the next body, which never sees the old bytes.
	c := NewBody(4)
	c.Append(func(p []byte) []byte { return append(p, "xy"...) })
	if got := string(c.Bytes()); got != "xy" {
		t.Fatalf("next body = %q, want %q", got, "xy")
	}
}
