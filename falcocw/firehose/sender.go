package firehose

import (
	"context"
	"time"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// The Sink is the dest.Sender of firehose:NAME targets.
var _ dest.Sender = (*Sink)(nil)

// MaxPayload is Firehose's limit on one record, less the newline that
// ends each record (so that the S3 objects hold one event per line).
func (s *Sink) MaxPayload() int { return MaxRecordBytes - 1 }

// Batches cuts the items into PutRecordBatch batches, each record ending
// in a newline.
func (s *Sink) Batches(_ route.Target, items []dest.Item, _ time.Time, _ func(string, ...any)) ([]dest.Request, int) {
	records := make([]Record, len(items))
	for i, it := range items {
		records[i] = Record{ID: it.ID, Data: it.Payload, Newline: true}
	}
	return dest.Requests(Batches(records)), 0
}

// Send puts one batch, resending the entries the service fails one by one.
func (s *Sink) Send(ctx context.Context, t route.Target, req dest.Request) dest.Outcome {
	batch := req.([]Record)
	accepted, err := s.PutBatch(ctx, t.Name, batch)
	return dest.Partial(batch, func(x Record) int { return x.ID }, accepted, nil, err)
}
