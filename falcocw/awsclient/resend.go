package awsclient

import (
	"context"
	"fmt"
)

// Resend sends items through put until every one is accepted, sending
// again exactly those put reports failed (the per-entry failures of
// Firehose's PutRecordBatch or Kinesis' PutRecords), with backoff and
// jitter, until the flush deadline (WithStartBy) or ctx ends it. put gets
// the items still pending and returns which of them failed (nil: none),
// the text of a failure for the error message, and an error that failed
// the whole call (returned at once: the SDK has already retried it). noun
// names the items in errors ("records"). Resend returns the ids of the
// accepted items, also when it fails.
func Resend[T any](ctx context.Context, items []T, id func(T) int, noun string,
	put func(pending []T) (failed []bool, lastErr string, err error)) (accepted []int, err error) {
	pending := items
	for attempt := 0; ; attempt++ {
		failed, lastErr, err := put(pending)
		if err != nil {
			return accepted, err
		}
		var again []T
		for i, it := range pending {
			if i < len(failed) && failed[i] {
				again = append(again, it)
			} else {
				accepted = append(accepted, id(it))
			}
		}
		if len(again) == 0 {
			return accepted, nil
		}
		pending = again
		if err := TooLate(ctx); err != nil {
			return accepted, fmt.Errorf("%d of %d %s failed (last: %s) and %w", len(pending), len(items), noun, lastErr, err)
		}
		if err := PauseBeforeResend(ctx, attempt); err != nil {
			return accepted, fmt.Errorf("%d of %d %s still failing when the flush deadline passed (last: %s): %w",
				len(pending), len(items), noun, lastErr, err)
		}
	}
}
