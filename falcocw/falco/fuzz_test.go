package falco_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
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
			sameQuoted(t, a)
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

// TestAppendJSONQuoted: the event written at once as a JSON string is the
// event escaped as a string, byte for byte, with its plain length, for
// every sample in every shape (the fast path's alerts, decoded maps,
// FireLens and Kubernetes metadata) and for values that need escaping
// twice. FuzzRecognise checks the same on every line it makes.
func TestAppendJSONQuoted(t *testing.T) {
	n := 0
	lines := []string{
		`{"rule":"q\"uo\\te","priority":"Error","output":"tab\there \u0001 é \u2028 <b>","hostname":"h\"","tags":["a\\b"],"output_fields":{"s":"x\"y","u":"\u00e9\ud83d\ude00","n":null}}`,
		`{"rule":"r","priority":"Error","output":"o","uuid":"u","message":"m\n","extra":{"k":[1,"\""]},"output_fields":{"a":1}}`,
		"{\"rule\":\"bad \xff byte\",\"priority\":\"Error\",\"output\":\"o\"}",
	}
	for _, file := range []string{"alerts.jsonl", "wrapped-firelens.jsonl", "wrapped-k8s.jsonl", "decoded-k8s.jsonl"} {
		lines = append(lines, samples.Lines(file)...)
	}
	for i, line := range lines {
		a, ok := falco.RecogniseLine("log", line, "log", recordTime)
		if ok {
			sameQuoted(t, a)
			n++
		} else if i < 3 {
			t.Fatalf("crafted line %d not recognised: %s", i, line)
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			if a, ok := falco.Recognise(m, "log", recordTime); ok {
				sameQuoted(t, a)
				a.Fields() // output_fields decoded, as a route on a field leaves them
				sameQuoted(t, a)
				n++
			}
		}
	}
	if n < 300 {
		t.Fatalf("only %d alerts compared", n)
	}
}

func sameQuoted(t *testing.T, a *falco.Alert) {
	t.Helper()
	plain := a.AppendJSON(nil)
	want := jsonstr.AppendBytes([]byte("x"), plain)
	got, n := a.AppendJSONQuoted([]byte("x"))
	if string(got) != string(want) || n != len(plain) {
		t.Fatalf("AppendJSONQuoted:\n got %s (plain length %d)\nwant %s (%d)", got, n, want, len(plain))
	}
}
