// Package eventbridge delivers events to Amazon EventBridge event buses
// with PutEvents, so that rules can match an alert's fields
// (detail.priority, detail.rule, detail.tags) and start the response:
// Lambda, Step Functions, SSM Automation. Batches respect PutEvents'
// limits; entries the answer reports as failed are resent exactly, those
// that can never pass are named.
package eventbridge

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/batch"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
)

// PutEvents limits, from the EventBridge API reference and "Calculating
// PutEvents event entry size": at most 10 entries per call, each entry
// under 256 KB as AWS counts it (EntrySize); falcocw also keeps the sum of
// a call's entries under that, the stricter reading of the quota.
const (
	MaxBatchEntries = 10
	MaxEntryBytes   = 256*1024 - 1
	MaxBatchBytes   = 256*1024 - 1
	// TimeBytes is what a Time parameter counts toward an entry's size.
	TimeBytes = 14
	// MaxResourceBytes is room kept for an entry's resource ARNs.
	MaxResourceBytes = 1024
)

// IAMActions are the IAM actions this package calls.
var IAMActions = []string{"events:PutEvents"}

// DetailType is every entry's detail-type.
const DetailType = "Falco Alert"

// DefaultSource is every entry's source unless eventbridge_source says
// otherwise.
const DefaultSource = "falco"

// Entry is one PutEvents entry. ID is the caller's, reported back by
// PutBatch.
type Entry struct {
	ID     int
	Source string
	Detail []byte // a JSON object
	// UnixMilli is the event's time, in milliseconds (0: none, EventBridge
	// uses the time it received it).
	UnixMilli int64
	Resources []string
}

// Size is the entry's size as EventBridge computes it: the UTF-8 bytes of
// Source, DetailType, Detail and each resource, and 14 for Time.
func (e Entry) Size() int {
	n := len(e.Source) + len(DetailType) + len(e.Detail)
	if e.UnixMilli != 0 {
		n += TimeBytes
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// Batches cuts entries into batches within PutEvents' limits. Every entry
// must be at most MaxEntryBytes (its Size).
func Batches(entries []Entry) [][]Entry {
	return batch.Cut(entries, MaxBatchEntries, MaxBatchBytes, Entry.Size, nil)
}

// Sink puts events on event buses. It is safe for concurrent use.
type Sink struct {
	dest.KeepsNothing
	client *eventbridge.Client
	opts   Options
}

// New returns a sink using client.
func New(client *eventbridge.Client, o Options) *Sink {
	if o.Source == "" {
		o.Source = DefaultSource
	}
	return &Sink{client: client, opts: o}
}

// AppendBody appends the JSON body of PutEvents for entries on bus, as
// the EventBridge API (JSON 1.1) defines it: Detail a string holding the
// event's JSON, Time in epoch seconds.
func AppendBody(b []byte, bus string, entries []Entry) []byte {
	b = append(b, `{"Entries":[`...)
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Detail":`...)
		b = jsonstr.AppendBytes(b, e.Detail)
		b = append(b, `,"DetailType":"`+DetailType+`","EventBusName":`...)
		b = jsonstr.Append(b, bus)
		if len(e.Resources) > 0 {
			b = append(b, `,"Resources":[`...)
			for j, r := range e.Resources {
				if j > 0 {
					b = append(b, ',')
				}
				b = jsonstr.Append(b, r)
			}
			b = append(b, ']')
		}
		b = append(b, `,"Source":`...)
		b = jsonstr.Append(b, e.Source)
		if e.UnixMilli != 0 {
			b = append(b, `,"Time":`...)
			b = strconv.AppendFloat(b, float64(e.UnixMilli)/1000, 'f', 3, 64)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func bodySize(bus string, entries []Entry) int {
	n := 16
	for _, e := range entries {
		n += 128 + len(bus) + e.Size() + len(e.Detail)/4
	}
	return n
}

// permanent are the per-entry error codes EventBridge documents as not
// retryable that no change of permissions or configuration can cure: the
// entry itself is wrong. (AccessDeniedException and NotAuthorizedFor...
// are resent until the flush deadline: a policy fixed later lets them
// through.)
var permanent = map[string]bool{"InvalidArgument": true, "MalformedDetail": true, "RedactionFailure": true, "InvalidAccountIdException": true}

// PutBatch puts one batch (as Batches cut it) on the bus. Entries the
// answer reports as failed (FailedEntryCount: InternalFailure,
// ThrottlingException) are sent again, with backoff and jitter, until all
// are accepted or the flush deadline passes; entries refused for good are
// returned as rejected.
func (s *Sink) PutBatch(ctx context.Context, bus string, entries []Entry) (accepted []int, rejected []awsclient.Rejected, err error) {
	return awsclient.Resend(ctx, entries, func(e Entry) int { return e.ID }, "entries", func(code string) bool { return permanent[code] },
		func(pending []Entry) (map[int]awsclient.EntryError, error) {
			// A minimal input for the SDK; the entries go in a body
			// written here at once (see awsclient.WithBody).
			in := &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{}}
			out, err := awsclient.CallWithBody(bodySize(bus, pending), func(b []byte) []byte { return AppendBody(b, bus, pending) },
				func(withBody func(*middleware.Stack) error) (*eventbridge.PutEventsOutput, error) {
					return s.client.PutEvents(ctx, in, func(o *eventbridge.Options) { o.APIOptions = append(o.APIOptions, withBody) })
				})
			if err != nil || out.FailedEntryCount == 0 {
				return nil, err
			}
			return awsclient.EntryErrors(len(pending), out.Entries,
				func(r types.PutEventsResultEntry) string { return aws.ToString(r.ErrorCode) },
				func(r types.PutEventsResultEntry) string { return aws.ToString(r.ErrorMessage) }), nil
		})
}
