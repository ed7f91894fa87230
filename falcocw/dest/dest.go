// Package dest is what a flush knows of a destination service: a Sender
// says how large one event may be, cuts a target's events into requests
// within its API's limits, and sends one request, reporting which events it
// accepted, which it refused for good, and what failed. The flush routes
// and collects; each service package (cwlogs, firehose, kinesis, sns,
// eventbridge, securityhub) implements a Sender and registers it
// (Register), and the instance builds one per registered kind.
package dest

import (
	"context"
	"fmt"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Item is one event bound for one target.
type Item struct {
	// ID is the event's record index in the chunk (or above it for a
	// metric record or a storm summary); it names the event in the ledger.
	ID   int
	Time time.Time
	// Payload is the event; nil when Quoted holds it.
	Payload []byte
	// Quoted, given only to a sender that takes it (Takes.Quoted), is the event already written
	// as a JSON string (quoted and escaped, as a JSON request body carries
	// it), and QuotedLen the event's own length, unescaped.
	Quoted    []byte
	QuotedLen int
	// Alert is the alert the event shows, nil for a non-Falco record or
	// a metric record.
	Alert *falco.Alert
	// Metric marks an Embedded Metric Format record.
	Metric bool
}

// Describe names the item in a log line without its whole payload.
func (it Item) Describe() string {
	if it.Alert != nil {
		return "alert " + it.Alert.String()
	}
	if it.Metric {
		return fmt.Sprintf("metric record (%.200s)", it.Payload)
	}
	return fmt.Sprintf("non-Falco record (%.120s)", it.Payload)
}

// Rejection is an event a service refused for good, and why.
type Rejection struct {
	ID     int
	Reason string
}

// Outcome is what one request did.
type Outcome struct {
	// Accepted are the IDs the service took.
	Accepted []int
	// Rejected are events the service refused for good (they will never
	// be accepted: the flush answers FLB_ERROR and names each).
	Rejected []Rejection
	// Failed are the IDs neither accepted nor rejected, and Err why:
	// retryable, unless awserr.Permanent says otherwise.
	Failed []int
	Err    error
}

// Request is one API request's worth of events, in the form the Sender
// that made it sends: opaque to the flush.
type Request any

// Takes is what a Sender takes of one event.
type Takes struct {
	// MaxPayload is the largest payload one event may have; the flush
	// cuts larger events (marking them) before Batches sees them.
	MaxPayload int
	// Quoted says the sender's requests carry each event as a JSON
	// string (CloudWatch Logs' message). The flush then writes the event
	// of an alert bound for such senders alone in that form at once
	// (Item.Quoted), which spares an escaping pass over every event; it
	// hands the plain Payload otherwise (an alert also bound elsewhere, a
	// record, an event cut to a limit).
	Quoted bool
}

// Flush is what a Sender's Batches knows of the flush it cuts requests
// for.
type Flush struct {
	// Now is the flush's clock, which a service's time window is
	// measured from.
	Now time.Time
	// Adjusted says that the sender changed n of a target's events so
	// that the service takes them (a time moved into its window, fields
	// cut): one line for the target and the flush, naming the first,
	// not one per event; the flush counts n.
	Adjusted func(n int, format string, args ...any)
}

// Sender delivers events to one kind of destination.
type Sender interface {
	// Takes says what the sender takes of one event.
	Takes() Takes
	// Batches cuts one target's items into requests within the API's
	// limits, in the order they are to be sent.
	Batches(f Flush, t route.Target, items []Item) []Request
	// Send makes one request.
	Send(ctx context.Context, t route.Target, req Request) Outcome
	// Release gives back a target's requests once every one of them was
	// sent, and the flush does not touch them after: a sender whose
	// requests hold memory it reuses from flush to flush takes it back
	// (CloudWatch's room for a flush's events, which on the heap was most
	// of what a flush allocated); the others embed KeepsNothing.
	Release(reqs []Request)
}

// Keeper is a Sender that keeps the events it accepts for a while before
// it delivers them (Security Lake gathers them into objects of minutes):
// its Send's Accepted means kept safe. The instance gives it, before the
// first flush, a directory under journal_path to keep them in across
// restarts ("" without journal_path: in memory), and stops it at exit,
// when it delivers what it keeps.
type Keeper interface {
	Keep(dir string) error
	Stop(ctx context.Context)
}

// KeepsNothing is the Release of a Sender that reuses nothing of its
// requests.
type KeepsNothing struct{}

// Release does nothing.
func (KeepsNothing) Release([]Request) {}

// Requests wraps a service's batches as the flush's requests.
func Requests[T any](batches [][]T) []Request {
	reqs := make([]Request, len(batches))
	for i, b := range batches {
		reqs[i] = b
	}
	return reqs
}

// Partial is the outcome of a request of entries the service accepts one
// by one (id gives an entry's id): accepted are the ids it took, rejected
// those it refused for good; on err, the other entries failed.
func Partial[T any](batch []T, id func(T) int, accepted []int, rejected []awsclient.Rejected, err error) Outcome {
	o := Outcome{Accepted: accepted, Err: err}
	for _, r := range rejected {
		o.Rejected = append(o.Rejected, Rejection{ID: r.ID, Reason: r.Reason})
	}
	if err != nil {
		ids := make([]int, len(batch))
		for i, e := range batch {
			ids[i] = id(e)
		}
		o.Failed = Remaining(ids, accepted, o.Rejected)
	}
	return o
}

// Remaining returns the ids not in accepted nor rejected: what failed of
// a batch when its request returned an error.
func Remaining(ids []int, accepted []int, rejected []Rejection) []int {
	if len(accepted)+len(rejected) == 0 {
		return ids
	}
	done := make(map[int]bool, len(accepted)+len(rejected))
	for _, id := range accepted {
		done[id] = true
	}
	for _, r := range rejected {
		done[r.ID] = true
	}
	var out []int
	for _, id := range ids {
		if !done[id] {
			out = append(out, id)
		}
	}
	return out
}
