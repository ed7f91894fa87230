// Package falco recognises Falco alerts in Fluent Bit records and turns them
// into Alert values, and writes an Alert as the JSON event falcocw delivers.
//
// An alert arrives in one of three shapes: the record is the alert (a parser
// already decoded Falco's JSON), the alert is a JSON string in a field
// ("log" for FireLens and the Kubernetes tail input), or that field already
// holds the decoded map. Container metadata that FireLens or the Kubernetes
// filter put beside it stays with the alert.
package falco

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	jsoniter "github.com/json-iterator/go"
)

// ECSKeys are the metadata keys an ECS FireLens log router adds to records
// (with enable-ecs-log-metadata), kept with the alert in this order.
var ECSKeys = []string{"ecs_cluster", "ecs_task_arn", "ecs_task_definition", "ec2_instance_id", "container_name", "container_id"}

// Alert is one parsed Falco alert and the metadata that came with it.
type Alert struct {
	Time time.Time
	// TimeFromRecord is set when the alert had no usable "time" field and
	// Time is the Fluent Bit record's timestamp instead.
	TimeFromRecord bool
	Rule           string
	Priority       Priority
	Output         string
	OutputFields   map[string]any
	Tags           []string
	Source         string
	Hostname       string
	UUID           string
	// Extra holds the alert's other keys (e.g. "message"), delivered as is.
	Extra map[string]any
	// ECS holds the FireLens metadata present on the record (keys as in
	// ECSKeys); Kubernetes holds the Kubernetes filter's map.
	ECS        map[string]string
	Kubernetes map[string]any
	// Cluster is the cluster name: set by the instance from its cluster
	// property, else taken from the FireLens metadata (ecs_cluster).
	Cluster string

	// rawFields is output_fields as the fast path found it: validated JSON,
	// written into the event as is; OutputFields is then decoded from it
	// only when asked for (Fields). workload holds the output fields the
	// context object reads, found on the way.
	rawFields   string
	workload    [5]string
	hasWorkload bool
	// kubeJSON, when set, is Kubernetes already written as JSON (records
	// of one pod share their map, so a flush writes it once).
	kubeJSON []byte
	// id, when set, is the ID of the alert this one is a cut copy of.
	id string
	// clean marks the strings the fast path found with nothing to escape.
	clean cleanBits
	// timeText, when set, is Time as the event writes it (TimeFormat),
	// found so in the line: the writer copies it instead of formatting.
	timeText string
}

// cleanBits marks an alert's strings that need no escaping in JSON, even
// twice: the fast path read them from an all-ASCII line, and they hold no
// quote, backslash or control character (as the line had them, or once
// unescaped: the \u003c encoding/json writes for '<'). The event
// writer copies such a string as it is instead of scanning it again for
// what to escape. Only the fast path sets a bit, as it reads the string;
// the writers of the fields (a cut copy's shorter text, a Clone) keep a
// clean string clean.
type cleanBits uint16

const (
	cleanRule cleanBits = 1 << iota
	cleanOutput
	cleanSource
	cleanHostname
	cleanUUID
	cleanTags      // every tag
	cleanWorkload0 // the first of the five workload values' bits, in workloadFields' order
)

// KubernetesJSON writes a Kubernetes map as the event carries it.
func KubernetesJSON(m map[string]any) []byte {
	var b bytes.Buffer
	writeValue(&b, m, 1)
	return b.Bytes()
}

// UseKubernetesJSON gives the alert its Kubernetes map already written by
// KubernetesJSON, for the event to copy.
func (a *Alert) UseKubernetesJSON(b []byte) { a.kubeJSON = b }

// Fields returns output_fields as a map, decoding it on first use when the
// fast path kept it as JSON text.
func (a *Alert) Fields() map[string]any {
	if a.OutputFields == nil && a.rawFields != "" {
		var m map[string]any
		if err := jsonAPI.UnmarshalFromString(a.rawFields, &m); err == nil {
			a.OutputFields = m
		}
	}
	return a.OutputFields
}

// known are the keys Alert holds in typed fields.
var known = map[string]bool{"time": true, "rule": true, "priority": true, "output": true,
	"output_fields": true, "tags": true, "source": true, "hostname": true, "uuid": true}

// jsonAPI decodes numbers as json.Number so that 64-bit values such as
// evt.time keep every digit.
var jsonAPI = jsoniter.Config{UseNumber: true}.Froze()

