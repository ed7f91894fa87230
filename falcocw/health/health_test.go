package health

import (
	"testing"
	"time"
)

// TestBreaker walks one destination through down, probes and back.
func TestBreaker(t *testing.T) {
	b := NewBoard(2, 5*time.Second)
	d := b.Get("firehose:archive")
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		at   time.Duration
		do   func(now time.Time) Change
		want Admission // what a flush is told after the step
		down bool      // the change the step makes
		up   bool
	}{
		{0, func(now time.Time) Change { return d.Accepted(now, 10) }, Send, false, false},
		{time.Second, func(now time.Time) Change { return d.Failed(now, 7, "503") }, HandBack, true, false},
		{2 * time.Second, func(now time.Time) Change { d.HandBack(3); return Change{} }, HandBack, false, false},
		{7 * time.Second, nil, Probe, false, false}, // 5 s after it went down
		{8 * time.Second, func(now time.Time) Change { return d.Failed(now, 1, "503") }, HandBack, false, false},
		{13 * time.Second, nil, Probe, false, false},
		{13 * time.Second, func(now time.Time) Change { return d.Accepted(now, 11) }, Send, false, true},
	}
	for i, s := range steps {
		now := t0.Add(s.at)
		var c Change
		if s.do != nil {
			c = s.do(now)
		}
		if c.Down != s.down || c.Up != s.up {
			t.Fatalf("step %d: change %+v, want down %v up %v", i, c, s.down, s.up)
		}
		if c.Up && (c.Waited != 11 || c.For != 12*time.Second) {
			t.Errorf("back: %+v; want 11 events waited (7 failed, 3 handed back, 1 probe's), down 12s", c)
		}
		if got := d.Admit(now); got != s.want {
			t.Fatalf("step %d at %s: admitted %v, want %v", i, s.at, got, s.want)
		}
	}
	st := d.State()
	if st.Down || st.Delivered != 21 || st.Failed != 8 || st.HandedBack != 3 {
		t.Errorf("state %+v", st)
	}
}

// TestSlots: a destination's slots are its own.
func TestSlots(t *testing.T) {
	b := NewBoard(2, 0)
	slow, other := b.Get("firehose:a"), b.Get("cloudwatch:g")
	for i := 0; i < 2; i++ {
		if !slow.TryAcquire() {
			t.Fatalf("slot %d of 2 not free", i+1)
		}
	}
	if slow.TryAcquire() {
		t.Fatal("a third slot of 2")
	}
	if !other.TryAcquire() {
		t.Fatal("another destination's slots are taken by the first's requests")
	}
	expired := make(chan time.Time, 1)
	expired <- time.Now()
	if slow.Acquire(expired) {
		t.Fatal("Acquire got a slot none was free for")
	}
	slow.Release()
	if !slow.Acquire(nil) {
		t.Fatal("a released slot was not taken")
	}
}

// TestReports: a report is due at once after a change, then every
// interval; an undelivered report is counted again in the next.
func TestReports(t *testing.T) {
	b := NewBoard(1, 0)
	d := b.Get("sns:topic")
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	d.Accepted(t0, 5)
	r := b.Reports(t0, time.Minute)
	if len(r) != 1 || r[0].Delivered != 5 {
		t.Fatalf("first reports %+v", r)
	}
	// Not delivered: not committed; the next counts from the same point.
	d.Accepted(t0, 2)
	if r := b.Reports(t0.Add(time.Second), time.Minute); len(r) != 1 || r[0].Delivered != 7 {
		t.Fatalf("reports after one not delivered: %+v", r)
	}
	b.Commit(t0.Add(time.Second), b.Reports(t0.Add(time.Second), time.Minute))
	if r := b.Reports(t0.Add(2*time.Second), time.Minute); r != nil {
		t.Fatalf("a report due 1 s after the last: %+v", r)
	}
	d.Failed(t0.Add(3*time.Second), 4, "throttled")
	r = b.Reports(t0.Add(3*time.Second), time.Minute)
	if len(r) != 1 || !r[0].Down || r[0].Failed != 4 || r[0].Waiting != 4 || r[0].Delivered != 0 {
		t.Fatalf("report after going down: %+v", r)
	}
}
