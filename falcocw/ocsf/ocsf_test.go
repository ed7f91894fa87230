package ocsf_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/ocsf"
	"github.com/falcocw/falcocw/internal/ocsfcheck"
	"github.com/falcocw/falcocw/internal/samples"
	"github.com/falcocw/falcocw/internal/sampletest"
)

// sampleAlerts are the bundled samples, bare (the host only), beside ECS
// FireLens metadata and as the Kubernetes filter wraps them.
func sampleAlerts(t *testing.T) []*falco.Alert {
	var out []*falco.Alert
	extras := []map[string]any{nil,
		{"ecs_task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/7d26", "ecs_task_definition": "falco:3", "ec2_instance_id": "i-0abc", "ecs_cluster": "prod"},
	}
	for _, extra := range extras {
		out = append(out, sampletest.Alerts(t, extra)...)
	}
	for _, r := range samples.Records() {
		if a, ok := falco.Recognise(r.Body, "log", time.Now()); ok {
			out = append(out, a)
		}
	}
	return out
}

// TestEveryFindingValid: the finding of every sample alert, written as
// JSON, is a valid OCSF 1.1.0 Detection Finding by the schema's release
// source: every required attribute, no attribute the class or its objects
// lack, types, enums, captions, constraints, the class's numbers.
func TestEveryFindingValid(t *testing.T) {
	s, err := ocsfcheck.Load()
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != ocsf.Version {
		t.Fatalf("the schema is %s, the findings say %s", s.Version, ocsf.Version)
	}
	alerts := sampleAlerts(t)
	withDevice, withContainer, withAttacks, withPod, withTask := 0, 0, 0, 0, 0
	for _, a := range alerts {
		f := ocsf.NewFinding(a, a.AppendJSON(nil), ocsf.Context{Region: "eu-west-1", AccountID: "123456789012"})
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		if p := s.Check("detection_finding", rec); len(p) > 0 {
			t.Errorf("alert %s: %d problems:\n  %s\n%s", a, len(p), strings.Join(p, "\n  "), b)
		}
		if f.Device != nil {
			withDevice++
			if f.Device.Container != nil {
				withContainer++
			}
		}
		if len(f.FindingInfo.Attacks) > 0 {
			withAttacks++
		}
		for _, r := range f.Resources {
			switch r.Type {
			case "Kubernetes Pod":
				withPod++
			case "AwsEcsTask":
				withTask++
			}
		}
	}
	t.Logf("%d findings: %d with a device, %d with a container, %d with attacks, %d with a pod, %d with an ECS task",
		len(alerts), withDevice, withContainer, withAttacks, withPod, withTask)
	if withDevice == 0 || withContainer == 0 || withAttacks == 0 || withPod == 0 || withTask == 0 {
		t.Error("the samples should exercise every part of the mapping")
	}
}