// Recognise returns the Falco alert held by a record body, looking at the
// body itself and then at its logKey field. recordTime is used when the
// alert's own time is missing or unparseable. ok is false for a record that
// is not a Falco alert.
func Recognise(body map[string]any, logKey string, recordTime time.Time) (a *Alert, ok bool) {
	return recognise(nil, body, logKey, recordTime)
}

func recognise(s *Alerts, body map[string]any, logKey string, recordTime time.Time) (a *Alert, ok bool) {
	src, nested := body, false
	if !looksLikeAlert(src) {
		src, nested = nil, true
		switch v := body[logKey].(type) {
		case string:
			if a, ok, handled := parseFast(s, v, recordTime); handled {
				if !ok {
					return nil, false
				}
				a.attachMetadata(body)
				return a, true
			}
			src = decodeJSONObject(v)
		case map[string]any:
			src = v
		}
		if src == nil || !looksLikeAlert(src) {
			return nil, false
		}
	}
	a = fromMap(s.newAlert(), src, recordTime)
	if nested { // metadata lives beside the alert on the outer record
		a.attachMetadata(body)
	}
	a.attachMetadata(src)
	return a, true
}

// RecogniseLine is Recognise for a body of one string pair, key: line, as
// the tail input makes of a line, without the map: the result is exactly
// Recognise(map[string]any{key: line}, logKey, recordTime).
func RecogniseLine(key, line, logKey string, recordTime time.Time) (a *Alert, ok bool) {
	return recogniseLine(nil, key, line, logKey, recordTime)
}

func recogniseLine(s *Alerts, key, line, logKey string, recordTime time.Time) (a *Alert, ok bool) {
	// A map of one pair never looks like an alert itself (that takes a
	// rule and a priority), so Recognise would go straight to the log
	// field: none when the pair is another key.
	if key != logKey {
		return nil, false
	}
	a, ok, handled := parseFast(s, line, recordTime)
	if !handled {
		return recognise(s, map[string]any{key: line}, logKey, recordTime)
	}
	if !ok {
		return nil, false
	}
	if isECSKey(key) { // the only metadata a string can be (checked first: boxing line would allocate)
		a.attachPair(key, line)
	}
	return a, true
}

// LooksCut reports whether the body's logKey field holds the start of what
// looks like a Falco alert whose JSON is cut short, as when the container
// runtime splits a line longer than 16 KiB and nothing joins the parts.
func LooksCut(body map[string]any, logKey string) bool {
	s, _ := body[logKey].(string)
	return LooksCutLine(s)
}

// LooksCutLine is LooksCut for the text of the log field.
func LooksCutLine(s string) bool {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") || !strings.Contains(t, `"rule"`) && !strings.Contains(t, `"output"`) {
		return false
	}
	return decodeJSONObject(t) == nil
}

// LooksFragmentLine reports whether s is the rest of a Falco alert whose
// start is missing: what the tail input reads after a restart from a DB
// offset inside a line, or the later parts of a line the container runtime
// split and nothing joined. It ends an object and holds at least two of the
// keys Falco prints, but does not start one.
func LooksFragmentLine(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" || t[0] == '{' || t[len(t)-1] != '}' {
		return false
	}
	n := 0
	for _, k := range fragmentKeys {
		if strings.Contains(t, k) {
			n++
		}
	}
	return n >= 2
}

var fragmentKeys = []string{`"priority":"`, `"rule":"`, `"output_fields":{`, `"hostname":"`, `"source":"`, `"tags":[`, `"time":"`, `"output":"`}

// LooksFragment is LooksFragmentLine for the body's logKey field.
func LooksFragment(body map[string]any, logKey string) bool {
	s, _ := body[logKey].(string)
	return LooksFragmentLine(s)
}

// decodeJSONObject decodes s when it holds a JSON object (as the container
// runtime writes it: possibly with a trailing newline), else returns nil.
func decodeJSONObject(s string) map[string]any {
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
		return nil
	}
	var m map[string]any
	if err := jsonAPI.UnmarshalFromString(t, &m); err != nil {
		return nil
	}
	return m
}

// looksLikeAlert: a rule name, a valid priority, and at least one of the
// fields Falco always prints with them. Falco's own startup lines, other
// containers' JSON logs and look-alikes without a priority fail it.
func looksLikeAlert(m map[string]any) bool {
	rule, _ := m["rule"].(string)
	prio, _ := m["priority"].(string)
	if strings.TrimSpace(rule) == "" || prio == "" {
		return false
	}
	if _, ok := ParsePriority(prio); !ok {
		return false
	}
	_, hasOutput := m["output"]
	_, hasFields := m["output_fields"]
	_, hasTime := m["time"]
	return hasOutput || hasFields || hasTime
}

