package awsclient

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ErrTooLate is returned instead of starting an AWS request after the
// flush deadline.
var ErrTooLate = errors.New("flush_timeout reached: no new request started (Fluent Bit will retry)")

type startByKey struct{}

// WithStartBy marks ctx so that no AWS request (first attempt or retry)
// starts after t. ctx's own deadline should be somewhat later: a request
// already sent at t may then still be answered, so that an event AWS
// accepted is known to be accepted and not sent a second time.
func WithStartBy(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, startByKey{}, t)
}

// TooLate returns ErrTooLate once the time set by WithStartBy has passed,
// and ctx's error once ctx has ended.
func TooLate(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t, ok := ctx.Value(startByKey{}).(time.Time); ok && !time.Now().Before(t) {
		return ErrTooLate
	}
	return nil
}

// startByRetryer refuses to start an attempt after the WithStartBy time.
type startByRetryer struct {
	aws.RetryerV2
}

func (r startByRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if err := TooLate(ctx); err != nil {
		return nil, err
	}
	return r.RetryerV2.GetAttemptToken(ctx)
}
