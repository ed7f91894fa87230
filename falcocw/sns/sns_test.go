package sns_test

import (
	"bytes"
	"testing"

	"github.com/falcocw/falcocw/falcocw/sns"
)

func TestBatchesRespectLimits(t *testing.T) {
	var msgs []sns.Message
	attrs := []sns.Attribute{{Name: "priority", Type: "String", Value: "Critical"}}
	for i := 0; i < 37; i++ {
		msgs = append(msgs, sns.Message{ID: i, Body: []byte("small"), Attributes: attrs})
	}
	for i := 0; i < 5; i++ {
		msgs = append(msgs, sns.Message{ID: 100 + i, Body: bytes.Repeat([]byte("b"), sns.MaxMessageBytes), Attributes: attrs})
	}
	total := 0
	for _, b := range sns.Batches(msgs) {
		size := 0
		for _, m := range b {
			size += m.Size()
		}
		if len(b) > sns.MaxBatchEntries || size > sns.MaxBatchBytes {
			t.Errorf("batch of %d messages, %d bytes breaks a limit", len(b), size)
		}
		total += len(b)
	}
	if total != len(msgs) {
		t.Errorf("%d messages batched, want %d", total, len(msgs))
	}
}
