package pace_test

import (
	"math"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/pace"
)

var t0 = time.Unix(1_000_000, 0)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// TestUnlimitedUntilThrottled: a destination never throttled is never
// paced.
func TestUnlimitedUntilThrottled(t *testing.T) {
	l := pace.New()
	for i := 0; i < 1000; i++ {
		if d, ok := l.Reserve(at(float64(i)/1000), time.Time{}); !ok || d != 0 {
			t.Fatalf("request %d waits %s (ok %v)", i, d, ok)
		}
		l.Accepted(at(float64(i) / 1000))
	}
	if l.Rate() != 0 {
		t.Fatalf("rate %g", l.Rate())
	}
}

// TestCuts: the first throttle sets the pace below the measured rate;
// throttles of requests started before a cut do not cut again; each
// later round cuts by Backoff, never below MinRate.
func TestCuts(t *testing.T) {
	l := pace.New()
	for i := 0; i < 10; i++ { // 10 requests a second
		l.Reserve(at(float64(i)/10), time.Time{})
	}
	l.Throttled(at(1), at(0.9))
	if r := l.Rate(); r != pace.Backoff*10 {
		t.Fatalf("first cut to %g, want %g", r, pace.Backoff*10)
	}
	l.Throttled(at(1.01), at(0.95)) // started before the cut: same round
	if r := l.Rate(); r != pace.Backoff*10 {
		t.Fatalf("a request of the same round cut again, to %g", r)
	}
	l.Throttled(at(2), at(1.5))
	if r := l.Rate(); math.Abs(r-pace.Backoff*pace.Backoff*10) > 1e-9 {
		t.Fatalf("second round cut to %g", r)
	}
	for i := 0; i < 100; i++ {
		l.Throttled(at(3+float64(i)), at(2.5+float64(i)))
	}
	if r := l.Rate(); r != pace.MinRate {
		t.Fatalf("floor %g, want %g", r, pace.MinRate)
	}
}

// TestPaced: once throttled, starts are spaced at the rate on average,
// a start past the deadline is refused without booking, and accepted
// calls raise the rate while it holds requests back.
func TestPaced(t *testing.T) {
	l := pace.New()
	l.Reserve(at(0), time.Time{})
	l.Reserve(at(0.5), time.Time{})
	l.Throttled(at(1), at(0.5)) // measured 2 a second: paced at 1.4
	rate := l.Rate()
	now := at(1)
	var waited time.Duration
	for i := 0; i < 200; i++ {
		d, ok := l.Reserve(now, time.Time{})
		if !ok {
			t.Fatal("refused without a deadline")
		}
		waited += d
		now = now.Add(d)
	}
	if got := 200 / now.Sub(at(1)).Seconds(); got < rate*0.8 || got > rate*1.25 {
		t.Errorf("200 starts at %.2f a second, paced at %.2f", got, rate)
	}
	if _, ok := l.Reserve(now, now.Add(time.Millisecond)); ok {
		t.Error("a start past the deadline was booked")
	}
	before := l.Rate()
	for i := 0; i < 20; i++ {
		l.Accepted(now)
	}
	if l.Rate() <= before {
		t.Errorf("accepted calls while paced left the rate at %g", l.Rate())
	}
	idle := l.Rate()
	l.Accepted(now.Add(time.Hour)) // nothing waited for an hour: the rate is not what holds back
	if l.Rate() != idle {
		t.Errorf("an idle destination's rate grew to %g", l.Rate())
	}
}
