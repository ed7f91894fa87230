package securityhub

import (
	"context"
	"sync"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
)

// pacer spaces calls as a token bucket: CallBurst calls at once, then
// CallsPerSecond. Security Hub's limit is per account and region, and
// every instance in the process shares it: one pacer per region.
type pacer struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
	rate   float64
	burst  float64
	now    func() time.Time
}

var (
	pacersMu sync.Mutex
	pacers   = map[string]*pacer{}
)

func pacerFor(region string) *pacer {
	pacersMu.Lock()
	defer pacersMu.Unlock()
	p, ok := pacers[region]
	if !ok {
		p = newPacer(CallsPerSecond, CallBurst)
		pacers[region] = p
	}
	return p
}

func newPacer(rate, burst float64) *pacer {
	return &pacer{rate: rate, burst: burst, tokens: burst, now: time.Now}
}

// reserve takes a token and returns how long to wait before using it.
func (p *pacer) reserve() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !p.last.IsZero() {
		p.tokens = min(p.burst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
	}
	p.last = now
	p.tokens--
	if p.tokens >= 0 {
		return 0
	}
	return time.Duration(-p.tokens / p.rate * float64(time.Second))
}

// wait blocks until the next call may go, or the flush ends.
func (p *pacer) wait(ctx context.Context) error {
	d := p.reserve()
	if d == 0 {
		return awsclient.TooLate(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return awsclient.TooLate(ctx)
	}
}
