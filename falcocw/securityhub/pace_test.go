package securityhub

import (
	"testing"
	"time"
)

// TestPacer: 30 calls at once, then one every 100 ms; a call that could
// only go after its deadline takes no token, so it does not delay the
// calls behind it.
func TestPacer(t *testing.T) {
	now := time.Unix(1000, 0)
	p := newPacer(CallsPerSecond, CallBurst)
	p.now = func() time.Time { return now }
	for i := 0; i < CallBurst; i++ {
		if d, ok := p.reserve(time.Time{}); d != 0 || !ok {
			t.Fatalf("call %d of the burst waits %v", i, d)
		}
	}
	if d, _ := p.reserve(time.Time{}); d != 100*time.Millisecond {
		t.Errorf("call 31 waits %v, want 100ms", d)
	}
	if _, ok := p.reserve(now.Add(150 * time.Millisecond)); ok {
		t.Errorf("call 32 would go at +200ms, after its deadline at +150ms, yet took a token")
	}
	if d, _ := p.reserve(time.Time{}); d != 200*time.Millisecond {
		t.Errorf("call 32 (again, no deadline) waits %v, want 200ms: the refused call must not have taken a token", d)
	}
	now = now.Add(10 * time.Second) // the bucket refills, up to the burst
	for i := 0; i < CallBurst; i++ {
		if d, _ := p.reserve(time.Time{}); d != 0 {
			t.Fatalf("after a pause, call %d waits %v", i, d)
		}
	}
}
