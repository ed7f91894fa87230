package awsclient

import (
	"context"
	"fmt"
	"time"

	"github.com/falcocw/falcocw/falcocw/awserr"
	"github.com/falcocw/falcocw/falcocw/pace"
)

// EntryError is a batch API's answer for one entry it did not take: the
// error code and message of a Firehose record, a Kinesis record, an
// EventBridge entry or a Security Hub finding.
type EntryError struct {
	Code, Message string
}

func (e EntryError) String() string { return e.Code + ": " + e.Message }

// Rejected is an entry a service refused for good, and why.
type Rejected struct {
	ID     int
	Reason string
}

// Resend sends items through put until every one is accepted, sending
// again exactly those put reports failed (the per-entry failures of
// Firehose's PutRecordBatch, Kinesis' PutRecords, EventBridge's PutEvents,
// Security Hub's BatchImportFindings), with backoff and jitter, until the
// flush deadline (WithStartBy) or ctx ends it.
//
// put gets the items still pending and returns, for each, nil when it was
// accepted or its EntryError (a nil map: all accepted), and an error that
// failed the whole call (returned at once: the SDK has already retried
// it). An entry whose code permanent reports true (nil: none is) will
// never pass: it is rejected, not resent. noun names the items in errors
// ("records"). Resend returns the ids of the accepted and rejected items,
// also when it fails.
func Resend[T any](ctx context.Context, items []T, id func(T) int, noun string, permanent func(code string) bool,
	put func(pending []T) (failed map[int]EntryError, err error)) (accepted []int, rejected []Rejected, err error) {
	pending := items
	for attempt := 0; ; attempt++ {
		failed, err := put(pending)
		if err != nil {
			return accepted, rejected, err
		}
		var again []T
		var last EntryError
		throttled := false
		for i, it := range pending {
			e, bad := failed[i]
			switch {
			case !bad:
				accepted = append(accepted, id(it))
			case permanent != nil && permanent(e.Code):
				rejected = append(rejected, Rejected{ID: id(it), Reason: e.String()})
			default:
				again = append(again, it)
				last = e
				throttled = throttled || awserr.ThrottleCode(e.Code, 0)
			}
		}
		if throttled {
			EntriesThrottled(ctx)
		} else if len(again) > 0 {
			entriesFailed(ctx)
		}
		if len(again) == 0 {
			return accepted, rejected, nil
		}
		pending = again
		if err := TooLate(ctx); err != nil {
			return accepted, rejected, fmt.Errorf("%d of %d %s failed (last: %s) and %w", len(pending), len(items), noun, last, err)
		}
		if err := PauseBeforeResend(ctx, attempt); err != nil {
			return accepted, rejected, fmt.Errorf("%d of %d %s still failing when the flush deadline passed (last: %s): %w",
				len(pending), len(items), noun, last, err)
		}
	}
}

// EntryErrors collects a batch answer's per-entry failures: n entries
// were sent, answered holds the answers (fewer than n: the missing ones
// failed), and code and message read one answer ("" code: accepted).
func EntryErrors[R any](n int, answered []R, code, message func(R) string) map[int]EntryError {
	failed := map[int]EntryError{}
	for i := 0; i < n; i++ {
		if i >= len(answered) {
			failed[i] = EntryError{"MissingAnswer", fmt.Sprintf("the answer holds %d entries for %d sent", len(answered), n)}
		} else if c := code(answered[i]); c != "" {
			failed[i] = EntryError{c, message(answered[i])}
		}
	}
	return failed
}

// EntriesThrottled tells the request's destination pace (package pace)
// that a batch's answer refused entries for a rate: a throttle, as a whole
// call's is.
func EntriesThrottled(ctx context.Context) {
	if t := pace.From(ctx); t != nil {
		t.Throttled(time.Now())
	}
}

// entriesFailed tells the request's destination pace that a batch's
// answer failed entries for another cause than a rate: the pause before
// they are sent again counts toward destination_wait, as the pause after
// a failed call does (pace.Ticket.Erred).
func entriesFailed(ctx context.Context) {
	if t := pace.From(ctx); t != nil {
		t.Erred()
	}
}
