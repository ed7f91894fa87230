package falco_test

import (
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/internal/samples"
)

// TestID: the ID is 32 hex digits, the same for the same alert however it
// arrived (a line, a FireLens record, a record re-read after a restart),
// different when any of time, hostname, rule or output differs, and
// different for every sample alert.
func TestID(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]int{}
	for i, line := range samples.Lines("alerts.jsonl") {
		a, _ := falco.Recognise(map[string]any{"log": line}, "log", recordTime)
		b, _ := falco.RecogniseLine("log", line, "log", recordTime.Add(time.Hour))
		c, _ := falco.Recognise(map[string]any{"log": line, "container_name": "falco", "ecs_cluster": "c"}, "log", recordTime)
		id := a.ID()
		if !hex32.MatchString(id) {
			t.Fatalf("alerts.jsonl:%d: ID %q, want 32 hex digits", i+1, id)
		}
		if b.ID() != id || c.ID() != id {
			t.Errorf("alerts.jsonl:%d: the same alert got IDs %s, %s, %s", i+1, id, b.ID(), c.ID())
		}
		if j, dup := seen[id]; dup {
			t.Errorf("alerts.jsonl:%d and %d share ID %s", j, i+1, id)
		}
		seen[id] = i + 1
	}
	base := falco.Alert{Time: time.Unix(1795338994, 131613304), Hostname: "h", Rule: "r", Output: "o"}
	variants := map[string]falco.Alert{
		"time+1ns":      {Time: base.Time.Add(1), Hostname: "h", Rule: "r", Output: "o"},
		"hostname":      {Time: base.Time, Hostname: "h2", Rule: "r", Output: "o"},
		"rule":          {Time: base.Time, Hostname: "h", Rule: "r2", Output: "o"},
		"output":        {Time: base.Time, Hostname: "h", Rule: "r", Output: "o2"},
		"shifted bytes": {Time: base.Time, Hostname: "hr", Rule: "", Output: "o"},
		"uuid":          {Time: base.Time, Hostname: "h", Rule: "r", Output: "o", UUID: "u"},
	}
	for name, v := range variants {
		if v.ID() == base.ID() {
			t.Errorf("%s changed, ID stayed %s", name, base.ID())
		}
	}
	// The values themselves stay: consumers drop duplicates by them and
	// Security Hub updates findings by them, across upgrades too.
	for _, g := range []struct {
		a    falco.Alert
		want string
	}{
		{falco.Alert{Time: base.Time, Hostname: "h", Rule: "r", Output: "o", UUID: "u"}, "a80531fe041fb3d3bb9889eb3dad8b49"},
		{falco.Alert{Time: base.Time, Hostname: "ip-10-0-1-23", Rule: "Terminal shell in container", Output: strings.Repeat("é output ", 100)},
			"2f9120ba4ef3b5c8b5945bcbf182f5c3"}, // longer than the stack room
	} {
		if got := g.a.ID(); got != g.want {
			t.Errorf("ID of %s is %s, want %s as before", g.a.Rule, got, g.want)
		}
	}
	same := base
	same.Priority, same.Tags, same.Source = falco.PriorityCritical, []string{"x"}, "k8s_audit"
	if same.ID() != base.ID() {
		t.Errorf("ID depends on fields other than time, hostname, rule, output and uuid")
	}
}

// TestIDTruncated: an event cut to a service's limit keeps its id.
func TestIDTruncated(t *testing.T) {
	a := &falco.Alert{Time: time.Unix(1, 0), Rule: "r", Hostname: "h", Output: string(make([]byte, 4000))}
	out, cut := a.JSON(600)
	if !cut || !regexp.MustCompile(`"id":"`+a.ID()+`"`).Match(out) {
		t.Errorf("truncated event %s lacks id %s", out, a.ID())
	}
}

// TestIDAllocatesNothing: an alert's ID is computed without the heap,
// whatever its output's length (Falco's outputs with a few long fields: a
// command line, a container image; one of kilobytes is hashed a piece at a
// time), and the same as laid out whole.
func TestIDAllocatesNothing(t *testing.T) {
	for _, n := range []int{34, 400} {
		a := &falco.Alert{Time: time.Unix(1795338000, 594315616), Hostname: "ip-10-0-1-23.eu-west-1.compute.internal",
			Rule: "Terminal shell in container", Output: strings.Repeat("evt_type=execve user=root ", n), UUID: "u"}
		buf := make([]byte, 0, 32)
		if allocs := testing.AllocsPerRun(100, func() { buf = a.AppendID(buf[:0]) }); allocs != 0 {
			t.Errorf("AppendID of an alert with a %d-byte output made %.1f allocations; want none", len(a.Output), allocs)
		}
		in := binary.LittleEndian.AppendUint64(nil, uint64(a.Time.UnixNano()))
		for _, s := range []string{a.Hostname, a.Rule, a.Output, a.UUID} {
			in = binary.LittleEndian.AppendUint32(in, uint32(len(s)))
			in = append(in, s...)
		}
		var sum [16]byte
		var d xxhash.Digest
		for i, seed := range []uint64{0x66616c636f637721, 0x9e3779b97f4a7c15} {
			d.ResetWithSeed(seed)
			_, _ = d.Write(in)
			binary.BigEndian.PutUint64(sum[8*i:], d.Sum64())
		}
		if got, want := a.ID(), hex.EncodeToString(sum[:]); got != want {
			t.Errorf("ID of an alert with a %d-byte output = %s, want %s", len(a.Output), got, want)
		}
	}
}
