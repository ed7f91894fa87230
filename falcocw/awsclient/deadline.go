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
	"github.com/falcocw/falcocw/falcocw/awserr"
	"github.com/falcocw/falcocw/falcocw/pace"
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

// GetAttemptToken runs before every attempt, the SDK's retries included:
// it refuses one after the WithStartBy time, and waits for the attempt's
// place in its destination's slow start and its turn at the destination's
// pace (package pace), to which it reports the attempt's answer.
func (r startByRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if err := TooLate(ctx); err != nil {
		return nil, tooLate(ctx, err)
	}
	t := pace.From(ctx)
	if t == nil {
		return r.RetryerV2.GetAttemptToken(ctx)
	}
	// The slow start's window first, then the turn: a turn is booked at
	// the pace of the moment the attempt can go, not of before a wait.
	by, _ := StartBy(ctx)
	if ok, err := t.Enter(ctx, by); err != nil || !ok {
		if err == nil {
			err = pacedOut(ctx, t)
		}
		return nil, err
	}
	if !t.TakeTurn() {
		if err := waitTurn(ctx, t); err != nil {
			t.Leave()
			return nil, err
		}
	}
	t.Start(time.Now())
	release, err := r.RetryerV2.GetAttemptToken(ctx)
	if err != nil {
		t.Answered(time.Now(), err, false)
		return nil, err
	}
	return func(opErr error) error {
		t.Answered(time.Now(), opErr, awserr.Throttle(opErr))
		return release(opErr)
	}, nil
}

// WaitTurn waits for the turn of ctx's request at its destination's pace
// (package pace) before the request is written, and gives the turn to the
// request's first attempt: a sender that gathers more into a request
// while it waits (Security Hub's findings of later flushes) calls it. It
// returns at once without a pace.
func WaitTurn(ctx context.Context) error {
	t := pace.From(ctx)
	if t == nil {
		return nil
	}
	if err := waitTurn(ctx, t); err != nil {
		return err
	}
	t.GiveTurn()
	return nil
}

// waitTurn waits for an attempt's turn on t's limiter, never past the
// request's start-by time (the flush's deadline). A flush's requests thus
// take the turns the pace gives them until its deadline, rather than
// going back to Fluent Bit's retry, whose backoff (5 s and more) would
// leave the turns in between unused; the flush does not count the
// destination silent meanwhile (pace.Track).
func waitTurn(ctx context.Context, t *pace.Ticket) error {
	by, _ := StartBy(ctx)
	for {
		slowed := t.L.Slowed()
		d, ok := t.L.Reserve(time.Now(), by)
		if !ok {
			return pacedOut(ctx, t)
		}
		if d > 0 {
			t.Waiting(true)
			err := Sleep(ctx, d)
			t.Waiting(false)
			if err != nil {
				return err
			}
		}
		if d == 0 || t.L.Slowed() == slowed {
			return nil
		}
		// The pace went down while this attempt waited: its turn was
		// booked at a rate AWS has since refused; book again.
	}
}

// pacedOut is the error of an attempt whose place or turn at t's pace
// comes past the request's start-by time.
func pacedOut(ctx context.Context, t *pace.Ticket) error {
	return &PacedError{Rate: t.L.Rate(), Last: lastErr(ctx)}
}

// tooLate is err, with the last attempt's error when there was one.
func tooLate(ctx context.Context, err error) error {
	if last := lastErr(ctx); last != nil {
		return &TooLateError{Last: last}
	}
	return err
}

// lastErr returns the last error a request's attempts met (see
// WithAttemptErrors), or nil.
func lastErr(ctx context.Context) error {
	if h, ok := ctx.Value(lastErrorKey{}).(*lastError); ok {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.err
	}
	return nil
}

// ErrPaced is returned instead of starting an AWS request whose turn at
// its destination's pace comes after the flush deadline, or later than
// the flush waits for the destination.
var ErrPaced = errors.New("AWS throttled this destination, and its next turn at the pace learned from that comes too late for this flush: no new request started (Fluent Bit will retry)")

// PacedError is ErrPaced with the pace and the last attempt's error.
type PacedError struct {
	Rate float64 // requests a second
	Last error
}

func (e *PacedError) Error() string {
	s := fmt.Sprintf("%v; pace %.3g requests a second", ErrPaced, e.Rate)
	if e.Last != nil {
		s += fmt.Sprintf("; the last attempt failed: %v", e.Last)
	}
	return s
}

func (e *PacedError) Unwrap() error { return ErrPaced }

// Throttled reports whether a request's error says only that AWS
// throttled it: it was paced out, or its last attempt was throttled when
// the deadline stopped its retries. Such a destination answers; it is not
// down.
func Throttled(err error) bool {
	if errors.Is(err, ErrPaced) {
		return true
	}
	var late *TooLateError
	if errors.As(err, &late) {
		return awserr.Throttle(late.Last)
	}
	return awserr.Throttle(err)
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
