package securitylake_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/ocsf"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/falcocw/securitylake"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/ocsfcheck"
	"github.com/falcocw/falcocw/internal/parquetread"
	"github.com/falcocw/falcocw/internal/sampletest"
)

const (
	bucket   = "aws-security-data-lake-eu-west-1-abc"
	location = bucket + "/ext/falco/1.0"
)

// keyPattern is Security Lake's layout for a custom source's objects.
var keyPattern = regexp.MustCompile(`^ext/falco/1\.0/region=eu-west-1/accountId=123456789012/eventDay=(\d{8})/seg-\d{19}-[0-9a-f]{12}\.parquet$`)

// items are the bundled sample alerts, some moved a day back so that a
// segment spans two days.
func items(t *testing.T) []dest.Item {
	var out []dest.Item
	for i, a := range sampletest.Alerts(t, map[string]any{"ecs_task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/7d26"}) {
		if i%5 == 0 {
			a.Time = a.Time.Add(-24 * time.Hour)
		}
		out = append(out, dest.Item{ID: i, Time: a.Time, Payload: a.AppendJSON(nil), Alert: a})
	}
	return out
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) add(level string) func(string, ...any) {
	return func(format string, args ...any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, level+" "+fmt.Sprintf(format, args...))
	}
}

func (l *logs) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newSink(t *testing.T, srv *fakeaws.Server, o securitylake.Options, l *logs) *securitylake.Sink {
	t.Helper()
	fakeaws.SetEnv(t)
	a, err := awsclient.New(context.Background(), awsclient.Options{STSEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	return securitylake.New(dest.Env{AWS: a, Endpoint: srv.URL, Warn: l.add("warn"), Error: l.add("error")}, o)
}

func send(t *testing.T, s *securitylake.Sink, its []dest.Item) dest.Outcome {
	t.Helper()
	target := route.Target{Kind: securitylake.Kind, Name: location}
	var all dest.Outcome
	for _, r := range s.Batches(dest.Flush{Now: time.Now()}, target, its) {
		o := s.Send(context.Background(), target, r)
		all.Accepted = append(all.Accepted, o.Accepted...)
		all.Failed = append(all.Failed, o.Failed...)
		if o.Err != nil {
			all.Err = o.Err
		}
	}
	return all
}

// waitRows waits until the bucket holds n rows in all, reading each
// object with hyparquet, and returns the rows by object key.
func waitRows(t *testing.T, srv *fakeaws.Server, n int) map[string][]map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		objs := srv.Objects(bucket)
		keys := srv.ObjectKeys(bucket)
		total := 0
		if len(keys) > 0 {
			var bodies [][]byte
			for _, k := range keys {
				bodies = append(bodies, objs[k])
			}
			files := parquetread.Read(t, bodies...)
			out := map[string][]map[string]any{}
			for i, f := range files {
				out[keys[i]] = f.Rows
				total += len(f.Rows)
				if f.NumRows != len(f.Rows) {
					t.Errorf("%s: metadata says %d rows, read %d", keys[i], f.NumRows, len(f.Rows))
				}
				if !reflect.DeepEqual(f.Codecs, []string{"SNAPPY"}) {
					t.Errorf("%s: codecs %v, want SNAPPY", keys[i], f.Codecs)
				}
				if bad := parquetread.RepeatedOutsideList(f.Schema); len(bad) > 0 {
					t.Errorf("%s: repeated fields outside a LIST or MAP: %v", keys[i], bad)
				}
			}
			if total >= n {
				return out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bucket holds %d rows in %d objects, want %d", total, len(keys), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestObjectsAsSecurityLakeReadsThem: findings kept by the sink land as
// Parquet objects in Security Lake's layout, one per day of events, that
// hyparquet reads; every row is a valid OCSF 1.1.0 Detection Finding, the
// finding of its alert, each alert once, sorted by time within its object.
func TestObjectsAsSecurityLakeReadsThem(t *testing.T) {
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	var l logs
	s := newSink(t, srv, securitylake.Options{}, &l)
	if err := s.Keep(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	its := items(t)
	if o := send(t, s, its); o.Err != nil || len(o.Accepted) != len(its) {
		t.Fatalf("send: %d accepted of %d, %v", len(o.Accepted), len(its), o.Err)
	}
	byKey := waitRows(t, srv, len(its))
	schema, err := ocsfcheck.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ocsf.Finding{}
	for _, it := range its {
		f := ocsf.NewFinding(it.Alert, it.Payload, ocsf.Context{Region: "eu-west-1", AccountID: "123456789012"})
		want[f.FindingInfo.UID] = f
	}
	seen := map[string]string{}
	days := map[string]bool{}
	for key, rows := range byKey {
		m := keyPattern.FindStringSubmatch(key)
		if m == nil {
			t.Errorf("object key %q is not in Security Lake's layout", key)
			continue
		}
		days[m[1]] = true
		var last float64
		for _, r := range rows {
			parquetread.Compact(r)
			if p := schema.Check("detection_finding", r); len(p) > 0 {
				t.Errorf("%s: a row is not a valid Detection Finding:\n  %s", key, strings.Join(p, "\n  "))
			}
			tm := r["time"].(float64)
			if day := time.UnixMilli(int64(tm)).UTC().Format("20060102"); day != m[1] {
				t.Errorf("%s: a row of day %s", key, day)
			}
			if tm < last {
				t.Errorf("%s: rows not sorted by time", key)
			}
			last = tm
			uid := r["finding_info"].(map[string]any)["uid"].(string)
			if k, dup := seen[uid]; dup {
				t.Errorf("finding %s in %s and %s", uid, k, key)
			}
			seen[uid] = key
			wb, _ := json.Marshal(want[uid])
			var w map[string]any
			_ = json.Unmarshal(wb, &w)
			if !reflect.DeepEqual(r, w) {
				gb, _ := json.Marshal(r)
				t.Errorf("row %s differs from its alert's finding:\n got %s\nwant %s", uid, gb, wb)
			}
		}
	}
	if len(seen) != len(want) || len(days) != 2 {
		t.Errorf("%d findings in %d days, want %d in 2", len(seen), len(days), len(want))
	}
	t.Logf("%d findings in %d objects, days %v; log:\n%s", len(seen), len(byKey), days, l.text())
}

// TestSpoolSurvivesCrash: findings kept on disk by an instance that dies
// before writing its objects (its bucket refused them) are written by the
// next, once each; a record cut short by the crash is dropped, the ones
// before it kept; a flush sent again (its delivery not yet journaled) is
// kept once.
func TestSpoolSurvivesCrash(t *testing.T) {
	down := fakeaws.NewVerifying()
	defer down.Close()
	down.SetFaults(fakeaws.Faults{Down: true})
	dir := t.TempDir()
	var l1 logs
	first := newSink(t, down, securitylake.Options{}, &l1)
	if err := first.Keep(dir); err != nil {
		t.Fatal(err)
	}
	its := items(t)
	if o := send(t, first, its[:100]); o.Err != nil || len(o.Accepted) != 100 {
		t.Fatalf("send: %v", o.Err)
	}
	if o := send(t, first, its[50:]); o.Err != nil || len(o.Accepted) != len(its)-50 {
		t.Fatalf("send again: %v", o.Err)
	}
	// The crash: the first instance is never stopped; a half-written
	// record ends its segment.
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*.spool"))
	if len(segs) != 1 {
		t.Fatalf("%d segments, want 1", len(segs))
	}
	f, err := os.OpenFile(segs[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, '{', '"'})
	f.Close()

	up := fakeaws.NewVerifying()
	defer up.Close()
	var l2 logs
	second := newSink(t, up, securitylake.Options{FlushInterval: 100 * time.Millisecond}, &l2)
	if err := second.Keep(dir); err != nil {
		t.Fatal(err)
	}
	waitRows(t, up, len(its))
	// Fluent Bit replays the chunk whose delivery the crash kept from
	// the journal: those findings are in objects already.
	if o := send(t, second, its[:30]); o.Err != nil || len(o.Accepted) != 30 {
		t.Fatalf("replay: %v", o.Err)
	}
	time.Sleep(300 * time.Millisecond)
	rows := waitRows(t, up, len(its))
	n := 0
	uids := map[string]bool{}
	for _, rs := range rows {
		for _, r := range rs {
			uids[r["finding_info"].(map[string]any)["uid"].(string)] = true
			n++
		}
	}
	if n != len(its) || len(uids) != len(its) {
		t.Errorf("%d rows, %d findings, want %d once each", n, len(uids), len(its))
	}
	if !strings.Contains(l2.text(), fmt.Sprintf("%d findings of the run before", len(its))) {
		t.Errorf("the restart should say what it found:\n%s", l2.text())
	}
	second.Stop(context.Background())
	if left, _ := filepath.Glob(filepath.Join(dir, "seg-*")); len(left) != 0 {
		t.Errorf("segments left after their objects were written: %v", left)
	}
}

// TestBucketDownFillsSpool: while the bucket refuses, findings wait and
// Send still accepts them, up to the spool's limit, then fails (Fluent
// Bit retries the chunk); once the bucket answers, everything lands, once.
func TestBucketDownFillsSpool(t *testing.T) {
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	srv.SetFaults(fakeaws.Faults{Down: true})
	var l logs
	s := newSink(t, srv, securitylake.Options{SpoolLimit: 200 << 10, FlushInterval: 100 * time.Millisecond}, &l)
	defer s.Stop(context.Background())
	if err := s.Keep(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	its := items(t)
	var refused []dest.Item
	accepted := 0
	for i := 0; i < len(its); i += 10 {
		part := its[i:min(i+10, len(its))]
		o := send(t, s, part)
		accepted += len(o.Accepted)
		if o.Err != nil {
			if !strings.Contains(o.Err.Error(), "spool is full") {
				t.Fatalf("refused with %v", o.Err)
			}
			refused = append(refused, part...)
		}
	}
	if len(refused) == 0 || accepted == 0 {
		t.Fatalf("accepted %d, refused %d: want the spool to fill", accepted, len(refused))
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && !strings.Contains(l.text(), "trying again"); {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(l.text(), "findings wait in the spool, trying again") {
		t.Errorf("the failing bucket is not logged:\n%s", l.text())
	}
	srv.SetFaults(fakeaws.Faults{})
	waitRows(t, srv, accepted)
	if o := send(t, s, refused); o.Err != nil {
		t.Fatalf("sending again: %v", o.Err)
	}
	rows := waitRows(t, srv, len(its))
	n := 0
	for _, rs := range rows {
		n += len(rs)
	}
	if n != len(its) {
		t.Errorf("%d rows, want %d", n, len(its))
	}
	if !strings.Contains(l.text(), "objects are written again") {
		t.Errorf("the recovery is not logged:\n%s", l.text())
	}
}

// TestMemorySpoolAtStop: without a directory, findings wait in memory: the
// log says so, a stop writes them; a stop that cannot says how many are
// lost.
func TestMemorySpoolAtStop(t *testing.T) {
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	var l logs
	s := newSink(t, srv, securitylake.Options{FlushInterval: time.Hour}, &l)
	its := items(t)
	if o := send(t, s, its); o.Err != nil {
		t.Fatal(o.Err)
	}
	if !strings.Contains(l.text(), "a crash loses them. Set journal_path") {
		t.Errorf("memory spool not announced:\n%s", l.text())
	}
	s.Stop(context.Background())
	if keys := srv.ObjectKeys(bucket); len(keys) != 2 {
		t.Errorf("objects after a stop: %v, want 2 (two days)", keys)
	}

	down := fakeaws.NewVerifying()
	defer down.Close()
	down.SetFaults(fakeaws.Faults{Down: true})
	var l2 logs
	s2 := newSink(t, down, securitylake.Options{FlushInterval: time.Hour}, &l2)
	if o := send(t, s2, its[:7]); o.Err != nil {
		t.Fatal(o.Err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s2.Stop(ctx)
	if !strings.Contains(l2.text(), "error Security Lake: 7 findings are lost") {
		t.Errorf("the loss is not said:\n%s", l2.text())
	}
}

// TestObjectsBounded: a segment is cut at MaxRows findings (and MaxBytes),
// so no object holds more.
func TestObjectsBounded(t *testing.T) {
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	var l logs
	s := newSink(t, srv, securitylake.Options{MaxRows: 40, FlushInterval: time.Hour}, &l)
	its := items(t)
	for i := range its {
		its[i].Alert.Time = time.Now().Add(-time.Minute)
	}
	if o := send(t, s, its); o.Err != nil {
		t.Fatal(o.Err)
	}
	rows := waitRows(t, srv, len(its)/40*40)
	for k, rs := range rows {
		if len(rs) != 40 {
			t.Errorf("%s: %d rows, want 40", k, len(rs))
		}
	}
	s.Stop(context.Background())
	keys := srv.ObjectKeys(bucket)
	sort.Strings(keys)
	if want := (len(its) + 39) / 40; len(keys) != want {
		t.Errorf("%d objects, want %d", len(keys), want)
	}
}

// TestProviderRole: with securitylake_role_arn, the objects are written
// with the provider role's credentials (AssumeRole with the external ID),
// while the account of the keys is the instance's own (STS with its own
// credentials).
func TestProviderRole(t *testing.T) {
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	var l logs
	const role = "arn:aws:iam::111122223333:role/AmazonSecurityLake-Provider-falco-eu-west-1"
	s := newSink(t, srv, securitylake.Options{RoleARN: role, ExternalID: "falco-prod"}, &l)
	defer s.Stop(context.Background())
	its := items(t)[:20]
	if o := send(t, s, its); o.Err != nil {
		t.Fatal(o.Err)
	}
	rows := waitRows(t, srv, len(its))
	for k := range rows {
		if !keyPattern.MatchString(k) {
			t.Errorf("key %s: the account should be the instance's (123456789012), not the role's", k)
		}
	}
	if a := srv.Assumed(); len(a) == 0 || a[0].RoleARN != role || a[0].ExternalID != "falco-prod" {
		t.Errorf("AssumeRole calls: %+v", a)
	}
	for _, k := range srv.SignedBy("PutObject") {
		if k != fakeaws.AssumedAccessKey {
			t.Errorf("PutObject signed by %s, want the provider role's %s", k, fakeaws.AssumedAccessKey)
		}
	}
	if by := srv.SignedBy("GetCallerIdentity"); len(by) == 0 || by[0] != fakeaws.AccessKey {
		t.Errorf("GetCallerIdentity signed by %v, want the instance's own credentials", by)
	}
	if srv.Verified() == 0 {
		t.Error("no signature was checked")
	}
}
