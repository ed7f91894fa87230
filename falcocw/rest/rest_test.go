package rest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

const sampleSmaps = `7fb54c600000-7fb54c892000 r--p 00000000 fe:00 10027673                   /opt/falcocw.so
Size:               2632 kB
Rss:                2632 kB
Anonymous:             0 kB
7fb54c892000-7fb54d2e3000 r-xp 00292000 fe:00 10027673                   /opt/falcocw.so
Rss:               10564 kB
Anonymous:             0 kB
7fb54db51000-7fb54de1d000 r--p 01550000 fe:00 10027673                   /opt/falcocw.so
Rss:                2844 kB
Anonymous:          2440 kB
7fb54de1d000-7fb54def1000 rw-p 0181c000 fe:00 10027673                   /opt/falcocw.so
Rss:                 532 kB
Anonymous:           156 kB
7fb54def1000-7fb54e000000 rw-p 00000000 00:00 0 
Rss:                 236 kB
Anonymous:           236 kB
7fb54e000000-7fb54e100000 r-xp 00000000 fe:00 555                        /usr/lib/libc.so.6
Rss:                1072 kB
Anonymous:             0 kB
7fb54f000000-7fb54f001000 r-xp 00000000 fe:00 10027673                   /opt/falcocw.so (deleted)
Rss:                   4 kB
Anonymous:             0 kB
`

// TestMappingsOf reads smaps as the kernel writes it: the mappings of the
// file holding the code are found by device and inode (a path that gained
// " (deleted)" included), anonymous mappings and other files are left
// out, and the droppable ones are those never written.
func TestMappingsOf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "smaps")
	if err := os.WriteFile(path, []byte(sampleSmaps), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := mappingsOf(path, 0x7fb54c900000)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		perms          string
		rss, anonymous int64
		droppable      bool
	}{
		{"r--p", 2632 << 10, 0, true},
		{"r-xp", 10564 << 10, 0, true},
		{"r--p", 2844 << 10, 2440 << 10, false}, // relocated
		{"rw-p", 532 << 10, 156 << 10, false},   // writable
		{"r-xp", 4 << 10, 0, true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d mappings, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Perms != w.perms || g.Rss != w.rss || g.Anonymous != w.anonymous || g.Droppable() != w.droppable ||
			g.Dev != "fe:00" || g.Inode != 10027673 {
			t.Errorf("mapping %d: got %+v (droppable %v), want %+v", i, g, g.Droppable(), w)
		}
	}
	if _, err := mappingsOf(path, 0x1000); err == nil {
		t.Error("an address no file maps: no error")
	}
}

// skipEmulated skips a test whose code runs under an emulator (qemu-user,
// as make test runs the core for other CPUs): the mapping that holds the
// code is then not executable, and the emulator's own pages are what the
// kernel maps.
func skipEmulated(t *testing.T) {
	t.Helper()
	own, err := OwnMappings()
	if err != nil {
		t.Fatal(err)
	}
	pc := reflect.ValueOf(skipEmulated).Pointer()
	for _, m := range own {
		if pc >= m.Start && pc < m.End && !strings.Contains(m.Perms, "x") {
			t.Skipf("NOTE: the code runs from a mapping that is not executable (%s): under an emulator, whose pages these are not", m.Perms)
		}
	}
}

// TestOwnMappingsAreThisFile finds this test binary's own mappings, its
// code among them, with the device and inode os.Stat gives the file.
func TestOwnMappingsAreThisFile(t *testing.T) {
	skipEmulated(t)
	own, err := OwnMappings()
	if err != nil {
		t.Fatal(err)
	}
	path, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := exe.Sys().(*syscall.Stat_t)
	pc := reflect.ValueOf(TestOwnMappingsAreThisFile).Pointer()
	code := false
	for _, m := range own {
		if m.Inode != st.Ino || m.Dev != devString(uint64(st.Dev)) {
			t.Errorf("mapping %+v is not the test binary's (inode %d, dev %s)", m, st.Ino, devString(uint64(st.Dev)))
		}
		if pc >= m.Start && pc < m.End {
			code = m.Perms == "r-xp"
		}
	}
	if !code {
		t.Errorf("no r-xp mapping of %d holds the test's code: %+v", len(own), own)
	}
}

// TestTrimUnmaps trims this test binary: its droppable mappings hold fewer
// resident pages after than before (the test's own code and what it
// touches fault back in), and the test goes on running from them.
func TestTrimUnmaps(t *testing.T) {
	skipEmulated(t)
	resident := func() int64 {
		own, err := OwnMappings()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, m := range own {
			if m.Droppable() {
				n += m.Rss
			}
		}
		return n
	}
	before := resident()
	dropped, err := Trim()
	if err != nil {
		t.Fatal(err)
	}
	after := resident()
	t.Logf("droppable pages resident: %d KiB before, %d KiB unmapped, %d KiB after", before>>10, dropped>>10, after>>10)
	if dropped <= 0 || after >= before {
		t.Errorf("trim unmapped %d bytes; resident %d before, %d after: want fewer", dropped, before, after)
	}
}

// TestKeeperTrimsWhenQuiet: no trim while busy; one trim once quiet for
// the first period; none more while quiet; after a Busy, one more after
// the later period and not before.
func TestKeeperTrimsWhenQuiet(t *testing.T) {
	trims := make(chan time.Time, 10)
	const first, later = 100 * time.Millisecond, 400 * time.Millisecond
	k := NewKeeper(first, later, func() { trims <- time.Now() })
	defer k.Stop()
	busyUntil := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(busyUntil) {
		k.Busy()
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case at := <-trims:
		if at.Before(busyUntil) {
			t.Fatalf("trimmed %v before the busy spell ended", busyUntil.Sub(at))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no trim after the first quiet period")
	}
	select {
	case <-trims:
		t.Fatal("a second trim with no Busy since the first")
	case <-time.After(2 * later):
	}
	busy := time.Now()
	k.Busy()
	select {
	case at := <-trims:
		if at.Sub(busy) < later {
			t.Errorf("trimmed %v after a Busy, want %v of quiet first", at.Sub(busy), later)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no trim after a Busy and the later quiet period")
	}
}
