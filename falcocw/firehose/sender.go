package firehose

import (
	"context"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// The Sink is the dest.Sender of firehose:NAME targets.
var _ dest.Sender = (*Sink)(nil)

// Takes says a record may carry Firehose's limit on one record, less the newline that
// ends each record (so that the S3 objects hold one event per line).
func (s *Sink) Takes() dest.Takes { return dest.Takes{MaxPayload: MaxRecordBytes - 1} }

// Batches cuts the items into PutRecordBatch batches, each record ending
// in a newline.
func (s *Sink) Batches(_ dest.Flush, _ route.Target, items []dest.Item) []dest.Request {
	records := make([]Record, len(items))
	for i, it := range items {
		records[i] = Record{ID: it.ID, Data: it.Payload, Newline: true}
	}
	return dest.Requests(Batches(records))
}

// Send puts one batch, resending the entries the service fails one by one.
func (s *Sink) Send(ctx context.Context, t route.Target, req dest.Request) dest.Outcome {
	batch := req.([]Record)
	accepted, err := s.PutBatch(ctx, t.Name, batch)
	return dest.Partial(batch, func(x Record) int { return x.ID }, accepted, nil, err)
}
