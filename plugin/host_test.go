package main

import "testing"

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
