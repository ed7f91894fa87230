package sns

import (
	"context"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
	"github.com/falcocw/falcocw/falcocw/route"
)

// The Sink is the dest.Sender of sns:TOPIC_ARN targets.
var _ dest.Sender = (*Sink)(nil)

// Takes says a message may carry SNS's limit on one message.
func (s *Sink) Takes() dest.Takes { return dest.Takes{MaxPayload: MaxMessageBytes} }

// Batches cuts the items into PublishBatch batches, each message with the
// attributes subscription filter policies match on.
func (s *Sink) Batches(_ dest.Flush, _ route.Target, items []dest.Item) []dest.Request {
	msgs := make([]Message, len(items))
	for i, it := range items {
		msgs[i] = Message{ID: it.ID, Body: it.Payload, Attributes: Attributes(it.Alert)}
	}
	return dest.Requests(Batches(msgs))
}

// Send publishes one batch, resending the entries the service fails one by one.
func (s *Sink) Send(ctx context.Context, t route.Target, req dest.Request) dest.Outcome {
	batch := req.([]Message)
	accepted, err := s.PublishBatch(ctx, t.Name, batch)
	return dest.Partial(batch, func(x Message) int { return x.ID }, accepted, nil, err)
}

// Attributes are the message attributes subscription filter policies
// match on: priority, rule, source, hostname (Strings) and tags (a
// String.Array). SNS refuses empty values, so absent fields are left out.
func Attributes(a *falco.Alert) []Attribute {
	if a == nil {
		return nil
	}
	attrs := []Attribute{{Name: "priority", Type: "String", Value: a.Priority.String()}}
	for _, f := range [][2]string{{"rule", a.Rule}, {"source", a.Source}, {"hostname", a.Hostname}} {
		if f[1] != "" {
			attrs = append(attrs, Attribute{Name: f[0], Type: "String", Value: jsonstr.Truncate(f[1], 1024)})
		}
	}
	if len(a.Tags) > 0 {
		tags := falco.AppendStringArray(nil, a.Tags)
		if len(tags) <= AttributeBudget/2 {
			attrs = append(attrs, Attribute{Name: "tags", Type: "String.Array", Value: string(tags)})
		}
	}
	return attrs
}
