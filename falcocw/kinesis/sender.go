package kinesis

import (
	"context"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/route"
)

// The Sink is the dest.Sender of kinesis:STREAM targets.
var _ dest.Sender = (*Sink)(nil)

// Takes says a record may carry Kinesis' limit on one record, less the longest partition
// key, which counts toward it.
func (s *Sink) Takes() dest.Takes { return dest.Takes{MaxPayload: MaxRecordBytes - MaxKeyBytes} }

// Batches fills each item's partition key and cuts the items into
// PutRecords batches.
func (s *Sink) Batches(_ dest.Flush, _ route.Target, items []dest.Item) []dest.Request {
	records := make([]Record, len(items))
	for i, it := range items {
		records[i] = Record{ID: it.ID, Data: it.Payload, Key: s.key(it)}
	}
	return dest.Requests(Batches(records))
}

// key is the item's partition key: the template filled from its alert
// (a metric or non-Falco record has none: its fields are "unknown"), cut
// to MaxKeyBytes; never empty.
func (s *Sink) key(it dest.Item) string {
	k := s.opts.PartitionKey.Fill(route.Values{Alert: it.Alert}, keyChars.Sanitize)
	if len(k) > MaxKeyBytes {
		k = k[:MaxKeyBytes]
		for len(k) > 0 && k[len(k)-1]&0xC0 == 0x80 { // not inside a character
			k = k[:len(k)-1]
		}
	}
	if k == "" {
		k = route.Missing
	}
	return k
}

// Send puts one batch, resending the entries the service fails one by one.
func (s *Sink) Send(ctx context.Context, t route.Target, req dest.Request) dest.Outcome {
	batch := req.([]Record)
	accepted, err := s.PutBatch(ctx, t.Name, batch)
	return dest.Partial(batch, func(x Record) int { return x.ID }, accepted, nil, err)
}
