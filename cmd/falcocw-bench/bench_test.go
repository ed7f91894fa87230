package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOwnRatio(t *testing.T) {
	null200 := summary{name: "null (the host's own cost)", group: "tail", alerts: 200000, cpu: 0.2}
	null600 := summary{name: "null (the host's own cost)", group: "tail", alerts: 600000, cpu: 0.6}
	c200 := summary{name: "C cloudwatch_logs", group: "tail", alerts: 200000, cpu: 1.6}
	f200 := summary{name: "falcocw, workers 1", group: "tail", alerts: 200000, cpu: 0.9}
	c600 := summary{name: "C cloudwatch_logs", group: "tail", alerts: 600000, cpu: 4.6}
	f600 := summary{name: "falcocw, workers 1", group: "tail", alerts: 600000, cpu: 2.2}
	mixedC := summary{name: "C rewrite_tag", group: "mixed", alerts: 200000, cpu: 3.2}
	mixedF := summary{name: "falcocw mixed", group: "mixed", alerts: 200000, cpu: 1.1}
	all := []summary{null200, c200, f200, mixedF, mixedC, null600, c600, f600}
	for _, tc := range []struct {
		name   string
		all    []summary
		f, o   summary
		want   float64
		wantOK bool
	}{
		{"200,000: each less its own null", all, f200, c200, (0.9 - 0.2) / (1.6 - 0.2), true},
		{"600,000: the null of its size, not the other", all, f600, c600, (2.2 - 0.6) / (4.6 - 0.6), true},
		{"mixed: the null output shares no input with it", all, mixedF, mixedC, 0, false},
		{"no null line", []summary{c200, f200}, f200, c200, 0, false},
		{"no null of that size", []summary{null200, c600, f600}, f600, c600, 0, false},
	} {
		got, ok := ownRatio(tc.all, tc.f, tc.o)
		if ok != tc.wantOK || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: ownRatio = %.4f, %v; want %.4f, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

// TestLongRunHasNull: the long run measures the host's own cost too, so
// that its ratios can be read beyond it.
func TestLongRunHasNull(t *testing.T) {
	var b bench
	var names []string
	for _, v := range b.variants(&workload{}, false) {
		names = append(names, v.group+": "+v.name)
	}
	for _, want := range []string{"tail: null (the host's own cost)", "tail: C cloudwatch_logs, log_key log (pass-through)", "tail: falcocw, workers 0"} {
		if !slices.Contains(names, want) {
			t.Errorf("the long run's variants %q lack %q", names, want)
		}
	}
}

func TestWriteInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.log")
	if err := os.WriteFile(path, []byte("an older, longer file's bytes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeInput(path, "line 1\nline 2\n"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "line 1\nline 2\n" {
		t.Errorf("the input file reads %q, %v; want the text written, the old one replaced", b, err)
	}
	if err := writeInput(filepath.Join(t.TempDir(), "missing", "in.log"), "x"); err == nil {
		t.Error("writeInput into a missing directory: no error")
	}
}

// TestCompare: -compare runs the second build beside the first, with the
// same configuration, in the tail group at both sizes, and only then.
func TestCompare(t *testing.T) {
	for _, full := range []bool{true, false} {
		b := bench{so: "/a/falcocw.so", compare: "/b/falcocw.so"}
		var a, bv *variant
		vs := b.variants(&workload{}, full)
		for i, v := range vs {
			switch v.plugin {
			case b.so:
				if v.group == "tail" {
					a = &vs[i]
				}
			case b.compare:
				bv = &vs[i]
			}
		}
		if a == nil || bv == nil {
			t.Fatalf("full %v: variants %v: want falcocw and falcocw B in the tail group", full, vs)
		}
		if bv.group != "tail" || bv.name == a.name {
			t.Errorf("full %v: B runs as %q in %q; want its own name in the tail group", full, bv.name, bv.group)
		}
		ep := endpoint{url: "https://127.0.0.1:1", parsers: "p.conf", inputFile: "in.log"}
		if bv.conf(ep) != a.conf(ep) {
			t.Errorf("full %v: B's configuration differs from A's:\n%s\n%s", full, bv.conf(ep), a.conf(ep))
		}
		b.compare = ""
		for _, v := range b.variants(&workload{}, full) {
			if strings.Contains(v.name, "falcocw B") {
				t.Errorf("full %v: without -compare, a variant %q", full, v.name)
			}
		}
	}
}
