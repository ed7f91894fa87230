package falco

import (
	"bytes"
	"testing"
	"unsafe"
)

// TestCloneSharesNothing: an alert read in place from a chunk (its strings
// views into it, as the tail path reads them) and then cloned writes the
// same event after the chunk's bytes are overwritten, as Fluent Bit frees
// and reuses them once the flush returns.
func TestCloneSharesNothing(t *testing.T) {
	lines := append(sampleLines(t),
		`{"rule":"r","priority":"Error","output":"o","tags":["a","b"],"uuid":"u","message":"m","output_fields":{"k8s.ns.name":"ns","container.id":"c","x":[1,{"y":"z"}]}}`,
		`{"rule":"r","priority":"Error","output":"o","output_fields":{"n":1.5},"kubernetes":{"pod_name":"p","labels":{"app":"a"}},"ecs_cluster":"c"}`)
	for _, line := range lines {
		if line == "" {
			continue
		}
		chunk := []byte(line)
		view := unsafe.String(&chunk[0], len(chunk))
		a, ok := RecogniseLine("log", view, "log", diffTime)
		if !ok {
			continue
		}
		a.Fields() // the decoded output_fields too, as storm_by reads them
		want, wantID := a.AppendJSON(nil), a.ID()
		c := a.Clone()
		for i := range chunk {
			chunk[i] = 0xDB
		}
		if got := c.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("the clone changed with the chunk:\n got %s\nwant %s", got, want)
		}
		if c.ID() != wantID {
			t.Errorf("the clone's id %s, want %s", c.ID(), wantID)
		}
	}
}
