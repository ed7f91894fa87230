package cwlogs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// TestBatchesWriteBodies: Batches writes each request's body, and hashes
// it, before the flush sends any (so that awsclient.HashBodies takes the
// bodies two at a time); each body is AppendBody of its batch, and Release
// gives the bodies back.
func TestBatchesWriteBodies(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	target := route.Target{Kind: "cloudwatch", Name: "/falco/alerts", Stream: "node-1"}
	items := make([]dest.Item, 4000) // about 2.6 MB: three batches
	for i := range items {
		q := []byte(fmt.Sprintf(`"{\"rule\":\"Terminal shell in container\",\"n\":%d,\"output\":\"%s\"}"`, i, strings.Repeat("x", 600)))
		items[i] = dest.Item{ID: i, Time: t0.Add(time.Duration(i) * time.Millisecond), Quoted: q, QuotedLen: len(q) - 2}
	}
	var s Sink
	reqs := s.Batches(dest.Flush{Now: t0, Adjusted: func(int, string, ...any) {}}, target, items)
	if len(reqs) < 2 {
		t.Fatalf("%d requests, want several (the test needs bodies to pair)", len(reqs))
	}
	events := 0
	for i, r := range reqs {
		req := r.(*request)
		events += len(req.batch)
		want := AppendBody(nil, target.Name, target.Stream, req.batch)
		got, err := io.ReadAll(req.body)
		if err != nil || string(got) != string(want) {
			t.Fatalf("request %d: body of %d bytes (%v), want AppendBody's %d", i, len(got), err, len(want))
		}
		sum := sha256.Sum256(want)
		if h, err := req.body.PayloadHash(); err != nil || h != hex.EncodeToString(sum[:]) {
			t.Fatalf("request %d: payload hash %s (%v), want %x", i, h, err, sum)
		}
	}
	if events != len(items) {
		t.Fatalf("the requests hold %d events, want %d", events, len(items))
	}
	s.Release(reqs)
	for i, r := range reqs {
		if _, err := r.(*request).body.Read(make([]byte, 1)); err == nil || err == io.EOF {
			t.Fatalf("request %d: body readable after Release (%v)", i, err)
		}
	}
}
