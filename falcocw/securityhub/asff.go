package securityhub

import (
	"fmt"
	"strings"
	"time"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
)

// ASFF's limits on the fields falcocw fills, from the AWS Security
// Finding Format reference.
const (
	SchemaVersion   = "2018-10-08"
	maxTitle        = 256
	maxDescription  = 1024
	maxGeneratorID  = 512
	maxMapEntries   = 50 // ProductFields, UserDefinedFields, Details.Other
	maxKey          = 128
	maxUserValue    = 1024
	maxProductValue = 2048
	maxResourceID   = 512
)

// Labels are ASFF's severity labels, lowest first.
var Labels = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// SeverityMap gives each Falco priority (by its value) its ASFF label.
type SeverityMap [8]string

// DefaultSeverity is Falco's priorities mapped to ASFF's labels:
// Emergency, Alert, Critical: CRITICAL; Error: HIGH; Warning: MEDIUM;
// Notice: LOW; Informational, Debug: INFORMATIONAL.
func DefaultSeverity() *SeverityMap {
	return &SeverityMap{
		falco.PriorityDebug: "INFORMATIONAL", falco.PriorityInformational: "INFORMATIONAL",
		falco.PriorityNotice: "LOW", falco.PriorityWarning: "MEDIUM", falco.PriorityError: "HIGH",
		falco.PriorityCritical: "CRITICAL", falco.PriorityAlert: "CRITICAL", falco.PriorityEmergency: "CRITICAL",
	}
}

// ParseSeverity reads securityhub_severity: PRIORITY=LABEL pairs,
// comma-separated, overriding the defaults (Warning=HIGH,Notice=MEDIUM).
func ParseSeverity(s string) (*SeverityMap, error) {
	m := DefaultSeverity()
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		p, okp := falco.ParsePriority(strings.TrimSpace(k))
		label := strings.ToUpper(strings.TrimSpace(v))
		valid := false
		for _, l := range Labels {
			valid = valid || l == label
		}
		if !ok || !okp || !valid {
			return nil, fmt.Errorf("%q: want PRIORITY=LABEL, PRIORITY one of %s, LABEL one of %s", pair, falco.PriorityNames(), strings.Join(Labels, ", "))
		}
		m[p] = label
	}
	return m, nil
}

// mitreTypes maps Falco's MITRE ATT&CK tactic tags to ASFF finding types.
var mitreTypes = map[string]string{
	"mitre_initial_access":       "TTPs/Initial Access",
	"mitre_execution":            "TTPs/Execution",
	"mitre_persistence":          "TTPs/Persistence",
	"mitre_privilege_escalation": "TTPs/Privilege Escalation",
	"mitre_defense_evasion":      "TTPs/Defense Evasion",
	"mitre_credential_access":    "TTPs/Credential Access",
	"mitre_discovery":            "TTPs/Discovery",
	"mitre_lateral_movement":     "TTPs/Lateral Movement",
	"mitre_collection":           "TTPs/Collection",
	"mitre_command_and_control":  "TTPs/Command and Control",
	"mitre_exfiltration":         "Effects/Data Exfiltration",
	"mitre_impact":               "Effects/Data Destruction",
}

// Types are the finding's ASFF types: one per MITRE tactic tag of the
// rule, else an unusual behaviour of a process (syscall source) or an
// application (the plugins' sources: k8s_audit, aws_cloudtrail, ...).
func Types(a *falco.Alert) []string {
	var out []string
	for _, t := range a.Tags {
		if ty, ok := mitreTypes[strings.ToLower(t)]; ok && !contains(out, ty) {
			out = append(out, ty)
		}
	}
	if len(out) == 0 {
		if a.Source == "" || a.Source == "syscall" {
			out = append(out, "Unusual Behaviors/Process")
		} else {
			out = append(out, "Unusual Behaviors/Application")
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// writer writes a finding's JSON, leaving holes for the account ID.
type writer struct {
	parts [][]byte
	b     []byte
	comma bool
}

func (w *writer) account() {
	w.parts = append(w.parts, w.b)
	w.b = nil
}

func (w *writer) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, `":`...)
}

func (w *writer) str(k, v string) {
	w.key(k)
	w.b = falco.AppendString(w.b, v)
}

func (w *writer) open(k string, c byte) {
	if k != "" {
		w.key(k)
	} else if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, c)
	w.comma = false
}

