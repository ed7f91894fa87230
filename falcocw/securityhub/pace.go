package securityhub

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
)

// pacer spaces calls as a token bucket: CallBurst calls at once, then
// CallsPerSecond, Security Hub's limit per account and region, which one
// instance never goes past. Instances (in one Fluent Bit or on many nodes)
// that share the account converge on it through the pace each learns from
// the throttling answers (package pace).
type pacer struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
	rate   float64
	burst  float64
	now    func() time.Time
}

func newPacer(rate, burst float64) *pacer {
	return &pacer{rate: rate, burst: burst, tokens: burst, now: time.Now}
}

// reserve takes a token and returns how long to wait before using it,
// unless the wait would end after by (zero: no limit): then it takes
// nothing and reports false, so that a flush that cannot call in time
// does not hold back the calls of the flushes after it.
func (p *pacer) reserve(by time.Time) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !p.last.IsZero() {
		p.tokens = min(p.burst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
	}
	p.last = now
	var d time.Duration
	if p.tokens < 1 {
		d = time.Duration((1 - p.tokens) / p.rate * float64(time.Second))
	}
	if !by.IsZero() && now.Add(d).After(by) {
		return 0, false
	}
	p.tokens--
	return d, true
}

// wait blocks until the next call may go, or fails at once when that is
// after the flush's deadline.
func (p *pacer) wait(ctx context.Context) error {
	by, _ := awsclient.StartBy(ctx)
	d, ok := p.reserve(by)
	if !ok {
		return fmt.Errorf("no call to Security Hub fits before the flush deadline at its rate of %d calls a second per account and region: %w", CallsPerSecond, awsclient.ErrTooLate)
	}
	if err := awsclient.Sleep(ctx, d); err != nil {
		return err
	}
	return awsclient.TooLate(ctx)
}
