package falco_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/internal/samples"
)

// FuzzRecognise: any log line, as a string in "log" or decoded as the
// record itself, is recognised or not without panic, and a recognised
// alert always becomes valid UTF-8 JSON that respects a size limit.
func FuzzRecognise(f *testing.F) {
	for _, file := range []string{"alerts.jsonl", "noise.txt", "wrapped-firelens.jsonl", "wrapped-k8s.jsonl", "decoded-k8s.jsonl"} {
		for _, l := range samples.Lines(file) {
			f.Add(l, 2048)
		}
	}
	f.Add(`{"rule":"r","priority":"WARNING","time":"x","output_fields":{"a":[1,[2,[3]]]}}`, 64)
	f.Add(`{"rule":"\u0000","priority":"debug","output":"\xff"}`, 10)
	f.Fuzz(func(t *testing.T, line string, limit int) {
		check := func(a *falco.Alert) {
			out := a.AppendJSON(nil)
			if !json.Valid(out) || !utf8.Valid(out) {
				t.Fatalf("invalid JSON for %q: %q", line, out)
			}
			if limit > 300 && limit < 1<<20 {
				cut, _ := a.JSON(limit)
				if len(cut) > limit || !json.Valid(cut) {
					t.Fatalf("JSON(%d) gave %d bytes, valid %v", limit, len(cut), json.Valid(cut))
				}
			}
		}
		if a, ok := falco.Recognise(map[string]any{"log": line}, "log", recordTime); ok {
			check(a)
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m != nil {
			if a, ok := falco.Recognise(m, "log", recordTime); ok {
				check(a)
			}
		}
	})
}
