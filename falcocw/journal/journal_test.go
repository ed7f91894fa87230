package journal_test

import (
	"os"
	"testing"

	"github.com/falcocw/falcocw/falcocw/journal"
)

func keys(from, n int) []journal.Key {
	out := make([]journal.Key, n)
	for i := range out {
		out[i] = journal.KeyOf(journal.DestHash("cloudwatch:/falco/alerts:a"), uint64(from+i))
	}
	return out
}

// TestSurvivesRestart: what one run records, the next sees; a run's own
// deliveries are not "earlier" until it restarts.
func TestSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(dir, "falcocw.0", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if j.Replaying() {
		t.Fatal("a new journal is replaying")
	}
	if err := j.Record(keys(0, 100)); err != nil {
		t.Fatal(err)
	}
	if j.Seen(keys(0, 1)[0]) {
		t.Fatal("this run's delivery counted as an earlier run's")
	}
	j.Close()
	j2, err := journal.Open(dir, "falcocw.0", 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if !j2.Replaying() {
		t.Fatal("the restarted journal has nothing to replay against")
	}
	for _, k := range keys(0, 100) {
		if !j2.Seen(k) {
			t.Fatalf("key %x lost over the restart", k)
		}
	}
	if j2.Seen(keys(100, 1)[0]) {
		t.Fatal("a key never recorded is seen")
	}
	// Another instance's journal in the same directory is its own.
	j3, err := journal.Open(dir, "ecs_out", 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer j3.Close()
	if j3.Replaying() {
		t.Fatal("another instance's journal holds this one's keys")
	}
}

// TestBounded: the files never hold more than the bound, and the newest
// keys are the ones kept.
func TestBounded(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(dir, "x", 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if err := j.Record(keys(i*30, 30)); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	size := 0
	for _, p := range []string{j.Path(), j.Path() + ".old"} {
		if st, err := os.Stat(p); err == nil {
			size += int(st.Size())
		}
	}
	if size > 100*8 {
		t.Fatalf("journal files hold %d bytes, over the bound of 100 keys", size)
	}
	j2, err := journal.Open(dir, "x", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if !j2.Seen(keys(299, 1)[0]) {
		t.Fatal("the newest key was dropped")
	}
	if j2.Seen(keys(0, 1)[0]) {
		t.Fatal("the oldest key was kept beyond the bound")
	}
}

// TestCutKey: a key cut short by a stop mid-write is ignored, the rest
// loads.
func TestCutKey(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(dir, "x", 1000)
	if err != nil {
		t.Fatal(err)
	}
	j.Record(keys(0, 3))
	j.Close()
	f, _ := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{1, 2, 3})
	f.Close()
	j2, err := journal.Open(dir, "x", 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	for _, k := range keys(0, 3) {
		if !j2.Seen(k) {
			t.Fatal("keys before the cut one were lost")
		}
	}
}

// TestKeyOfDistinguishesDestinations: the same record at two destinations
// is two deliveries.
func TestKeyOfDistinguishesDestinations(t *testing.T) {
	r := journal.RecordHash([]byte("record"))
	a := journal.KeyOf(journal.DestHash("cloudwatch:/a:s"), r)
	b := journal.KeyOf(journal.DestHash("firehose:a"), r)
	if a == b {
		t.Fatal("two destinations share a key")
	}
}

// TestUnwritableDirectory: the error says what to do.
func TestUnwritableDirectory(t *testing.T) {
	f, _ := os.CreateTemp(t.TempDir(), "file")
	f.Close()
	if _, err := journal.Open(f.Name()+"/sub", "x", 10); err == nil {
		t.Fatal("a journal under a file opened")
	}
}
