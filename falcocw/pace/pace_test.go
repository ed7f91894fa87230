package pace_test

import (
	"context"
	"errors"
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
		l.Accepted(at(float64(i)/1000), at(float64(i)/1000))
	}
	if l.Rate() != 0 {
		t.Fatalf("rate %g", l.Rate())
	}
}

// TestCuts: the first throttle sets the pace below the measured rate;
// answers to requests started before a cut refine it by the share of
// them accepted, and do not cut it again; each later round cuts by
// Backoff, never below MinRate.
func TestCuts(t *testing.T) {
	l := pace.New()
	for i := 0; i < 10; i++ { // 10 requests a second
		l.Reserve(at(float64(i)/10), time.Time{})
	}
	l.Throttled(at(1), at(0.9))
	if r := l.Rate(); r != pace.Backoff*10 {
		t.Fatalf("first cut to %g, want %g", r, pace.Backoff*10)
	}
	l.Accepted(at(1.01), at(0.95)) // started before the cut: same round
	if r := l.Rate(); r != pace.Backoff*10 {
		t.Fatalf("an answer of the same round, one accepted and one throttled, set the rate to %g", r)
	}
	l.Throttled(at(1.02), at(0.95))
	want := pace.Backoff * 10 * 2 / 3 // two accepted (the cut counts as one) of three
	if r := l.Rate(); math.Abs(r-want) > 1e-9 {
		t.Fatalf("same round, 1 of 3 accepted: rate %g, want %g", r, want)
	}
	l.Throttled(at(2), at(1.5))
	if r := l.Rate(); math.Abs(r-want*pace.Backoff) > 1e-9 {
		t.Fatalf("second round cut to %g, want %g", r, want*pace.Backoff)
	}
	for i := 0; i < 100; i++ {
		l.Throttled(at(3+float64(i)), at(2.5+float64(i)))
	}
	if r := l.Rate(); r != pace.MinRate {
		t.Fatalf("floor %g, want %g", r, pace.MinRate)
	}
}

// TestShareOfBurst: a node that sent 15 requests at once, of which AWS
// accepted one (its share of a quota many nodes storm), paces at about
// what was accepted after the round's answers, not at Backoff of what it
// sent.
func TestShareOfBurst(t *testing.T) {
	l := pace.New()
	for i := 0; i < 15; i++ {
		l.Reserve(at(0), time.Time{})
	}
	l.Accepted(at(0.01), at(0)) // before any throttle: not part of a round
	for i := 0; i < 14; i++ {
		l.Throttled(at(0.02+float64(i)/1000), at(0))
	}
	want := 15 * pace.Backoff / 14 // the cut counts as one accepted
	if r := l.Rate(); math.Abs(r-want) > 1e-9 {
		t.Fatalf("rate %g after 1 of 15 accepted, want %g", r, want)
	}
	// The next start waits a whole interval of the refined rate.
	if d, _ := l.Reserve(at(0.05), time.Time{}); d < time.Duration(float64(time.Second)/want)-40*time.Millisecond {
		t.Errorf("the next start waits %s at %.2f a second", d, want)
	}
}

// TestTrack: a flush's destination is silent only while an attempt is
// unanswered for the wait; waiting for turns is not silence.
func TestTrack(t *testing.T) {
	var nilTrack *pace.Track
	if silent, _ := nilTrack.Silent(at(0), time.Second); !silent {
		t.Error("no Track: the caller's clock must decide")
	}
	k := &pace.Track{}
	l := pace.New()
	waiting := &pace.Ticket{L: l, Track: k}
	waiting.Waiting(true)
	if silent, left := k.Silent(at(10), time.Second); silent || left != time.Second {
		t.Errorf("requests waiting for turns: silent %v, %s left", silent, left)
	}
	sent := &pace.Ticket{L: l, Track: k}
	sent.Start(at(10))
	if silent, left := k.Silent(at(10.4), time.Second); silent || left != 600*time.Millisecond {
		t.Errorf("an attempt sent 0.4 s ago: silent %v, %s left", silent, left)
	}
	if silent, _ := k.Silent(at(11), time.Second); !silent {
		t.Error("an attempt unanswered for the wait is silence, turns waited or not")
	}
	sent.Answered(at(11.5), nil, false)
	sent.Done()
	waiting.Waiting(false)
	if silent, _ := k.Silent(at(20), time.Second); !silent {
		t.Error("nothing sent and nothing waiting: the caller's clock must decide")
	}
}