func fromMap(a *Alert, m map[string]any, recordTime time.Time) *Alert {
	a.Rule, _ = m["rule"].(string)
	p, _ := m["priority"].(string)
	a.Priority, _ = ParsePriority(p)
	a.Output = stringOf(m["output"])
	a.Source = stringOf(m["source"])
	a.Hostname = stringOf(m["hostname"])
	a.UUID = stringOf(m["uuid"])
	if of, ok := m["output_fields"].(map[string]any); ok {
		a.OutputFields = of
	}
	if tags, ok := m["tags"].([]any); ok {
		a.Tags = make([]string, 0, len(tags))
		for _, t := range tags {
			a.Tags = append(a.Tags, stringOf(t))
		}
	}
	ts, _ := m["time"].(string)
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ts)); err == nil {
		a.Time = t.UTC()
	} else {
		a.Time, a.TimeFromRecord = recordTime, true
	}
	for k, v := range m {
		if known[k] || k == "kubernetes" || isECSKey(k) || k == "stream" || k == "log" {
			continue
		}
		if a.Extra == nil {
			a.Extra = make(map[string]any)
		}
		a.Extra[k] = v
	}
	return a
}

func isECSKey(k string) bool {
	for _, e := range ECSKeys {
		if k == e {
			return true
		}
	}
	return false
}

// attachMetadata copies FireLens and Kubernetes metadata from m. A small
// map (a tail record, an alert alone) is walked rather than asked for
// every metadata key it does not have.
func (a *Alert) attachMetadata(m map[string]any) {
	if len(m) <= len(ECSKeys) {
		for k, v := range m {
			a.attachPair(k, v)
		}
		return
	}
	for _, k := range ECSKeys {
		if v, ok := m[k]; ok && v != nil {
			a.setECS(k, v)
		}
	}
	if k, ok := m["kubernetes"].(map[string]any); ok {
		a.Kubernetes = k
	}
}

// attachPair keeps one key of the record beside the alert, if it is
// metadata: the Kubernetes filter's map or an ECS key.
func (a *Alert) attachPair(k string, v any) {
	if k == "kubernetes" {
		if k, ok := v.(map[string]any); ok {
			a.Kubernetes = k
		}
	} else if v != nil && isECSKey(k) {
		a.setECS(k, v)
	}
}

func (a *Alert) setECS(k string, v any) {
	if a.ECS == nil {
		a.ECS = make(map[string]string, len(ECSKeys))
	}
	a.ECS[k] = stringOf(v)
}

func stringOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	default:
		var b bytes.Buffer
		writeValue(&b, v, 0)
		return strings.Trim(b.String(), `"`)
	}
}

// Field returns a value for templates and matching: rule, priority, source,
// hostname, uuid, an ECS key, ecs_task_id (the last part of the task ARN),
// kubernetes.KEY (e.g. kubernetes.namespace_name) or
// output_fields.KEY. ok is false when the alert has no such value.
func (a *Alert) Field(name string) (string, bool) {
	switch name {
	case "rule":
		return a.Rule, a.Rule != ""
	case "priority":
		return a.Priority.String(), true
	case "source":
		return a.Source, a.Source != ""
	case "hostname":
		return a.Hostname, a.Hostname != ""
	case "uuid":
		return a.UUID, a.UUID != ""
	case "cluster":
		return a.Cluster, a.Cluster != ""
	case "ecs_task_id":
		arn := a.ECS["ecs_task_arn"]
		if arn == "" {
			return "", false
		}
		return arn[strings.LastIndexByte(arn, '/')+1:], true
	}
	if isECSKey(name) {
		v, ok := a.ECS[name]
		return v, ok && v != ""
	}
	if k, ok := strings.CutPrefix(name, "kubernetes."); ok {
		v, found := a.Kubernetes[k]
		if !found || v == nil {
			return "", false
		}
		return stringOf(v), true
	}
	if k, ok := strings.CutPrefix(name, "output_fields."); ok {
		v, found := a.Fields()[k]
		if !found || v == nil {
			return "", false
		}
		return stringOf(v), true
	}
	return "", false
}

// String names the alert in log lines: its rule, priority and time.
func (a *Alert) String() string {
	return fmt.Sprintf("rule=%q priority=%s time=%s", a.Rule, a.Priority, a.Time.Format(time.RFC3339Nano))
}
