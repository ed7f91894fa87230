// Package samples bundles the Falco event samples (copied from the
// project's shared test data) for tests, benchmarks and the demo, and turns
// them into Fluent Bit records and chunks as Fluent Bit's inputs would.
//
//	alerts.jsonl          151 Falco alerts, one JSON object per line
//	noise.txt             lines Falco's container prints that are not alerts
//	wrapped-firelens.jsonl alerts in "log" with ECS FireLens metadata
//	wrapped-k8s.jsonl     alerts in "log" with the Kubernetes filter's map
//	decoded-k8s.jsonl     alerts already decoded into the record
//
// The files were rendered on one day; their times are placed relative to
// now when they are read (see At), so that no test, benchmark or demo
// depends on the calendar: alerts a year old fall outside CloudWatch's
// window (14 days back) and take paths a fresh alert never takes.
package samples

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/falcocw/falcocw/falcocw/chunk"
)

//go:embed data
var files embed.FS

// Lines returns the lines of a sample file, without empty trailing lines,
// with their times placed as of the moment the process first read a
// sample (Now).
func Lines(name string) []string { return LinesAt(name, Now()) }

// LinesAt returns the lines of a sample file with their times placed as
// of now (see At).
func LinesAt(name string, now time.Time) []string {
	b, err := files.ReadFile("data/" + name)
	if err != nil {
		panic(fmt.Sprintf("samples: %v", err))
	}
	return strings.Split(strings.TrimRight(At(string(b), now), "\n"), "\n")
}

// Record is one sample as a Fluent Bit record body, with the file and line
// it came from.
type Record struct {
	File string
	Line int
	Body map[string]any
}

// Records returns every sample as the record a Fluent Bit input hands on:
// alerts.jsonl and noise.txt lines as {"log": line} (the tail or FireLens
// input without a parser), the other files as the records they hold.
func Records() []Record { return RecordsAt(Now()) }

// RecordsAt is Records with the samples' times placed as of now (see At).
func RecordsAt(now time.Time) []Record {
	var out []Record
	for _, f := range []string{"alerts.jsonl", "noise.txt"} {
		for i, l := range LinesAt(f, now) {
			out = append(out, Record{File: f, Line: i + 1, Body: map[string]any{"log": l, "source": "stdout"}})
		}
	}
	for _, f := range []string{"wrapped-firelens.jsonl", "wrapped-k8s.jsonl", "decoded-k8s.jsonl"} {
		for i, l := range LinesAt(f, now) {
			out = append(out, Record{File: f, Line: i + 1, Body: DecodeJSON(l)})
		}
	}
	return out
}

// DecodeJSON decodes a JSON object into the types a Fluent Bit record
// holds: integers as int64, other numbers as float64.
func DecodeJSON(s string) map[string]any {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		panic(fmt.Sprintf("samples: %v in %.80s", err, s))
	}
	return numbers(m).(map[string]any)
}

func numbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	}
	return v
}

// Chunk lays records out as one Fluent Bit chunk in the given format,
// timestamped from base, one millisecond apart.
func Chunk(f chunk.Format, base time.Time, bodies ...map[string]any) []byte {
	var b []byte
	var err error
	for i, body := range bodies {
		if b, err = chunk.Append(b, f, base.Add(time.Duration(i)*time.Millisecond), body); err != nil {
			panic(err)
		}
	}
	return b
}

// Bodies returns the bodies of records.
func Bodies(rs []Record) []map[string]any {
	out := make([]map[string]any, len(rs))
	for i, r := range rs {
		out[i] = r.Body
	}
	return out
}

// Compact re-encodes a JSON line without spaces, for comparisons.
func Compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}