// TestTrackHeld: the time a request spends in the client's hands (being
// written, pausing after a throttle before its next attempt, being read
// after an accepted one) is not the destination's silence; the time after
// an error (a failed call, or entries failed for another cause than a
// rate) is, by the caller's clock. A throttle followed by a backoff
// longer than destination_wait once counted a paced destination down.
func TestTrackHeld(t *testing.T) {
	l := pace.New()
	k := &pace.Track{}
	tk := pace.From(pace.With(context.Background(), l, k))
	steps := []struct {
		do     func()
		at     float64
		silent bool
		what   string
	}{
		{func() {}, 5, false, "being written, before its first attempt"},
		{func() { tk.Start(at(5)) }, 5.5, false, "its attempt sent 0.5 s ago"},
		{func() {}, 6, true, "its attempt unanswered for the wait"},
		{func() { tk.Answered(at(6), errors.New("throttled"), true) }, 9, false, "pausing after a throttle"},
		{func() { tk.Start(at(9)) }, 9.2, false, "its next attempt sent 0.2 s ago"},
		{func() { tk.Answered(at(9.2), errors.New("500"), false) }, 12, true, "after an error: the caller's clock"},
		{func() { tk.Start(at(12)); tk.Answered(at(12.1), nil, false) }, 15, false, "being read after an accepted answer"},
		{func() { tk.Throttled(at(15)) }, 18, false, "entries of an accepted batch throttled, to be sent again"},
		{func() { tk.Start(at(18)); tk.Answered(at(18.1), nil, false); tk.Erred() }, 21, true, "entries of an accepted batch failed: the caller's clock"},
		{func() { tk.Start(at(21)); tk.Answered(at(21.1), nil, false) }, 24, false, "being read after an accepted answer, again"},
		{func() { tk.Done() }, 30, true, "done: the caller has the outcome"},
	}
	for _, s := range steps {
		s.do()
		if silent, _ := k.Silent(at(s.at), time.Second); silent != s.silent {
			t.Errorf("%s: silent %v, want %v", s.what, silent, s.silent)
		}
	}
	tk.Done() // twice is harmless: the next request is held as it should be
	pace.With(context.Background(), l, k)
	if silent, _ := k.Silent(at(40), time.Second); silent {
		t.Error("a second Done counted twice: a request being written was taken for silence")
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
		l.Accepted(now, now)
	}
	if l.Rate() <= before {
		t.Errorf("accepted calls while paced left the rate at %g", l.Rate())
	}
	idle := l.Rate()
	l.Accepted(now.Add(time.Hour), now.Add(time.Hour)) // nothing waited for an hour: the rate is not what holds back
	if l.Rate() != idle {
		t.Errorf("an idle destination's rate grew to %g", l.Rate())
	}
}

// TestSlowStart: a new destination has one attempt unanswered at most;
// each accepted answer lets one more through, and the first throttle
// leaves the pace alone to govern.
func TestSlowStart(t *testing.T) {
	ctx := context.Background()
	l := pace.New()
	enter := func() bool {
		ok, err := l.Enter(ctx, time.Now().Add(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !enter() {
		t.Fatal("the first attempt waited")
	}
	if enter() {
		t.Fatal("a second attempt went through before the first was answered")
	}
	now := time.Now()
	l.Accepted(now, now)
	l.Left()
	if first, second := enter(), enter(); !first || !second {
		t.Fatal("one accepted answer: the window holds two attempts")
	}
	if enter() {
		t.Fatal("a third attempt went through a window of two")
	}
	released := make(chan bool)
	go func() {
		ok, _ := l.Enter(ctx, time.Time{})
		released <- ok
	}()
	time.Sleep(10 * time.Millisecond)
	l.Left() // an answer neither accepted nor throttled frees a place, not more
	if !<-released {
		t.Fatal("a waiting attempt was not let through when a place freed")
	}
	l.Throttled(now, now)
	for i := 0; i < 100; i++ {
		if !enter() {
			t.Fatalf("throttled once, attempt %d waited for a window", i)
		}
	}
}

// TestCarry: a flush whose entries ride in another flush's request (a
// Security Hub call gathers several flushes' findings) sees that
// request's attempts on its own Track: silent when the attempt goes
// unanswered for the wait, paced while the rider waits for it otherwise.
func TestCarry(t *testing.T) {
	l := pace.New()
	ka, kb, kc := &pace.Track{}, &pace.Track{}, &pace.Track{}
	opener := pace.From(pace.With(context.Background(), l, ka))
	rider := pace.From(pace.With(context.Background(), l, kb))
	opener.Carry(rider)
	if silent, _ := kb.Silent(at(1), time.Second); silent {
		t.Error("the rider's flush took the opener's turn for silence")
	}
	opener.Start(at(1))
	if silent, _ := kb.Silent(at(2.5), time.Second); !silent {
		t.Error("the carrying request unanswered for the wait: the rider's flush must see silence")
	}
	late := pace.From(pace.With(context.Background(), l, kc))
	opener.Carry(late) // joins while the attempt is out
	if silent, _ := kc.Silent(at(2.5), time.Second); !silent {
		t.Error("a rider that joined while the attempt was out must see it")
	}
	opener.Answered(at(3), nil, false)
	for name, k := range map[string]*pace.Track{"rider": kb, "late rider": kc} {
		if silent, _ := k.Silent(at(30), time.Second); silent {
			t.Errorf("%s: the answer was not seen: the attempt still counts as out", name)
		}
	}
	opener.Carry(nil) // none: harmless
}
