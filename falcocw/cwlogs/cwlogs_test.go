package cwlogs_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/cwlogs"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/internal/fakeaws"
)

func TestBatchesRespectLimits(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	cases := map[string][]cwlogs.Event{}
	var many, big, span []cwlogs.Event
	for i := 0; i < 25000; i++ { // count limit
		many = append(many, cwlogs.Event{Time: t0.Add(time.Duration(r.IntN(3600)) * time.Second), Message: []byte("x")})
	}
	for i := 0; i < 30; i++ { // byte limit: 30 events near the per-event maximum
		big = append(big, cwlogs.Event{Time: t0, Message: bytes.Repeat([]byte("y"), cwlogs.MaxMessageBytes)})
	}
	for i := 0; i < 100; i++ { // span limit: 100 events over 3 days
		span = append(span, cwlogs.Event{Time: t0.Add(time.Duration(i) * 43 * time.Minute), Message: []byte("z")})
	}
	cases["count"], cases["bytes"], cases["span"] = many, big, span
	for name, events := range cases {
		n := len(events)
		total := 0
		for _, b := range cwlogs.Batches(events) {
			size := 0
			for i, e := range b {
				size += len(e.Message) + cwlogs.EventOverhead
				if i > 0 && e.Time.UnixMilli() < b[i-1].Time.UnixMilli() {
					t.Fatalf("%s: batch not chronological", name)
				}
			}
			if len(b) > cwlogs.MaxBatchEvents || size > cwlogs.MaxBatchBytes || b[len(b)-1].Time.Sub(b[0].Time) >= cwlogs.MaxBatchSpan {
				t.Errorf("%s: batch of %d events, %d bytes, span %s breaks a limit", name, len(b), size, b[len(b)-1].Time.Sub(b[0].Time))
			}
			total += len(b)
		}
		if total != n {
			t.Errorf("%s: %d events batched, want %d", name, total, n)
		}
	}
}

// TestBatchesOrder: events go out by timestamp (CloudWatch's, in
// milliseconds), and within a millisecond in the order of their records.
func TestBatchesOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		events []cwlogs.Event // ID, Time
		want   []int          // IDs
	}{
		{"in order", []cwlogs.Event{{ID: 0, Time: t0}, {ID: 1, Time: t0.Add(ms)}, {ID: 2, Time: t0.Add(2 * ms)}}, []int{0, 1, 2}},
		{"out of order", []cwlogs.Event{{ID: 0, Time: t0.Add(2 * ms)}, {ID: 1, Time: t0}, {ID: 2, Time: t0.Add(ms)}}, []int{1, 2, 0}},
		{"same millisecond: record order", []cwlogs.Event{{ID: 0, Time: t0.Add(5 * ms)}, {ID: 3, Time: t0.Add(900 * time.Microsecond)},
			{ID: 1, Time: t0.Add(100 * time.Microsecond)}, {ID: 2, Time: t0.Add(500 * time.Microsecond)}}, []int{1, 2, 3, 0}},
		{"same millisecond, already in record order", []cwlogs.Event{{ID: 4, Time: t0.Add(900 * time.Microsecond)},
			{ID: 5, Time: t0.Add(100 * time.Microsecond)}}, []int{4, 5}},
	} {
		var got []int
		for _, b := range cwlogs.Batches(tc.events) {
			for _, e := range b {
				got = append(got, e.ID)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: IDs in the order %v, want %v", tc.name, got, tc.want)
		}
	}
	// Many events, shuffled, many sharing a millisecond: the order of a
	// plain sort by (millisecond, ID).
	r := rand.New(rand.NewPCG(3, 4))
	var many []cwlogs.Event
	for i := range 3000 {
		many = append(many, cwlogs.Event{ID: i, Time: t0.Add(time.Duration(r.IntN(50_000)) * time.Microsecond), Message: []byte("m")})
	}
	r.Shuffle(len(many), func(i, j int) { many[i], many[j] = many[j], many[i] })
	want := slices.Clone(many)
	slices.SortFunc(want, func(a, b cwlogs.Event) int {
		return cmp.Or(cmp.Compare(a.Time.UnixMilli(), b.Time.UnixMilli()), cmp.Compare(a.ID, b.ID))
	})
	var got []cwlogs.Event
	for _, b := range cwlogs.Batches(many) {
		got = append(got, b...)
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("shuffled: event %d is ID %d, want %d", i, got[i].ID, want[i].ID)
		}
	}
}

func TestClampTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		t       time.Time
		clamped bool
	}{
		{now, false},
		{now.Add(-13 * 24 * time.Hour), false},
		{now.Add(-15 * 24 * time.Hour), true},
		{now.Add(time.Hour), false},
		{now.Add(3 * time.Hour), true},
	} {
		got, c := cwlogs.ClampTime(tt.t, now)
		if c != tt.clamped || (c && !got.Equal(now)) || (!c && !got.Equal(tt.t)) {
			t.Errorf("ClampTime(%v) = %v, %v", tt.t, got, c)
		}
	}
}

// TestBody: the body written by hand is the PutLogEvents request the API
// defines, for any message (quotes, control characters, non-ASCII).
func TestBody(t *testing.T) {
	t0 := time.UnixMilli(1795338000123)
	batch := []cwlogs.Event{
		{Time: t0, Message: []byte(`{"rule":"Shell \"in\" container","output":"a\nb\tc\\d é 😀"}`)},
		{Time: t0.Add(time.Second), Message: []byte("plain \x01 control")},
	}
	var got struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
		LogEvents     []struct {
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		} `json:"logEvents"`
	}
	body := cwlogs.AppendBody(nil, "/falco/alerts", "host-1", batch)
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if got.LogGroupName != "/falco/alerts" || got.LogStreamName != "host-1" || len(got.LogEvents) != 2 {
		t.Fatalf("%+v", got)
	}
	for i, e := range batch {
		if got.LogEvents[i].Timestamp != e.Time.UnixMilli() || got.LogEvents[i].Message != string(e.Message) {
			t.Errorf("event %d: %+v", i, got.LogEvents[i])
		}
	}
}

