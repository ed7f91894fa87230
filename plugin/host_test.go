package main

import (
	"runtime/debug"
	"testing"
)

// TestParseVersion: the host's version is read from its --version, and
// only 5.1.1 and later get a config_map (older proxy definitions are
// smaller and must never be written past).
func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		out       string
		ok, write bool
	}{
		{"Fluent Bit v5.1.1\nGit commit: \n", true, true},
		{"Fluent Bit v5.2.0\n", true, true},
		{"Fluent Bit v6.0.0-rc1\n", true, true},
		{"Fluent Bit v5.1.0\n", true, false},
		{"Fluent Bit v5.0.9\n", true, false},
		{"Fluent Bit v4.1.2\n", true, false},
		{"flbhost 1.0\n", false, false},
		{"Fluent Bit v5.1\n", false, false},
		{"", false, false},
	} {
		v, ok := parseVersion(tc.out)
		if ok != tc.ok || (ok && versionAtLeast(v, ConfigMapSince) != tc.write) {
			t.Errorf("%q: version %v ok %v, config_map %v; want ok %v, config_map %v", tc.out, v, ok, versionAtLeast(v, ConfigMapSince), tc.ok, tc.write)
		}
	}
}

// TestTuneGC: memory_limit becomes the Go heap's soft limit (the largest
// of the instances'), and the collector keeps Go's default pace, GOGC 100
// (PERFORMANCE.md: GOGC 200 held 13 MB more at the peak for no CPU saved,
// once flushes stopped allocating per alert).
func TestTuneGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	gcLimit = 0
	tuneGC(256 << 20)
	tuneGC(128 << 20) // a smaller instance does not lower it
	if got := debug.SetMemoryLimit(-1); got != 256<<20 {
		t.Errorf("memory limit %d, want %d", got, 256<<20)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC %d, want Go's default 100", got)
	}
}
