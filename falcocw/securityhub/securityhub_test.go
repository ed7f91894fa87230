package securityhub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/falcocw/securityhub"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/sampletest"
)

func newSink(t *testing.T, srv *fakeaws.Server, o securityhub.Options) *securityhub.Sink {
	t.Helper()
	fakeaws.SetEnv(t)
	a, err := awsclient.New(context.Background(), awsclient.Options{STSEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	o.Region = a.Region
	return securityhub.New(securityhub.NewClient(a, srv.URL), a.STS(), o)
}

func send(t *testing.T, s *securityhub.Sink, items []dest.Item) dest.Outcome {
	t.Helper()
	target := route.Target{Kind: securityhub.Kind}
	reqs := s.Batches(dest.Flush{Now: time.Now(), Adjusted: func(_ int, format string, args ...any) { t.Logf(format, args...) }}, target, items)
	var all dest.Outcome
	ctx := awsclient.WithStartBy(context.Background(), time.Now().Add(30*time.Second))
	for _, r := range reqs {
		o := s.Send(ctx, target, r)
		all.Accepted = append(all.Accepted, o.Accepted...)
		all.Rejected = append(all.Rejected, o.Rejected...)
		all.Failed = append(all.Failed, o.Failed...)
		if o.Err != nil {
			all.Err = o.Err
		}
	}
	return all
}

func alerts(t *testing.T, extra map[string]any) []dest.Item {
	var items []dest.Item
	for i, a := range sampletest.Alerts(t, extra) {
		items = append(items, dest.Item{ID: i, Time: a.Time, Payload: a.AppendJSON(nil), Alert: a})
	}
	return items
}

// TestMapping: every sample alert becomes a finding the fake's ASFF check
// accepts (required attributes, forms, lengths), with the mapping the
// README documents: Id the alert's id, the account's default product
// (account from STS), GeneratorId falco/RULE, Title the rule, Description
// the output, severity from the priority, resources from what the record
// knows.
func TestMapping(t *testing.T) {
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	s := newSink(t, srv, securityhub.Options{})
	items := alerts(t, map[string]any{"ecs_task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/7d26", "ec2_instance_id": "i-0abc", "ecs_cluster": "prod"})
	if o := send(t, s, items); o.Err != nil || len(o.Accepted) != len(items) {
		t.Fatalf("%d of %d accepted: %+v", len(o.Accepted), len(items), o)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Fatalf("ASFF or limits broken: %v", v[:min(5, len(v))])
	}
	if srv.Calls()["GetCallerIdentity"] != 1 {
		t.Errorf("GetCallerIdentity called %d times, want once", srv.Calls()["GetCallerIdentity"])
	}
	found := srv.Findings()
	wantLabel := map[falco.Priority]string{falco.PriorityEmergency: "CRITICAL", falco.PriorityAlert: "CRITICAL", falco.PriorityCritical: "CRITICAL",
		falco.PriorityError: "HIGH", falco.PriorityWarning: "MEDIUM", falco.PriorityNotice: "LOW", falco.PriorityInformational: "INFORMATIONAL", falco.PriorityDebug: "INFORMATIONAL"}
	for _, it := range items {
		a := it.Alert
		st, ok := found[a.ID()]
		if !ok {
			t.Fatalf("no finding with Id %s (%s)", a.ID(), a)
		}
		f := st.Finding
		sev := f["Severity"].(map[string]any)
		desc := a.Output
		if len(desc) > 1024 {
			desc = desc[:1000]
		}
		if f["ProductArn"] != "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default" || f["AwsAccountId"] != fakeaws.Account ||
			f["GeneratorId"] != "falco/"+a.Rule || f["Title"] != a.Rule || !strings.HasPrefix(f["Description"].(string), desc[:min(len(desc), 900)]) ||
			sev["Label"] != wantLabel[a.Priority] || sev["Original"] != a.Priority.String() {
			t.Errorf("%s: finding %v", a, f)
		}
		pf := f["ProductFields"].(map[string]any)
		if pf["falco/priority"] != a.Priority.String() || pf["falco/id"] != a.ID() || (a.Source != "" && pf["falco/source"] != a.Source) {
			t.Errorf("%s: ProductFields %v", a, pf)
		}
		var types []string
		for _, x := range f["Types"].([]any) {
			types = append(types, x.(string))
		}
		hasMitreExec := false
		for _, tag := range a.Tags {
			hasMitreExec = hasMitreExec || tag == "mitre_execution"
		}
		if hasMitreExec && !strings.Contains(strings.Join(types, ","), "TTPs/Execution") {
			t.Errorf("%s (tags %v): Types %v lack TTPs/Execution", a, a.Tags, types)
		}
		kinds := map[string]string{}
		for _, r := range f["Resources"].([]any) {
			rm := r.(map[string]any)
			kinds[rm["Type"].(string)] = rm["Id"].(string)
		}
		if kinds["AwsEcsTask"] != "arn:aws:ecs:eu-west-1:123456789012:task/prod/7d26" || kinds["AwsEc2Instance"] != "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc" {
			t.Errorf("%s: resources %v", a, kinds)
		}
		if w := a.Workload(); w.Pod != "" && !strings.Contains(kinds["Other"], "/pod/"+w.Pod) {
			t.Errorf("%s: pod %s not among resources %v", a, w.Pod, kinds)
		}
		if fields := a.FieldStrings(); len(fields) > 0 && len(fields) <= 50 {
			udf, _ := f["UserDefinedFields"].(map[string]any)
			for _, kv := range fields {
				if kv[1] != "" && len(kv[1]) <= 1024 && udf[kv[0]] != kv[1] {
					t.Errorf("%s: UserDefinedFields[%s] = %v, want %q", a, kv[0], udf[kv[0]], kv[1])
				}
			}
		}
	}
}

// TestResendUpdates: sending the same alerts again (a retried chunk)
// updates the same findings: as many findings as alerts, each imported
// twice.
func TestResendUpdates(t *testing.T) {
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	s := newSink(t, srv, securityhub.Options{AccountID: fakeaws.Account})
	items := alerts(t, nil)
	send(t, s, items)
	send(t, s, alerts(t, nil))
	found := srv.Findings()
	if len(found) != len(items) {
		t.Errorf("%d findings for %d alerts sent twice", len(found), len(items))
	}
	for id, f := range found {
		if f.Imports != 2 {
			t.Errorf("finding %s imported %d times, want 2", id, f.Imports)
		}
	}
	if srv.Calls()["GetCallerIdentity"] != 0 {
		t.Error("GetCallerIdentity called though securityhub_account_id is set")
	}
}

// TestPacedUnderFaults: 3,000 findings (30 calls, and the resends) are imported paced
// under 10 calls a second with bursts of 30 (the fake counts a violation
// for any call over the rate), with 10 % of findings failed one by one and
// 10 % of calls throttled: every finding arrives, none is lost.
func TestPacedUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 7 s")
	}
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	srv.SetFaults(fakeaws.Faults{Seed: 9, RecordFailure: 0.1, Throttle: 0.1})
	s := newSink(t, srv, securityhub.Options{AccountID: fakeaws.Account, Region: "eu-west-1"})
	var items []dest.Item
	for i := 0; i < 3000; i++ {
		a := &falco.Alert{Time: time.Unix(1795338994, int64(i)), Rule: "R", Priority: falco.PriorityCritical, Hostname: "h", Output: fmt.Sprintf("alert %d", i)}
		items = append(items, dest.Item{ID: i, Time: a.Time, Alert: a})
	}
	start := time.Now()
	o := send(t, s, items)
	if o.Err != nil || len(o.Accepted) != len(items) {
		t.Fatalf("%d of %d accepted: %v", len(o.Accepted), len(items), o.Err)
	}
	if n := len(srv.Findings()); n != len(items) {
		t.Errorf("%d findings, want %d", n, len(items))
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("limits or rate broken: %v", v)
	}
	t.Logf("%d findings in %v, faults %+v", len(items), time.Since(start), srv.Injected())
}

