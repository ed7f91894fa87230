package falcocw_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/msgpack"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

func nested(depth int) any {
	var v any = "bottom"
	for i := 0; i < depth; i++ {
		v = map[string]any{"d": v}
	}
	return v
}

func alertBody(extra map[string]any) map[string]any {
	b := map[string]any{"rule": "Hostile", "priority": "Warning", "time": time.Now().UTC().Format(time.RFC3339Nano), "output": "o", "source": "syscall"}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// rawRecord is a 1.x record [now, body] with body already encoded.
func rawRecord(body []byte) []byte {
	b := msgpack.AppendArrayHeader(nil, 2)
	b, _ = msgpack.Append(b, time.Now())
	return append(b, body...)
}

// TestHostileRecords: each odd or hostile record gets the named result,
// never a crash, and never takes the good record beside it down.
func TestHostileRecords(t *testing.T) {
	good := samples.Chunk(chunk.FormatV2, time.Now(), map[string]any{"log": samples.Lines("alerts.jsonl")[0]})
	alertLine := samples.Lines("alerts.jsonl")[5]
	tests := []struct {
		name      string
		chunk     []byte
		status    falcocw.Status
		delivered int // events at the destination, the good record included
		nonFalco  int
		malformed int
		check     func(t *testing.T, event map[string]any)
	}{
		{name: "empty chunk", chunk: nil, status: falcocw.OK, delivered: 0},
		{name: "deeply nested output_fields", delivered: 2,
			chunk: samples.Chunk(chunk.FormatV2, time.Now(), alertBody(map[string]any{"output_fields": map[string]any{"x": nested(90)}})),
			check: func(t *testing.T, e map[string]any) {
				if !strings.Contains(mustJSON(e), "[too deep]") {
					t.Error("nesting beyond 64 levels not cut")
				}
			}},
		{name: "nesting beyond the decoder's limit", delivered: 1, malformed: 1,
			chunk: samples.Chunk(chunk.FormatV2, time.Now(), alertBody(map[string]any{"output_fields": map[string]any{"x": nested(200)}}))},
		{name: "huge tag array", delivered: 2,
			chunk: samples.Chunk(chunk.FormatV2, time.Now(), alertBody(map[string]any{"tags": manyTags(200000)})),
			check: func(t *testing.T, e map[string]any) {
				if e["falcocw_truncated"] != true || e["rule"] != "Hostile" {
					t.Errorf("oversized alert not truncated with its rule kept: %.200v", e)
				}
			}},
		{name: "non-string map keys", delivered: 2,
			chunk: rawRecord(func() []byte {
				b := msgpack.AppendMapHeader(nil, 3)
				b, _ = msgpack.Append(b, int64(7))
				b, _ = msgpack.Append(b, "seven")
				b, _ = msgpack.Append(b, true)
				b, _ = msgpack.Append(b, "yes")
				b = msgpack.AppendString(b, "log")
				return msgpack.AppendString(b, alertLine)
			}())},
		{name: "duplicate keys, the last wins", delivered: 2,
			chunk: rawRecord(func() []byte {
				b := msgpack.AppendMapHeader(nil, 4)
				for _, kv := range [][2]string{{"rule", "First"}, {"priority", "Error"}, {"output", "o"}, {"rule", "Last"}} {
					b = msgpack.AppendString(b, kv[0])
					b = msgpack.AppendString(b, kv[1])
				}
				return b
			}()),
			check: func(t *testing.T, e map[string]any) {
				if e["rule"] != "Last" {
					t.Errorf("rule %v", e["rule"])
				}
			}},
		{name: "NaN and Inf", delivered: 2,
			chunk: samples.Chunk(chunk.FormatV2, time.Now(), alertBody(map[string]any{"output_fields": map[string]any{"nan": math.NaN(), "inf": math.Inf(-1)}})),
			check: func(t *testing.T, e map[string]any) {
				of := e["output_fields"].(map[string]any)
				if of["nan"] != "NaN" || of["inf"] != "-Inf" {
					t.Errorf("output_fields %v", of)
				}
			}},
		{name: "invalid UTF-8 and NUL bytes", delivered: 2,
			chunk: samples.Chunk(chunk.FormatV2, time.Now(), alertBody(map[string]any{"output": "a\xffb\x00c", "rule": "R\xc3"})),
			check: func(t *testing.T, e map[string]any) {
				if e["output"] != "a\ufffdb\x00c" || e["rule"] != "R\ufffd" {
					t.Errorf("output %q rule %q", e["output"], e["rule"])
				}
			}},
		{name: "log JSON cut at 16 KiB", delivered: 1, nonFalco: 2,
			chunk: samples.Chunk(chunk.FormatV2, time.Now(),
				map[string]any{"log": alertLine[:len(alertLine)/2], "stream": "stdout", "logtag": "P"},
				map[string]any{"log": alertLine[len(alertLine)/2:], "stream": "stdout", "logtag": "F"})},
		{name: "priority in odd case", delivered: 2,
			chunk: samples.Chunk(chunk.FormatV2, time.Now(), alertBody(map[string]any{"priority": "wARNING"})),
			check: func(t *testing.T, e map[string]any) {
				if e["priority"] != "Warning" {
					t.Errorf("priority %v", e["priority"])
				}
			}},
		{name: "unknown priority is not Falco", delivered: 1, nonFalco: 1,
			chunk: samples.Chunk(chunk.FormatV2, time.Now(), alertBody(map[string]any{"priority": "Severe"}))},
		{name: "time missing", delivered: 2,
			chunk: samples.Chunk(chunk.FormatV2, time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), alertBody(map[string]any{"time": nil})),
			check: func(t *testing.T, e map[string]any) {
				if e["time"] != "2026-11-22T08:00:00.000000000Z" {
					t.Errorf("time %v, want the record's", e["time"])
				}
			}},
		{name: "time unparseable", delivered: 2,
			chunk: samples.Chunk(chunk.FormatV2, time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), alertBody(map[string]any{"time": "yesterday"}))},
		{name: "record not a map", delivered: 1, malformed: 1,
			chunk: rawRecord(msgpack.AppendString(nil, "just a string"))},
		{name: "record not an array", delivered: 1, malformed: 1,
			chunk: msgpack.AppendString(nil, "not a record")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeaws.New()
			defer srv.Close()
			in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true")
			data := append(append([]byte{}, tt.chunk...), good...)
			if tt.chunk == nil {
				data = nil
			}
			res := in.Flush(context.Background(), "t", data)
			if res.Status != tt.status || res.NonFalco != tt.nonFalco || res.Malformed != tt.malformed {
				t.Errorf("%s; want status %v, %d non-Falco, %d malformed\n%s", res.Summary(), tt.status, tt.nonFalco, tt.malformed, logs)
			}
			events := srv.Events("g", "s")
			if len(events) != tt.delivered {
				t.Fatalf("%d events delivered, want %d\n%s", len(events), tt.delivered, logs)
			}
			if v := srv.Violations(); len(v) > 0 {
				t.Errorf("limits broken: %v", v)
			}
			for _, e := range events {
				if !utf8.ValidString(e.Message) || !json.Valid([]byte(e.Message)) {
					t.Fatalf("delivered invalid JSON: %.200q", e.Message)
				}
			}
			if tt.check != nil {
				goodRule := samples.DecodeJSON(samples.Lines("alerts.jsonl")[0])["rule"]
				var hostile map[string]any
				for _, e := range events {
					var m map[string]any
					_ = json.Unmarshal([]byte(e.Message), &m)
					if m["rule"] != goodRule {
						hostile = m
					}
				}
				if hostile == nil {
					t.Fatal("the hostile record's event is missing")
				}
				tt.check(t, hostile)
			}
		})
	}
}

