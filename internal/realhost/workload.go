package realhost

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
	"github.com/falcocw/falcocw/internal/sampletest"
)

// Alert is one numbered Falco alert of a workload: its JSON line as Falco
// prints it, with a unique "uuid" (a-N) by which deliveries are counted.
type Alert struct {
	UUID     string
	Line     string
	Priority string
	Tags     []string
	Source   string
}

// Critical reports whether the alert is Critical or worse.
func (a Alert) Critical() bool {
	return a.Priority == "Critical" || a.Priority == "Alert" || a.Priority == "Emergency"
}

// HasTagPrefix reports whether one of the alert's tags starts with p.
func (a Alert) HasTagPrefix(p string) bool {
	for _, t := range a.Tags {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// NumberedAlerts returns n alerts, the bundled samples in turn, each with
// its own uuid, timed within the last two days.
func NumberedAlerts(n int) []Alert { return NumberedAlertsAt(n, samples.Now()) }

// NumberedAlertsAt is NumberedAlerts with the samples' times placed as of
// now (samples.At): a now in the past makes a backlog of old alerts.
func NumberedAlertsAt(n int, now time.Time) []Alert {
	lines := samples.LinesAt("alerts.jsonl", now)
	out := make([]Alert, n)
	for i := range out {
		m := samples.DecodeJSON(lines[i%len(lines)])
		id := "a-" + strconv.Itoa(i)
		m["uuid"] = id
		b, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		a := Alert{UUID: id, Line: string(b)}
		a.Priority, _ = m["priority"].(string)
		a.Source, _ = m["source"].(string)
		if tags, ok := m["tags"].([]any); ok {
			for _, t := range tags {
				a.Tags = append(a.Tags, fmt.Sprint(t))
			}
		}
		out[i] = a
	}
	return out
}

// Noise returns the lines of Falco's container that are not alerts.
func Noise() []string {
	var out []string
	for _, l := range samples.Lines("noise.txt") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// Deliveries counts what the fake endpoint received: destination →
// uuid → copies. Events without a uuid count under "".
func Deliveries(t testing.TB, srv *fakeaws.Server) map[string]map[string]int {
	t.Helper()
	got, err := sampletest.Delivered(srv)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]int{}
	for dest, events := range got {
		m := map[string]int{}
		for _, e := range events {
			id, _ := e["uuid"].(string)
			m[id]++
		}
		out[dest] = m
	}
	return out
}

// Expect is the deliveries a test expects: destination → uuids.
type Expect map[string][]string

// Add expects the alert at dest.
func (e Expect) Add(dest, uuid string) { e[dest] = append(e[dest], uuid) }

// Count is how many deliveries are expected in all.
func (e Expect) Count() int {
	n := 0
	for _, ids := range e {
		n += len(ids)
	}
	return n
}

// Compare returns what differs between the deliveries and the
// expectation: missing, duplicated and unexpected events.
func (e Expect) Compare(got map[string]map[string]int) (missing, dups, extra int, notes []string) {
	note := func(format string, args ...any) {
		if len(notes) < 20 {
			notes = append(notes, fmt.Sprintf(format, args...))
		}
	}
	for dest, ids := range e {
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
			switch n := got[dest][id]; {
			case n == 0:
				missing++
				note("%s: %s missing", dest, id)
			case n > 1:
				dups += n - 1
				note("%s: %s delivered %d times", dest, id, n)
			}
		}
		for id, n := range got[dest] {
			if !want[id] {
				extra += n
				note("%s: %q not expected there (%d)", dest, id, n)
			}
		}
	}
	dests := make([]string, 0, len(got))
	for d := range got {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	for _, d := range dests {
		if _, ok := e[d]; !ok {
			for id, n := range got[d] {
				extra += n
				note("%s: %q not expected there (%d)", d, id, n)
			}
		}
	}
	return
}

// FreePort returns a TCP port free on 127.0.0.1 now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// NewEndpoint starts the project's fake AWS endpoint, checking the SigV4
// signature of every request against TestEnv's credentials.
func NewEndpoint(t testing.TB) *fakeaws.Server {
	srv := fakeaws.NewVerifying()
	t.Cleanup(srv.Close)
	return srv
}
