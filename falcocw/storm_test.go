package falcocw_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/health"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
)

func shell(t time.Time, cmd string) map[string]any {
	return map[string]any{"rule": "Terminal shell in container", "priority": "Notice", "time": t.UTC().Format(time.RFC3339Nano),
		"output": "A shell was spawned: " + cmd, "output_fields": map[string]any{"proc.cmdline": cmd}}
}

// TestStormControl: repeats of a rule with the same chosen fields within
// the window collapse into the first event, sent at once, and one summary
// carrying the count; other commands, other routes and Fluent Bit's
// retries are not confused.
func TestStormControl(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	now := time.Now()
	var bodies []map[string]any
	for i := 0; i < 50; i++ {
		bodies = append(bodies, shell(now.Add(time.Duration(i)*10*time.Millisecond), "bash"))
	}
	bodies = append(bodies, shell(now, "sh -i"))
	data := samples.Chunk(chunk.FormatV2, now, bodies...)
	// The first attempt fails for one destination, so Fluent Bit retries
	// the chunk: the retry must neither resend nor recount.
	srv.SetFault(func(op string, body []byte) (int, string) {
		if op == "PutLogEvents" && strings.Contains(string(body), `"logStreamName":"text"`) {
			return 400, "InvalidParameterException"[:0] + "ThrottlingException"
		}
		return 0, ""
	})
	// destination_wait past flush_timeout and the SDK's last backoff (2 s):
	// the failing request is answered while the flush waits.
	in, logs := newInstance(t, srv, "flush_timeout", "1s", "destination_wait", "5s", "log_group_name", "g", "log_stream_name", "all", "auto_create_group", "true",
		"route.1", "rule=Terminal* -> cloudwatch:g:storm storm=6s storm_by=proc.cmdline continue",
		"route.2", "rule=Terminal* -> cloudwatch:g:text format=output continue")
	clock := now
	in.SetClock(func() time.Time { return clock })
	if res := in.Flush(context.Background(), "t", data); res.Status != falcocw.Retry || res.Suppressed != 49 {
		t.Fatalf("first attempt: %s suppressed=%d", res.Summary(), res.Suppressed)
	}
	srv.SetFault(nil)
	clock = now.Add(health.ProbeEvery) // Fluent Bit's retry comes when the destination down is probed again
	res := in.Flush(context.Background(), "t", data)
	if res.Status != falcocw.OK || res.Suppressed != 49 {
		t.Fatalf("%s suppressed=%d\n%s", res.Summary(), res.Suppressed, logs)
	}
	if n := len(srv.Events("g", "storm")); n != 2 {
		t.Fatalf("%d events at once in the storm stream, want 2 (first bash, first sh -i): %v", n, srv.Events("g", "storm"))
	}
	if n := len(srv.Events("g", "all")); n != 51 {
		t.Errorf("the default got %d, want all 51", n)
	}
	text := srv.Events("g", "text")
	if len(text) != 51 || text[0].Message[:len("A shell was spawned")] != "A shell was spawned" {
		t.Errorf("format=output: %d events, first %q", len(text), text[0].Message)
	}
	clock = now.Add(6200 * time.Millisecond)       // the window has ended
	res = in.Flush(context.Background(), "t", nil) // any later flush sends the summaries due
	if res.Summaries != 1 {
		t.Fatalf("%d summaries, want 1\n%s", res.Summaries, logs)
	}
	ev := srv.Events("g", "storm")
	var summary map[string]any
	if err := json.Unmarshal([]byte(ev[len(ev)-1].Message), &summary); err != nil {
		t.Fatal(err)
	}
	st, _ := summary["storm"].(map[string]any)
	if st == nil || st["suppressed"] != float64(49) || st["window"] != "6s" || summary["rule"] != "Terminal shell in container" {
		t.Errorf("summary %v", summary)
	}
	if len(ev) != 3 {
		t.Errorf("%d events in the storm stream, want 3", len(ev))
	}
}

