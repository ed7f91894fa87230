package falcocw_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/msgpack"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

// TestProblemsLoggedPerFlush: a flush of a replayed backlog (alerts a
// month old, outside CloudWatch's window), with oversized alerts and
// malformed records among them, writes one line per kind of problem with
// its count, not one per record; at debug level each record cut or
// skipped is logged too.
func TestProblemsLoggedPerFlush(t *testing.T) {
	const old, huge, bad = 1000, 5, 7
	now := time.Now().UTC()
	var data []byte
	for i := 0; i < old; i++ {
		data = append(data, samples.Chunk(chunk.FormatV2, now, map[string]any{"rule": "Old", "priority": "Notice",
			"time": now.Add(-30*24*time.Hour + time.Duration(i)*time.Second).Format(time.RFC3339Nano), "output": fmt.Sprint("old ", i)})...)
	}
	for i := 0; i < huge; i++ {
		data = append(data, samples.Chunk(chunk.FormatV2, now, map[string]any{"rule": "Huge", "priority": "Critical",
			"time": now.Format(time.RFC3339Nano), "output": strings.Repeat("A", 300<<10)})...)
	}
	for i := 0; i < bad; i++ {
		data = append(data, rawRecord(msgpack.AppendString(nil, "just a string"))...)
	}
	for _, tt := range []struct {
		level    string
		maxLines int
		minLines int
	}{
		{"warn", 3, 3},                 // one per kind: old, huge, malformed
		{"debug", 1 << 20, huge + bad}, // each cut or malformed record as well
	} {
		t.Run(tt.level, func(t *testing.T) {
			srv := fakeaws.New()
			defer srv.Close()
			in, logs := newInstance(t, srv, "log_group_name", "g", "log_stream_name", "s", "auto_create_group", "true", "falcocw_log_level", tt.level)
			res := in.Flush(context.Background(), "t", data)
			if res.Status != falcocw.OK || res.Adjusted != old || res.Truncated != huge || res.Malformed != bad {
				t.Fatalf("%s adjusted=%d truncated=%d malformed=%d\n%.2000s", res.Summary(), res.Adjusted, res.Truncated, res.Malformed, logs)
			}
			var lines []string
			for _, l := range logs.lines {
				if !strings.HasPrefix(l, "info ") && !strings.Contains(l, "flush answered") {
					lines = append(lines, l)
				}
			}
			if len(lines) < tt.minLines || len(lines) > tt.maxLines {
				t.Fatalf("%d lines logged, want %d to %d:\n%.3000s", len(lines), tt.minLines, tt.maxLines, strings.Join(lines, "\n"))
			}
			if tt.level != "warn" {
				return
			}
			for _, want := range []string{
				fmt.Sprintf("cloudwatch:g:s: %d of %d events outside CloudWatch's window", old, old+huge),
				fmt.Sprintf("the oldest %s", now.Add(-30*24*time.Hour).Format("2006-01-02T15:04:05")),
				fmt.Sprintf("delivered truncated, marked \"falcocw_truncated\": %d records in this flush; the first: alert rule=\"Huge\"", huge),
				fmt.Sprintf("tag t: malformed record skipped: %d records in this flush; the first:", bad),
			} {
				if !strings.Contains(strings.Join(lines, "\n"), want) {
					t.Errorf("no line says %q:\n%s", want, strings.Join(lines, "\n"))
				}
			}
		})
	}
}