// TestGroupOptions: a group falcocw creates gets the class, KMS key and
// tags configured, through the SDK to the fake endpoint, which keeps what
// CreateLogGroup set.
func TestGroupOptions(t *testing.T) {
	fakeaws.SetEnv(t)
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	a, err := awsclient.New(context.Background(), awsclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := cwlogs.ParseTags("team=security, env=prod")
	if err != nil {
		t.Fatal(err)
	}
	const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	s := cwlogs.New(cwlogs.NewClient(a, srv.URL), cwlogs.Options{AutoCreateGroup: true, AutoCreateStream: true,
		Group: cwlogs.GroupOptions{Class: "INFREQUENT_ACCESS", KMSKeyID: key, Tags: tags}}, t.Logf)
	target := route.Target{Kind: cwlogs.Kind, Name: "/falco/new", Stream: "node-a"}
	reqs := s.Batches(dest.Flush{Now: time.Now(), Adjusted: func(_ int, format string, args ...any) { t.Logf(format, args...) }}, target, []dest.Item{{ID: 0, Time: time.Now(), Payload: []byte(`{"rule":"r"}`)}})
	if o := s.Send(context.Background(), target, reqs[0]); o.Err != nil || len(o.Accepted) != 1 {
		t.Fatalf("%+v", o)
	}
	got := srv.GroupOptionsOf("/falco/new")
	if got.Class != "INFREQUENT_ACCESS" || got.KMSKeyID != key || len(got.Tags) != 2 || got.Tags["team"] != "security" || got.Tags["env"] != "prod" {
		t.Errorf("group created with %+v", got)
	}
}

func TestGroupOptionErrors(t *testing.T) {
	if c, err := cwlogs.ParseClass("infrequent_access"); err != nil || c != "INFREQUENT_ACCESS" {
		t.Errorf("class %q %v", c, err)
	}
	for _, bad := range []string{"COLD", "DELIVERY "} {
		if _, err := cwlogs.ParseClass(bad); err == nil {
			t.Errorf("class %q accepted", bad)
		}
	}
	for _, bad := range []string{"1234abcd-12ab", "alias/falco", "arn:aws:kms:eu-west-1:123456789012:alias/falco"} {
		if _, err := cwlogs.ParseKMSKey(bad); err == nil {
			t.Errorf("KMS key %q accepted", bad)
		}
	}
	for _, bad := range []string{"team", "=x", "aws:owner=me", "a=1,a=2", "k=" + strings.Repeat("v", 257)} {
		if _, err := cwlogs.ParseTags(bad); err == nil {
			t.Errorf("tags %q accepted", bad)
		}
	}
}

// TestQuotedMessages: a message handed over already as a JSON string
// (Event.Quoted) goes into the body as is, the same body as from the plain
// message, and the batch limits count its plain length, as CloudWatch
// does, not the escaped one.
func TestQuotedMessages(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	msg := []byte(strings.Repeat(`{"k":"v\n"}`, 800)) // 8,800 bytes; escaped, 14,400
	var plain, quoted []cwlogs.Event
	for i := 0; i < 300; i++ {
		plain = append(plain, cwlogs.Event{ID: i, Time: t0, Message: msg})
		quoted = append(quoted, cwlogs.Event{ID: i, Time: t0, Quoted: jsonstr.AppendBytes(nil, msg), QuotedLen: len(msg)})
	}
	if p, q := cwlogs.AppendBody(nil, "g", "s", plain[:3]), cwlogs.AppendBody(nil, "g", "s", quoted[:3]); !bytes.Equal(p, q) {
		t.Fatalf("bodies differ:\nplain  %.300s\nquoted %.300s", p, q)
	}
	pb, qb := cwlogs.Batches(plain), cwlogs.Batches(quoted)
	want := cwlogs.MaxBatchBytes / (len(msg) + cwlogs.EventOverhead)
	if len(pb[0]) != want || len(qb[0]) != want || len(pb) != len(qb) {
		t.Errorf("first batches of %d (plain) and %d (quoted) events, %d and %d batches; want %d events each, counted unescaped",
			len(pb[0]), len(qb[0]), len(pb), len(qb), want)
	}
}

// BenchmarkBatches cuts a flush's worth of events (a 2 MiB chunk of
// alerts, in time order, as Fluent Bit hands them) into batches.
func BenchmarkBatches(b *testing.B) {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	msg := bytes.Repeat([]byte("x"), 900)
	events := make([]cwlogs.Event, 2380)
	for i := range events {
		events[i] = cwlogs.Event{ID: i, Time: t0.Add(time.Duration(i) * 50 * time.Microsecond), Quoted: msg, QuotedLen: 800}
	}
	shuffled := slices.Clone(events)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	// 16 runs in order, one after the other: make bench's workload, whose
	// numbered alerts cycle through the samples' own times.
	runs := slices.Clone(events)
	for i := range runs {
		runs[i].Time = t0.Add(time.Duration(i%150) * 800 * time.Microsecond)
	}
	work := make([]cwlogs.Event, len(events))
	for _, bc := range []struct {
		name   string
		events []cwlogs.Event
	}{{"in-order", events}, {"shuffled", shuffled}, {"runs", runs}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportMetric(0, "ns/op")
			for b.Loop() {
				copy(work, bc.events) // Batches sorts in place
				cwlogs.Batches(work)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
		})
	}
}
