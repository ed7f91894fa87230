package ledger_test

import (
	"testing"

	"github.com/falcocw/falcocw/falcocw/ledger"
)

func TestKeyOf(t *testing.T) {
	a := ledger.KeyOf("falco", []byte("chunk"))
	if a != ledger.KeyOf("falco", []byte("chunk")) {
		t.Error("same chunk, different keys")
	}
	if a == ledger.KeyOf("falco2", []byte("chunk")) || a == ledger.KeyOf("falco", []byte("chunk2")) ||
		ledger.KeyOf("ab", []byte("c")) == ledger.KeyOf("a", []byte("bc")) {
		t.Error("different chunks, same key")
	}
}

func TestProgress(t *testing.T) {
	p := ledger.Progress{}
	for _, i := range []int{0, 63, 64, 1000} {
		p.Add("cloudwatch:g:s", i)
	}
	p.Add("firehose:f", 5)
	for _, tt := range []struct {
		dest string
		i    int
		want bool
	}{{"cloudwatch:g:s", 0, true}, {"cloudwatch:g:s", 1, false}, {"cloudwatch:g:s", 64, true},
		{"cloudwatch:g:s", 1000, true}, {"cloudwatch:g:s", 5000, false}, {"firehose:f", 5, true}, {"firehose:f", 0, false}, {"other", 0, false}} {
		if got := p.Has(tt.dest, tt.i); got != tt.want {
			t.Errorf("Has(%s, %d) = %v", tt.dest, tt.i, got)
		}
	}
	if p.Count() != 5 {
		t.Errorf("Count = %d", p.Count())
	}
}

func TestLedgerBoundedAndIsolated(t *testing.T) {
	l := ledger.New(3)
	keys := make([]ledger.Key, 5)
	evicted := 0
	for i := range keys {
		keys[i] = ledger.KeyOf("t", []byte{byte(i)})
		p := ledger.Progress{}
		p.Add("d", i)
		evicted += l.Remember(keys[i], p)
	}
	if l.Len() != 3 || evicted != 2 || l.Get(keys[0]) != nil || l.Get(keys[4]) == nil {
		t.Errorf("len %d evicted %d", l.Len(), evicted)
	}
	g := l.Get(keys[4])
	g.Add("d", 99) // a copy: the ledger must not change
	if l.Get(keys[4]).Has("d", 99) {
		t.Error("Get returned the stored progress, not a copy")
	}
	l.Forget(keys[4])
	if l.Get(keys[4]) != nil || l.Len() != 2 {
		t.Error("Forget did not forget")
	}
	for i := 0; i < 1000; i++ { // order slice stays bounded
		l.Remember(keys[3], ledger.Progress{})
		l.Forget(keys[3])
	}
	if l.Bytes() < 0 {
		t.Error("negative size")
	}
}

// TestInFlight: records marked in flight are neither done nor forgotten
// until settled; a settled answer is kept, and an entry left with nothing
// is dropped.
func TestInFlight(t *testing.T) {
	l := ledger.New(10)
	k := ledger.KeyOf("t", []byte("chunk"))
	l.Begin(k, "firehose:a", []int{1, 2, 3})
	if l.Get(k) != nil || !l.InFlight(k).Has("firehose:a", 2) || l.Len() != 1 {
		t.Fatalf("after Begin: done %v, in flight %v", l.Get(k), l.InFlight(k))
	}
	l.Remember(k, ledger.Progress{}) // a flush's own progress, nothing new: the marks stay
	l.Settle(k, "firehose:a", []int{1, 2, 3}, []int{1, 3})
	if p := l.Get(k); !p.Has("firehose:a", 1) || p.Has("firehose:a", 2) || !p.Has("firehose:a", 3) || l.InFlight(k) != nil {
		t.Fatalf("after Settle: done %v, in flight %v", p, l.InFlight(k))
	}
	k2 := ledger.KeyOf("t", []byte("another"))
	l.Begin(k2, "sns:x", []int{0})
	l.Settle(k2, "sns:x", []int{0}, nil) // the request failed: nothing to remember
	if l.Len() != 1 || l.Bytes() <= 0 {
		t.Errorf("an entry with nothing delivered and nothing in flight was kept: %d entries, %d bytes", l.Len(), l.Bytes())
	}
}
