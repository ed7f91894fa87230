package cwlogs

import (
	"context"
	"fmt"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/reuse"
	"github.com/falcocw/falcocw/falcocw/route"
)

// The Sink is the dest.Sender of cloudwatch:GROUP:STREAM targets, and
// takes events already written as JSON strings (the body's messages).
var _ dest.Sender = (*Sink)(nil)

// Takes says an event's message may be CloudWatch's limit on one, and
// that the Sink takes it written as a JSON string (the request's
// "message").
func (s *Sink) Takes() dest.Takes { return dest.Takes{MaxPayload: MaxMessageBytes, Quoted: true} }

// request is one PutLogEvents call: a batch, and its body, written
// before the flush sends any request, so that the bodies' SHA-256 (which
// SigV4 signs) is computed two at a time (awsclient.HashBodies).
type request struct {
	batch []Event
	body  *awsclient.Body
}

// Batches clamps each timestamp into CloudWatch's window (saying how many
// in one line, naming the oldest), cuts the events into PutLogEvents batches and writes
// their bodies.
func (s *Sink) Batches(f dest.Flush, t route.Target, items []dest.Item) []dest.Request {
	events, _ := eventRooms.Get()
	if cap(events) < len(items) { // room to spare, so that the rooms kept fit the next flushes' targets
		events = make([]Event, 0, max(len(items)+len(items)/4, 2048))
	}
	events = events[:len(items)]
	clamped, oldest := 0, -1
	for i, it := range items {
		ts, changed := ClampTime(it.Time, f.Now)
		if changed {
			if clamped++; oldest < 0 || it.Time.Before(items[oldest].Time) {
				oldest = i
			}
		}
		events[i] = Event{ID: it.ID, Time: ts, Message: it.Payload, Quoted: it.Quoted, QuotedLen: it.QuotedLen}
	}
	if clamped > 0 { // one line for the target, not one per event: a replayed backlog may be all old
		f.Adjusted(clamped, "%s: %d of %d events outside CloudWatch's window (14 days back, 2 hours ahead), the oldest %s (%s): "+
			"sent with the current time, the original kept in the message", t, clamped, len(items),
			items[oldest].Time.UTC().Format(time.RFC3339Nano), items[oldest].Describe())
	}
	batches := Batches(events)
	reqs := make([]dest.Request, len(batches))
	bodies := make([]*awsclient.Body, len(batches))
	for i, b := range batches {
		body := newBody(t.Name, t.Stream, b)
		reqs[i], bodies[i] = &request{batch: b, body: body}, body
	}
	awsclient.HashBodies(bodies)
	return reqs
}

// eventRooms keeps the room of a flush's events (80 bytes each, a flush's
// largest allocation) for the next: Batches takes one, Release gives it
// back. A few rooms, one per target of a flush, are kept whatever the
// collector does (a sync.Pool alone loses them at collections, and hands
// a goroutine that moved to another P none of those put on the first).
var eventRooms = reuse.New[[]Event](16)

// Release gives back the bodies Batches wrote and the room of the events
// it cut reqs from, once the flush sent them all.
func (s *Sink) Release(reqs []dest.Request) {
	n := 0 // the batches cut the events in order: together, all of them
	var first []Event
	for i, r := range reqs {
		req, ok := r.(*request)
		if !ok {
			continue
		}
		req.body.Release()
		if i == 0 {
			first = req.batch // the events' first batch: their room starts with it
		}
		n += len(req.batch)
	}
	if cap(first) == 0 {
		return
	}
	// Cleared, the room kept holds no pointer to the flush's events (the
	// arena's slabs, the collector's to take back when idle).
	clear(first[:min(n, cap(first))])
	eventRooms.Put(first[:0])
}

// Send puts one batch; CloudWatch takes it whole or not at all, except
// for the events whose timestamps it refuses.
func (s *Sink) Send(ctx context.Context, t route.Target, req dest.Request) dest.Outcome {
	call := req.(*request)
	batch := call.batch
	r, err := s.put(ctx, t.Name, t.Stream, batch, call.body)
	o := dest.Outcome{Accepted: r.Accepted, Err: err}
	for _, e := range r.Rejected {
		o.Rejected = append(o.Rejected, dest.Rejection{ID: e.ID,
			Reason: fmt.Sprintf("CloudWatch rejected its timestamp %s (too old, too new or expired)", e.Time.Format(time.RFC3339Nano))})
	}
	if err != nil {
		for _, e := range batch {
			o.Failed = append(o.Failed, e.ID)
		}
	}
	return o
}
