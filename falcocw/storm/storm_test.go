package storm_test

import (
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/cwlogs"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/ledger"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/falcocw/storm"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func shell(i int, cmd string) *falco.Alert {
	return &falco.Alert{Rule: "Terminal shell in container", Time: t0.Add(time.Duration(i) * time.Second),
		OutputFields: map[string]any{"proc.cmdline": cmd}}
}

var match = route.Match{Rule: "route.1", Target: route.Target{Kind: cwlogs.Kind, Name: "g", Stream: "s"},
	Options: route.Options{Storm: time.Minute, StormBy: []string{route.StormField("proc.cmdline")}}}

func id(i int) storm.ID { return storm.ID{Chunk: ledger.Key{1, 2}, Index: i} }

// TestWindow: the first alert goes out, repeats are held and counted once
// each (a retried repeat too), another key is its own window, and the
// summary comes after the window with the count and the times.
func TestWindow(t *testing.T) {
	g := storm.NewGate()
	admit := func(i int, cmd string) bool {
		a := shell(i, cmd)
		return g.Admit(storm.Key(match, a), id(i), match, a)
	}
	if !admit(0, "bash") {
		t.Fatal("the first alert of a window was held")
	}
	if !admit(0, "bash") {
		t.Fatal("the retry of the alert that opened the window was held")
	}
	for i := 1; i <= 5; i++ {
		if admit(i, "bash") {
			t.Fatalf("repeat %d went out", i)
		}
	}
	admit(3, "bash") // a retried repeat counts once
	if !admit(2, "sh -i") {
		t.Fatal("another command was held in bash's window")
	}
	if got := g.Take(t0.Add(30 * time.Second)); len(got) != 0 {
		t.Fatalf("%d summaries before the window ended", len(got))
	}
	got := g.Take(t0.Add(2 * time.Minute))
	if len(got) != 1 {
		t.Fatalf("%d summaries, want 1 (sh -i had no repeats)", len(got))
	}
	st, _ := got[0].Alert.Extra["storm"].(map[string]any)
	if st["suppressed"] != int64(5) || st["window"] != "1m0s" || st["first_time"] != "2026-11-28T10:00:01.000000000Z" {
		t.Errorf("summary %v", st)
	}
	if g.Open() != 0 || g.Waiting() != 0 {
		t.Errorf("open %d, waiting %d after Take", g.Open(), g.Waiting())
	}
	g.Requeue(got)
	if g.Waiting() != 1 || len(g.Take(t0)) != 1 {
		t.Error("a requeued summary was not taken again")
	}
}

// TestLateAlertClosesWindow: an alert past its window closes it and opens
// the next; the closed window's summary waits for the next Take.
func TestLateAlertClosesWindow(t *testing.T) {
	g := storm.NewGate()
	for _, i := range []int{0, 1, 120} {
		a := shell(i, "bash")
		g.Admit(storm.Key(match, a), id(i), match, a)
	}
	if g.Waiting() != 1 || g.Open() != 1 {
		t.Fatalf("waiting %d open %d, want 1 and 1", g.Waiting(), g.Open())
	}
	if got := g.Take(t0); len(got) != 1 {
		t.Fatalf("%d summaries, want the closed window's", len(got))
	}
}