func (w *writer) close(c byte) {
	w.b = append(w.b, c)
	w.comma = true
}

// strMap writes a map of strings, at most maxMapEntries, keys and values
// cut to their limits, empty values left out; it returns how many pairs
// it left out for the limit.
func (w *writer) strMap(k string, pairs [][2]string, maxValue int) (dropped int) {
	w.open(k, '{')
	n := 0
	for _, kv := range pairs {
		if kv[1] == "" {
			continue
		}
		if n == maxMapEntries {
			dropped++
			continue
		}
		w.str(jsonstr.Truncate(kv[0], maxKey), jsonstr.Truncate(kv[1], maxValue))
		n++
	}
	w.close('}')
	return dropped
}

// asffTime is ASFF's timestamp form (RFC 3339, milliseconds, UTC).
func asffTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Context is what a finding needs beyond the alert: where it is imported.
type Context struct {
	Region, Partition string
	Severity          *SeverityMap
}

// Partition is the AWS partition of a region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	}
	return "aws"
}

// NewFinding writes the ASFF finding of an alert. Required attributes:
// SchemaVersion, Id (the alert's stable id), ProductArn (the account's
// default product), GeneratorId (the rule), AwsAccountId, Types,
// CreatedAt and UpdatedAt (the alert's time, so a finding sent again is
// the same update), Severity (from the priority), Title (the rule),
// Description (the output), Resources (what the event knows: the ECS task
// or the host, the container and the Kubernetes pod). Useful ones:
// ProductFields (priority, source, tags, hostname, id), UserDefinedFields
// (output_fields), Process. truncated reports output fields left out to
// keep within ASFF's limits (50 fields, 1024 characters each) or the
// finding's 240 KB.
func NewFinding(id int, a *falco.Alert, c Context) (f Finding, truncated int) {
	fid := a.ID()
	for limit := maxMapEntries; ; limit /= 2 {
		f, truncated = write(id, fid, a, c, limit)
		if f.Size() <= MaxFindingBytes || limit == 0 {
			return f, truncated
		}
	}
}

func write(id int, fid string, a *falco.Alert, c Context, maxFields int) (Finding, int) {
	w := &writer{b: make([]byte, 0, 2048)}
	w.open("", '{')
	w.str("SchemaVersion", SchemaVersion)
	w.str("Id", fid)
	w.key("ProductArn")
	w.b = append(w.b, `"arn:`+c.Partition+`:securityhub:`+c.Region+`:`...)
	w.account()
	w.b = append(w.b, `:product/`...)
	w.account()
	w.b = append(w.b, `/default"`...)
	w.str("ProductName", "Falco")
	w.str("CompanyName", "Falco")
	w.str("GeneratorId", jsonstr.Truncate("falco/"+a.Rule, maxGeneratorID))
	w.key("AwsAccountId")
	w.b = append(w.b, '"')
	w.account()
	w.b = append(w.b, '"')
	w.key("Types")
	w.b = falco.AppendStringArray(w.b, Types(a))
	ts := asffTime(a.Time)
	w.str("CreatedAt", ts)
	w.str("UpdatedAt", ts)
	w.str("FirstObservedAt", ts)
	w.open("Severity", '{')
	w.str("Label", c.Severity[a.Priority])
	w.str("Original", a.Priority.String())
	w.close('}')
	w.str("Title", jsonstr.Truncate(a.Rule, maxTitle))
	desc := a.Output
	if desc == "" {
		desc = a.Rule
	}
	w.str("Description", jsonstr.Truncate(desc, maxDescription))

	fields := a.FieldStrings()
	kept := fields
	if len(kept) > maxFields {
		kept = kept[:maxFields]
	}
	truncated := len(fields) - len(kept)
	for _, kv := range kept {
		if len(kv[1]) > maxUserValue {
			truncated++
		}
	}
	product := [][2]string{{"falco/priority", a.Priority.String()}, {"falco/rule", a.Rule}, {"falco/source", a.Source},
		{"falco/hostname", a.Hostname}, {"falco/tags", strings.Join(a.Tags, ",")}, {"falco/id", fid}, {"falco/uuid", a.UUID}}
	if truncated > 0 {
		product = append(product, [2]string{"falcocw/truncated", fmt.Sprintf("%d of %d output fields left out or cut (ASFF limits)", truncated, len(fields))})
	}
	w.strMap("ProductFields", product, maxProductValue)
	if len(kept) > 0 {
		truncated += w.strMap("UserDefinedFields", kept, maxUserValue)
	}
	writeProcess(w, a)
	writeResources(w, a, c)
	w.close('}')
	w.account() // the last part
	parts := w.parts
	return Finding{ID: id, FindingID: fid, parts: parts}, truncated
}

