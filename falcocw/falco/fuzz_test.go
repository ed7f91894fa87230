package falco_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/internal/samples"
)

// FuzzRecognise: any log line, as a string in "log" or decoded as the
// record itself, is recognised or not without panic, a recognised alert
// always becomes valid UTF-8 JSON that respects a size limit, and
// RecogniseLine finds exactly what Recognise finds in the map {"log": line}.
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
		a, ok := falco.Recognise(map[string]any{"log": line}, "log", recordTime)
		if ok {
			check(a)
		}
		if b, okLine := falco.RecogniseLine("log", line, "log", recordTime); okLine != ok || !reflect.DeepEqual(a, b) {
			t.Fatalf("RecogniseLine differs from Recognise on %q: %v %+v, want %v %+v", line, okLine, b, ok, a)
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m != nil {
			if a, ok := falco.Recognise(m, "log", recordTime); ok {
				check(a)
			}
		}
	})
}

// TestRecogniseLineMatchesRecognise: for every sample line, under the log
// key or another, and with log_key set to metadata keys too, RecogniseLine
// gives what Recognise gives for the record as a map.
func TestRecogniseLineMatchesRecognise(t *testing.T) {
	recognised := 0
	for _, file := range []string{"alerts.jsonl", "noise.txt", "wrapped-firelens.jsonl", "wrapped-k8s.jsonl", "decoded-k8s.jsonl"} {
		for _, line := range samples.Lines(file) {
			for _, keys := range [][2]string{{"log", "log"}, {"message", "log"}, {"ecs_cluster", "ecs_cluster"}, {"kubernetes", "kubernetes"}} {
				want, wantOK := falco.Recognise(map[string]any{keys[0]: line}, keys[1], recordTime)
				got, gotOK := falco.RecogniseLine(keys[0], line, keys[1], recordTime)
				if gotOK != wantOK || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s in %q, log_key %q: RecogniseLine %v %+v, Recognise %v %+v", file, keys[0], keys[1], gotOK, got, wantOK, want)
				}
				if gotOK {
					recognised++
				}
			}
		}
	}
	if recognised < 3*151 {
		t.Errorf("only %d recognised", recognised)
	}
}
