package awsclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ErrTooLate is returned instead of starting an AWS request after the
// flush deadline.
var ErrTooLate = errors.New("flush_timeout reached: no new request started (Fluent Bit will retry)")

type startByKey struct{}

type lastErrorKey struct{}

// lastError holds the last error a request's attempts met, so that the
// error returned when the deadline stops the retries names the cause.
type lastError struct {
	mu  sync.Mutex
	err error
}

// WithAttemptErrors returns a context for one request in which the last
// attempt's error is kept, to be reported if retries are cut short.
func WithAttemptErrors(ctx context.Context) context.Context {
	return context.WithValue(ctx, lastErrorKey{}, &lastError{})
}

// TooLateError is ErrTooLate with the error of the last attempt.
type TooLateError struct{ Last error }

func (e *TooLateError) Error() string {
	return fmt.Sprintf("%v; the last attempt failed: %v", ErrTooLate, e.Last)
}

func (e *TooLateError) Unwrap() error { return ErrTooLate }

// WithStartBy marks ctx so that no AWS request (first attempt or retry)
// starts after t. ctx's own deadline should be somewhat later: a request
// already sent at t may then still be answered, so that an event AWS
// accepted is known to be accepted and not sent a second time.
func WithStartBy(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, startByKey{}, t)
}

// StartBy returns the time set by WithStartBy, if any.
func StartBy(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(startByKey{}).(time.Time)
	return t, ok
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
		if h, ok := ctx.Value(lastErrorKey{}).(*lastError); ok {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.err != nil {
				return nil, &TooLateError{Last: h.err}
			}
		}
		return nil, err
	}
	return r.RetryerV2.GetAttemptToken(ctx)
}

func (r startByRetryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	if h, ok := ctx.Value(lastErrorKey{}).(*lastError); ok {
		h.mu.Lock()
		h.err = opErr
		h.mu.Unlock()
	}
	return r.RetryerV2.GetRetryToken(ctx, opErr)
}

// IsErrorRetryable: a certificate that does not verify will not verify a
// moment later; say so at once rather than retrying until the deadline.
func (r startByRetryer) IsErrorRetryable(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return false
	}
	return r.RetryerV2.IsErrorRetryable(err)
}