func writeProcess(w *writer, a *falco.Alert) {
	name, _ := a.Field("output_fields.proc.name")
	path, _ := a.Field("output_fields.proc.exepath")
	if name == "" && path == "" {
		return
	}
	w.open("Process", '{')
	if name != "" {
		w.str("Name", jsonstr.Truncate(name, 128))
	}
	if path != "" {
		w.str("Path", jsonstr.Truncate(path, 512))
	}
	w.close('}')
}

// writeResources writes what the event knows of where it happened: the
// container and the Kubernetes pod (Falco's fields), the ECS task (the
// FireLens metadata), and the host (the EC2 instance when known). ASFF
// wants at least one; the host always is.
func writeResources(w *writer, a *falco.Alert, c Context) {
	w.open("Resources", '[')
	resource := func(typ, id string, details func()) {
		w.open("", '{')
		w.str("Type", typ)
		w.str("Id", jsonstr.Truncate(id, maxResourceID))
		w.str("Partition", c.Partition)
		w.str("Region", c.Region)
		if details != nil {
			w.open("Details", '{')
			details()
			w.close('}')
		}
		w.close('}')
	}
	wl := a.Workload()
	if wl.ContainerID != "" && wl.ContainerID != "host" || wl.Container != "" && wl.Container != "host" {
		id := wl.ContainerID
		if id == "" || id == "host" {
			id = wl.Container
		}
		var details func()
		if wl.Container != "" || wl.Image != "" {
			details = func() {
				w.open("Container", '{')
				if wl.Container != "" {
					w.str("Name", wl.Container)
				}
				if wl.Image != "" {
					w.str("ImageName", wl.Image)
				}
				w.close('}')
			}
		}
		resource("Container", id, details)
	}
	if wl.Pod != "" {
		cluster := a.Cluster
		if cluster == "" {
			cluster = "unknown"
		}
		resource("Other", "kubernetes/"+cluster+"/"+wl.Namespace+"/pod/"+wl.Pod, func() {
			w.strMap("Other", [][2]string{{"cluster", a.Cluster}, {"namespace", wl.Namespace}, {"pod", wl.Pod}}, maxUserValue)
		})
	}
	if arn := a.ECS["ecs_task_arn"]; strings.HasPrefix(arn, "arn:") {
		resource("AwsEcsTask", arn, nil)
	}
	switch inst := a.ECS["ec2_instance_id"]; {
	case strings.HasPrefix(inst, "i-"):
		w.open("", '{')
		w.str("Type", "AwsEc2Instance")
		w.key("Id")
		w.b = append(w.b, `"arn:`+c.Partition+`:ec2:`+c.Region+`:`...)
		w.account()
		w.b = append(w.b, `:instance/`...)
		w.b = append(w.b, falco.AppendString(nil, inst)[1:]...) // its closing quote ends the ARN
		w.str("Partition", c.Partition)
		w.str("Region", c.Region)
		w.close('}')
	default:
		host := a.Hostname
		if host == "" {
			host = "unknown"
		}
		var details func()
		if a.Hostname != "" {
			details = func() { w.strMap("Other", [][2]string{{"hostname", a.Hostname}}, maxUserValue) }
		}
		resource("Other", "host/"+host, details)
	}
	w.close(']')
}