// TestStormSummariesAtExit: windows still open at exit are summed up then.
func TestStormSummariesAtExit(t *testing.T) {
	srv := fakeaws.New()
	defer srv.Close()
	in, logs := newInstance(t, srv, "route.1", "* -> cloudwatch:g:s storm=1h", "auto_create_group", "true")
	now := time.Now()
	var bodies []map[string]any
	for i := 0; i < 5; i++ {
		bodies = append(bodies, shell(now.Add(time.Duration(i)*time.Second), fmt.Sprint(i)))
	}
	in.Flush(context.Background(), "t", samples.Chunk(chunk.FormatV2, now, bodies...))
	in.Close(2 * time.Second)
	ev := srv.Events("g", "s")
	if len(ev) != 2 {
		t.Fatalf("%d events, want the first and the summary\n%s", len(ev), logs)
	}
}

// TestStormOutlivesTheChunk: a record's strings are read in place, as
// views into the chunk Fluent Bit frees once the flush returns; the storm
// gate keeps an alert and a target filled from it ({hostname},
// {ecs_task_id}) until a later flush sends the summary, so it must keep
// copies. The chunk is overwritten after its flush, as freed memory is
// reused. Both record shapes: the tail input's {"log": line} and
// FireLens' map with its metadata.
func TestStormOutlivesTheChunk(t *testing.T) {
	const task = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef"
	for _, tc := range []struct {
		name, stream, want string
		body               func(line string) map[string]any
	}{
		{"tail", "{hostname}", "node-7", func(line string) map[string]any { return map[string]any{"log": line} }},
		{"firelens", "{ecs_task_id}", "0123456789abcdef", func(line string) map[string]any {
			return map[string]any{"log": line, "source": "stdout", "container_name": "falco", "ecs_cluster": "prod", "ecs_task_arn": task}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeaws.New()
			defer srv.Close()
			in, logs := newInstance(t, srv, "auto_create_group", "true",
				"route.1", "rule=Terminal* -> cloudwatch:g:"+tc.stream+" storm=6s storm_by=proc.cmdline", "route.2", "* -> drop")
			now := time.Now()
			var bodies []map[string]any
			for i := 0; i < 5; i++ {
				a := shell(now.Add(time.Duration(i)*time.Second), "bash")
				a["hostname"], a["tags"] = "node-7", []string{"container", "shell"}
				line, err := json.Marshal(a)
				if err != nil {
					t.Fatal(err)
				}
				bodies = append(bodies, tc.body(string(line)))
			}
			data := samples.Chunk(chunk.FormatV2, now, bodies...)
			clock := now
			in.SetClock(func() time.Time { return clock })
			if res := in.Flush(context.Background(), "t", data); res.Status != falcocw.OK || res.Suppressed != 4 {
				t.Fatalf("%s suppressed=%d\n%s", res.Summary(), res.Suppressed, logs)
			}
			for i := range data {
				data[i] = 0xDB
			}
			clock = now.Add(7 * time.Second)
			if res := in.Flush(context.Background(), "t", nil); res.Summaries != 1 {
				t.Fatalf("%d summaries, want 1\n%s", res.Summaries, logs)
			}
			ev := srv.Events("g", tc.want)
			if len(ev) != 2 {
				t.Fatalf("%d events in stream %s, want the first and the summary; streams: %v\n%s", len(ev), tc.want, srv.LogStreams(), logs)
			}
			var summary map[string]any
			if err := json.Unmarshal([]byte(ev[1].Message), &summary); err != nil {
				t.Fatalf("summary %q: %v", ev[1].Message, err)
			}
			want := map[string]any{"rule": "Terminal shell in container", "hostname": "node-7", "output": "A shell was spawned: bash",
				"tags": []any{"container", "shell"}}
			if tc.name == "firelens" {
				want["ecs_task_arn"], want["ecs_cluster"] = task, "prod"
			}
			for k, v := range want {
				if fmt.Sprint(summary[k]) != fmt.Sprint(v) {
					t.Errorf("summary %s = %v, want %v", k, summary[k], v)
				}
			}
			if f, _ := summary["output_fields"].(map[string]any); f["proc.cmdline"] != "bash" {
				t.Errorf("summary output_fields %v", summary["output_fields"])
			}
		})
	}
}