// TestWarningsSaidOnce: the time fallback and the cut-alert hint are
// logged once per instance, not once per record.
func TestWarningsSaidOnce(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true")
	line := samples.Lines("alerts.jsonl")[5]
	var bodies []map[string]any
	for i := 0; i < 5; i++ {
		bodies = append(bodies, alertBody(map[string]any{"time": nil}), map[string]any{"log": line[:100]})
	}
	for i := 0; i < 2; i++ {
		res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), bodies...))
		if res.TimeFromRecord != 5 || res.Cut != 5 {
			t.Fatalf("%s: time fallback %d, cut %d", res.Summary(), res.TimeFromRecord, res.Cut)
		}
	}
	if n := strings.Count(logs.String(), "no usable time field"); n != 1 {
		t.Errorf("time fallback said %d times", n)
	}
	if n := strings.Count(logs.String(), "cut short"); n != 1 {
		t.Errorf("cut alert said %d times", n)
	}
}

func manyTags(n int) []any {
	tags := make([]any, n)
	for i := range tags {
		tags[i] = "tag_" + strings.Repeat("x", 8)
	}
	return tags
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestFragmentWarned: the rest of an alert whose start is missing (the tail
// input read from inside its line) is warned about, once, and counted.
func TestFragmentWarned(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true")
	line := samples.Lines("alerts.jsonl")[5]
	bodies := []map[string]any{{"log": line[len(line)/3:]}, {"log": line}, {"log": line[len(line)/2:]}}
	for i := 0; i < 2; i++ {
		res := in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, time.Now(), bodies...))
		if res.Cut != 2 || res.Alerts != 1 || res.NonFalco != 2 {
			t.Fatalf("%s: cut %d", res.Summary(), res.Cut)
		}
	}
	if n := strings.Count(logs.String(), "holds the end of a Falco alert without its start"); n != 1 {
		t.Errorf("fragment warning said %d times:\n%s", n, logs.String())
	}
	in.Close(time.Second)
	if !strings.Contains(logs.String(), "(4 fragments of alerts)") {
		t.Errorf("exit totals do not count the fragments:\n%s", logs.String())
	}
}

// TestPiecesWarned: the pieces of a line Docker's log driver split, arriving
// over forward unjoined, are warned about once, naming the FireLens fix (not
// the tail input's), and counted; the alert beside them is delivered.
func TestPiecesWarned(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true")
	line := samples.Lines("alerts.jsonl")[5]
	piece := func(text, ordinal, last string) map[string]any {
		return map[string]any{"log": text, "source": "stdout", "container_id": "0f1e", "partial_message": "true",
			"partial_id": "9a8b", "partial_ordinal": ordinal, "partial_last": last}
	}
	bodies := []map[string]any{piece(line[:len(line)/2], "1", "false"), {"log": line, "source": "stdout"}, piece(line[len(line)/2:], "2", "true")}
	for i := 0; i < 2; i++ {
		res := in.Flush(context.Background(), "falco-firelens-7d26", samples.Chunk(chunk.FormatV2, time.Now(), bodies...))
		if res.Cut != 2 || res.Alerts != 1 || res.NonFalco != 2 || res.Status != falcocw.OK {
			t.Fatalf("%s: cut %d", res.Summary(), res.Cut)
		}
	}
	if n := strings.Count(logs.String(), "config-file-value /fluent-bit/etc/falcocw-firelens.conf"); n != 1 {
		t.Errorf("the FireLens fix said %d times:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "tail input") {
		t.Errorf("the pieces came over forward, but the tail input's fix was named:\n%s", logs.String())
	}
	if n := len(srv.Events("g", "s")); n != 2 {
		t.Errorf("%d events delivered, want the alert of each flush", n)
	}
}