// TestTruncation: an alert with more output fields than ASFF allows keeps
// its rule and priority, keeps 50 fields, and says so.
func TestTruncation(t *testing.T) {
	fields := map[string]any{}
	for i := 0; i < 80; i++ {
		fields[fmt.Sprintf("f.%02d", i)] = strings.Repeat("v", 2000)
	}
	a := &falco.Alert{Time: time.Now(), Rule: "Big", Priority: falco.PriorityError, Hostname: "h", Output: strings.Repeat("o", 5000), OutputFields: fields}
	f, cut := securityhub.NewFinding(1, a, securityhub.Context{Region: "eu-west-1", Partition: "aws", Severity: securityhub.DefaultSeverity()})
	if cut != 80 || f.Size() > securityhub.MaxFindingBytes {
		t.Errorf("cut %d fields (want 80: 30 left out, 50 shortened), size %d", cut, f.Size())
	}
	srv := fakeaws.NewVerifying()
	defer srv.Close()
	s := newSink(t, srv, securityhub.Options{AccountID: fakeaws.Account})
	if o := send(t, s, []dest.Item{{ID: 1, Time: a.Time, Alert: a}}); len(o.Accepted) != 1 {
		t.Fatalf("%+v %v", o, srv.Violations())
	}
	st := srv.Findings()[a.ID()].Finding
	if st["Title"] != "Big" || st["Severity"].(map[string]any)["Label"] != "HIGH" || len(st["UserDefinedFields"].(map[string]any)) != 50 ||
		!strings.Contains(st["ProductFields"].(map[string]any)["falcocw/truncated"].(string), "80 of 80") {
		t.Errorf("finding %v", st)
	}
}

func TestParseSeverity(t *testing.T) {
	m, err := securityhub.ParseSeverity("Warning=HIGH, notice=medium")
	if err != nil || m[falco.PriorityWarning] != "HIGH" || m[falco.PriorityNotice] != "MEDIUM" || m[falco.PriorityCritical] != "CRITICAL" {
		t.Errorf("%v %v", m, err)
	}
	for _, bad := range []string{"Warning", "Warning=SEVERE", "Loud=HIGH"} {
		if _, err := securityhub.ParseSeverity(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
