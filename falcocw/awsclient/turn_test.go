package awsclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/pace"
)

// TestTurnBookedAgainWhenSlowed: a request waiting for a turn booked at
// one pace, when a throttle slows the pace meanwhile, books again at the
// slower one rather than starting at the turn AWS has since refused.
func TestTurnBookedAgainWhenSlowed(t *testing.T) {
	l := pace.New()
	now := time.Now()
	for i := 0; i < 10; i++ {
		l.Reserve(now.Add(-time.Second+time.Duration(i)*100*time.Millisecond), time.Time{})
	}
	l.Throttled(now, now) // paced at 7 a second: the next turn 143 ms on
	ctx := pace.With(context.Background(), l, nil)
	done := make(chan time.Duration)
	start := time.Now()
	go func() {
		if err := awsclient.WaitTurn(ctx); err != nil {
			t.Error(err)
		}
		done <- time.Since(start)
	}()
	time.Sleep(50 * time.Millisecond)
	cut := time.Now()
	l.Throttled(cut, cut) // a new round: 4.9 a second, the next turn 204 ms on
	waited := <-done
	if want := cut.Sub(start) + time.Duration(float64(time.Second)/l.Rate()); waited < want-5*time.Millisecond {
		t.Errorf("the turn came after %v, before the slower pace's first (%v): it was not booked again", waited, want)
	}
}