// TestCheckerFindsProblems: the checker is not a rubber stamp: each of
// these breaks the schema and is caught.
func TestCheckerFindsProblems(t *testing.T) {
	s, err := ocsfcheck.Load()
	if err != nil {
		t.Fatal(err)
	}
	a := sampleAlerts(t)[0]
	base := func() map[string]any {
		b, _ := json.Marshal(ocsf.NewFinding(a, nil, ocsf.Context{Region: "eu-west-1"}))
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	if p := s.Check("detection_finding", base()); len(p) > 0 {
		t.Fatalf("the base record is not valid: %v", p)
	}
	for _, tt := range []struct {
		name, want string
		change     func(m map[string]any)
	}{
		{"no finding_info", "finding_info: required", func(m map[string]any) { delete(m, "finding_info") }},
		{"no title", "finding_info.title: required", func(m map[string]any) { delete(m["finding_info"].(map[string]any), "title") }},
		{"unknown attribute", "falco_rule: detection_finding has no such attribute", func(m map[string]any) { m["falco_rule"] = "x" }},
		{"severity out of enum", "severity_id: 7 is not one of", func(m map[string]any) { m["severity_id"] = 7.0 }},
		{"caption", "severity: is \"High\"", func(m map[string]any) { m["severity"] = "High" }},
		{"class uid", "class_uid: is 2001", func(m map[string]any) { m["class_uid"] = 2001.0 }},
		{"type uid", "type_uid: is", func(m map[string]any) { m["type_uid"] = 200402.0 }},
		{"string for int", "time: want an integer", func(m map[string]any) { m["time"] = "2026-01-01" }},
		{"profile not named", `device.container: belongs to profile "container"`, func(m map[string]any) {
			m["device"] = map[string]any{"hostname": "h", "type_id": 1.0, "container": map[string]any{"name": "c"}}
			m["metadata"].(map[string]any)["profiles"] = []any{"cloud", "host"}
		}},
		{"no cloud", "cloud: required", func(m map[string]any) { delete(m, "cloud") }},
		{"attack without anything", "wants at least one of", func(m map[string]any) {
			m["finding_info"].(map[string]any)["attacks"] = []any{map[string]any{}}
		}},
		{"bad hostname", "does not match hostname_t", func(m map[string]any) {
			m["device"] = map[string]any{"hostname": "bad host!", "type_id": 1.0}
		}},
	} {
		m := base()
		tt.change(m)
		p := strings.Join(s.Check("detection_finding", m), "\n")
		if !strings.Contains(p, tt.want) {
			t.Errorf("%s: want a problem containing %q, got:\n%s", tt.name, tt.want, p)
		}
	}
}

func TestAttacks(t *testing.T) {
	tac := func(uid, name string) *ocsf.Entity { return &ocsf.Entity{UID: uid, Name: name} }
	for _, tt := range []struct {
		tags []string
		want []ocsf.Attack
	}{
		{[]string{"container", "shell"}, nil},
		{[]string{"maturity_stable", "container", "mitre_execution", "T1059"},
			[]ocsf.Attack{{Tactic: tac("TA0002", "Execution"), Technique: &ocsf.Entity{UID: "T1059"}}}},
		{[]string{"mitre_persistence", "T1546.004"},
			[]ocsf.Attack{{Tactic: tac("TA0003", "Persistence"), Technique: &ocsf.Entity{UID: "T1546"}, SubTechnique: &ocsf.Entity{UID: "T1546.004"}}}},
		{[]string{"TA0011", "mitre_exfiltration"},
			[]ocsf.Attack{{Tactic: tac("TA0011", "Command and Control")}, {Tactic: tac("TA0010", "Exfiltration")}}},
		{[]string{"mitre_privilege_escalation", "mitre_defense_evasion", "T1611", "T1548.001"},
			[]ocsf.Attack{{Tactic: tac("TA0004", "Privilege Escalation"), Technique: &ocsf.Entity{UID: "T1611"}},
				{Tactic: tac("TA0004", "Privilege Escalation"), Technique: &ocsf.Entity{UID: "T1548"}, SubTechnique: &ocsf.Entity{UID: "T1548.001"}},
				{Tactic: tac("TA0005", "Defense Evasion")}}},
		{[]string{"T10", "T1059.4", "PCI_DSS_6.4.2", "TA9999"}, nil},
	} {
		if got := ocsf.Attacks(tt.tags); !reflect.DeepEqual(got, tt.want) {
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tt.want)
			t.Errorf("%v:\n got %s\nwant %s", tt.tags, gb, wb)
		}
	}
}

func TestSeverity(t *testing.T) {
	want := map[falco.Priority]int32{falco.PriorityEmergency: 5, falco.PriorityAlert: 5, falco.PriorityCritical: 5,
		falco.PriorityError: 4, falco.PriorityWarning: 3, falco.PriorityNotice: 2, falco.PriorityInformational: 1, falco.PriorityDebug: 1}
	for p, id := range want {
		if got := ocsf.SeverityID(p); got != id {
			t.Errorf("%s: %d, want %d", p, got, id)
		}
	}
}
