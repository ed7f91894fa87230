package eventbridge

import (
	"context"
	"strings"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
	"github.com/falcocw/falcocw/falcocw/route"
)

// The Sink is the dest.Sender of eventbridge:BUS targets.
var _ dest.Sender = (*Sink)(nil)

// Takes says an entry's Detail may be as large as an entry may be beside
// its source, detail-type, time and resources.
func (s *Sink) Takes() dest.Takes { return dest.Takes{MaxPayload: s.maxDetail()} }

func (s *Sink) maxDetail() int {
	return MaxEntryBytes - TimeBytes - len(s.opts.Source) - len(DetailType) - MaxResourceBytes
}

// Batches makes each item an entry (Detail: the event; Time: the alert's;
// Resources: the ECS task ARN when the record had one) and cuts them into
// PutEvents batches. A payload that is not a JSON object (a route with
// format=output) becomes {"output": TEXT}.
func (s *Sink) Batches(_ dest.Flush, _ route.Target, items []dest.Item) []dest.Request {
	entries := make([]Entry, len(items))
	for i, it := range items {
		e := Entry{ID: it.ID, Source: s.opts.Source, Detail: it.Payload}
		if !it.Time.IsZero() {
			e.UnixMilli = max(it.Time.UnixMilli(), 1)
		}
		if len(e.Detail) == 0 || e.Detail[0] != '{' {
			text := jsonstr.Truncate(string(e.Detail), s.maxDetail()/2-16) // escaping at most doubles it
			e.Detail = jsonstr.Append([]byte(`{"output":`), text)
			e.Detail = append(e.Detail, '}')
		}
		if it.Alert != nil {
			if arn := it.Alert.ECS["ecs_task_arn"]; strings.HasPrefix(arn, "arn:") && len(arn) <= MaxResourceBytes {
				e.Resources = []string{arn}
			}
		}
		entries[i] = e
	}
	return dest.Requests(Batches(entries))
}

// Send puts one batch, resending the entries the service fails one by one.
func (s *Sink) Send(ctx context.Context, t route.Target, req dest.Request) dest.Outcome {
	batch := req.([]Entry)
	accepted, rejected, err := s.PutBatch(ctx, t.Name, batch)
	return dest.Partial(batch, func(x Entry) int { return x.ID }, accepted, rejected, err)
}
