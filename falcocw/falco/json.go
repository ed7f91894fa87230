package falco

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/falcocw/falcocw/falcocw/jsonstr"
	"github.com/falcocw/falcocw/falcocw/msgpack"
)

// maxJSONDepth bounds how deep writeValue descends; deeper values are
// written as the string "[too deep]".
const maxJSONDepth = 64

// TimeFormat is how Falco prints "time": RFC 3339 in UTC with all nine
// digits of nanoseconds; the delivered event keeps that form.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// TruncatedKey marks an event whose JSON was cut to fit a size limit.
const TruncatedKey = "falcocw_truncated"

// AppendJSON appends the event falcocw delivers for the alert: time, the
// alert's stable id (ID), then Falco's own keys (rule, priority, source, hostname, tags, output,
// output_fields, uuid), then the alert's other keys, then the ECS metadata
// keys and the kubernetes map. Invalid UTF-8 becomes U+FFFD and NaN or
// infinite numbers become strings, so the result is always valid JSON.
func (a *Alert) AppendJSON(b []byte) []byte {
	if b == nil {
		b = make([]byte, 0, a.SizeHint())
	}
	w := eventWriter{b: b}
	a.write(&w, true, a.Output)
	return w.b
}

// AppendJSONQuoted appends the event of AppendJSON as a JSON string, as a
// CloudWatch Logs request body carries a message: the same bytes as
// jsonstr.AppendBytes(b, a.AppendJSON(nil)), written at once (see
// eventWriter). plain is the length of the event itself.
func (a *Alert) AppendJSONQuoted(b []byte) (out []byte, plain int) {
	w := eventWriter{b: append(b, '"'), quoted: true}
	a.write(&w, true, a.Output)
	return append(w.b, '"'), w.plain
}

// SizeHint estimates the length of the event JSON, so that it is written
// into one buffer rather than a growing one.
func (a *Alert) SizeHint() int {
	n := 512 + len(a.Rule) + 2*len(a.Output) + len(a.Hostname) + len(a.rawFields)
	for k, v := range a.OutputFields {
		n += len(k) + 8
		if s, ok := v.(string); ok {
			n += len(s) + len(s)/8
		} else {
			n += 20
		}
	}
	return n
}

// JSON returns the event, cut to at most limit bytes when limit > 0: the
// output_fields are dropped first, then the output text and other fields
// shortened, always keeping time, id, rule, priority, source and hostname, and
// adding "falcocw_truncated": true. truncated reports whether it was cut.
func (a *Alert) JSON(limit int) (out []byte, truncated bool) {
	out = a.AppendJSON(nil)
	if limit <= 0 || len(out) <= limit {
		return out, false
	}
	slim := *a
	slim.id = a.ID() // the event's id stays the alert's, whatever is cut
	slim.Extra = map[string]any{TruncatedKey: true, "falcocw_original_bytes": len(out)}
	slim.Kubernetes = nil
	var w eventWriter
	slim.write(&w, false, "")
	room := limit - len(w.b) - len(`,"output":""`) - 16
	text := a.Output
	if room < 0 {
		room = 0
	}
	if len(text) > room {
		text = text[:room]
		for len(text) > 0 && !utf8.ValidString(text) { // do not split a rune
			text = text[:len(text)-1]
		}
	}
	w = eventWriter{b: w.b[:0]}
	slim.write(&w, false, text)
	out = w.b
	if len(out) > limit { // metadata alone is over the limit: keep the essentials
		slim.ECS, slim.Tags, slim.Cluster = nil, nil, ""
		slim.hasWorkload, slim.OutputFields, slim.rawFields = false, nil, ""
		w = eventWriter{b: w.b[:0]}
		slim.write(&w, false, "")
		out = w.b
	}
	// Still over (a rule or host name of thousands of bytes, or of
	// invalid bytes that each become a three-byte U+FFFD): shorten the
	// longest of them until the event fits, keeping its id.
	for len(out) > limit {
		longest := &slim.Rule
		for _, f := range []*string{&slim.Hostname, &slim.Source, &slim.UUID} {
			if len(*f) > len(*longest) {
				longest = f
			}
		}
		if len(*longest) <= 16 {
			break // limit is below any event: the caller's limits are far above
		}
		*longest = jsonstr.Truncate(strings.ToValidUTF8(*longest, "\uFFFD"), len(*longest)/2)
		w = eventWriter{b: w.b[:0]}
		slim.write(&w, false, "")
		out = w.b
	}
	return out, true
}

func (a *Alert) write(w *eventWriter, withFields bool, output string) {
	w.lit(litTime)
	start := len(w.b)
	if a.timeText != "" {
		w.b = append(w.b, a.timeText...)
	} else {
		w.b = AppendTime(w.b, a.Time)
	}
	w.grew(start)
	w.lit(litID)
	start = len(w.b)
	w.b = a.AppendID(w.b)
	w.grew(start)
	w.lit(litRule)
	w.cleanStr(a.Rule, a.clean&cleanRule != 0)
	w.lit(litPriority)
	w.str(a.Priority.String())
	if a.Source != "" {
		w.lit(litSource)
		w.cleanStr(a.Source, a.clean&cleanSource != 0)
	}
	if a.Hostname != "" {
		w.lit(litHostname)
		w.cleanStr(a.Hostname, a.clean&cleanHostname != 0)
	}
	if a.Tags != nil {
		w.lit(litTags)
		for i, t := range a.Tags {
			if i > 0 {
				w.punct(',')
			}
			w.cleanStr(t, a.clean&cleanTags != 0)
		}
		w.punct(']')
	}
	if output != "" {
		w.lit(litOutput)
		w.cleanStr(output, a.clean&cleanOutput != 0) // a cut copy's text is a prefix: as clean
	}
	switch {
	case !withFields:
	case a.rawFields != "" && a.OutputFields == nil:
		w.lit(litOutputFields)
		w.json(a.rawFields)
	case a.OutputFields != nil:
		w.lit(litOutputFields)
		w.value(a.OutputFields)
	}
	if a.UUID != "" {
		w.lit(litUUID)
		w.cleanStr(a.UUID, a.clean&cleanUUID != 0)
	}
	for _, k := range sortedKeys(a.Extra) {
		w.punct(',')
		w.str(k)
		w.punct(':')
		w.value(a.Extra[k])
	}
	for _, k := range ECSKeys {
		if v, ok := a.ECS[k]; ok {
			w.punct(',')
			w.str(k)
			w.punct(':')
			w.str(v)
		}
	}
	if a.Kubernetes != nil {
		w.lit(litKubernetes)
		if a.kubeJSON != nil {
			w.json(unsafe.String(unsafe.SliceData(a.kubeJSON), len(a.kubeJSON))) // read only
		} else {
			w.value(a.Kubernetes)
		}
	}
	a.writeContext(w)
	w.punct('}')
}

// ContextKey is the key of the enrichment object every delivered event
// carries: a stable shape, whatever way the alert arrived.
//
//	"context": {
//	  "cluster":  "prod",                     // cluster property, else ecs_cluster
//	  "platform": "ecs" | "kubernetes",       // where the Falco sensor runs, when known
//	  "sensor":   {...},                      // the Falco task or pod that saw the event
//	  "workload": {...}                       // where the event happened, from Falco's fields
//	}
//
// sensor holds, on ECS, task_arn, task_id, task_definition, container and
// instance_id; on Kubernetes, namespace, pod, container and node.
// workload holds namespace, pod, container, container_id and image, from
// Falco's k8s.ns.name, k8s.pod.name, container.name, container.id and
// container.image.repository output fields. Absent values are left out;
// an empty object is left out.
const ContextKey = "context"

var workloadFields = [][2]string{{"namespace", "k8s.ns.name"}, {"pod", "k8s.pod.name"}, {"container", "container.name"},
	{"container_id", "container.id"}, {"image", "container.image.repository"}}

// pairs is a short list of string keys and values, kept on the stack;
// clean marks the values that need no escaping (cleanBits).
type pairs struct {
	kv    [6][2]string
	clean [6]bool
	n     int
}

func (p *pairs) add(k, v string) { p.addClean(k, v, false) }

func (p *pairs) addClean(k, v string, clean bool) {
	if v != "" && p.n < len(p.kv) {
		p.kv[p.n] = [2]string{k, v}
		p.clean[p.n] = clean
		p.n++
	}
}

func (a *Alert) writeContext(w *eventWriter) {
	var top, sensor, workload pairs
	top.add("cluster", a.Cluster)
	switch {
	case len(a.ECS) > 0 && (a.ECS["ecs_cluster"] != "" || a.ECS["ecs_task_arn"] != ""):
		top.add("platform", "ecs")
		id, _ := a.Field("ecs_task_id")
		sensor.add("task_arn", a.ECS["ecs_task_arn"])
		sensor.add("task_id", id)
		sensor.add("task_definition", a.ECS["ecs_task_definition"])
		sensor.add("container", a.ECS["container_name"])
		sensor.add("instance_id", a.ECS["ec2_instance_id"])
	case a.Kubernetes != nil:
		top.add("platform", "kubernetes")
		k := func(key string) string { s, _ := a.Kubernetes[key].(string); return s }
		sensor.add("namespace", k("namespace_name"))
		sensor.add("pod", k("pod_name"))
		sensor.add("container", k("container_name"))
		sensor.add("node", k("host"))
	}
	if a.hasWorkload { // the fast path's: read as they are, with their clean bits
		for i, v := range a.workload {
			workload.addClean(workloadFields[i][0], v, a.clean&(cleanWorkload0<<i) != 0)
		}
	} else {
		wl := a.Workload()
		for i, v := range [...]string{wl.Namespace, wl.Pod, wl.Container, wl.ContainerID, wl.Image} {
			workload.add(workloadFields[i][0], v)
		}
	}
	if top.n == 0 && sensor.n == 0 && workload.n == 0 {
		return
	}
	w.lit(litContext)
	comma := top.write(w, false)
	comma = sensor.object(w, "sensor", comma)
	workload.object(w, "workload", comma)
	w.punct('}')
}

// write writes the pairs as members of an object, after a comma when
// comma is set; it returns whether a member was written then or before.
func (p *pairs) write(w *eventWriter, comma bool) bool {
	for i := 0; i < p.n; i++ {
		if comma {
			w.punct(',')
		}
		comma = true
		w.key(p.kv[i][0]) // the keys are this file's own plain names
		w.cleanStr(p.kv[i][1], p.clean[i])
	}
	return comma
}

// object writes the pairs as an object member called name, unless there
// are none.
func (p *pairs) object(w *eventWriter, name string, comma bool) bool {
	if p.n == 0 {
		return comma
	}
	if comma {
		w.punct(',')
	}
	w.key(name)
	w.punct('{')
	p.write(w, false)
	w.punct('}')
	return true
}

// AppendString appends s as a JSON string, repaired as AppendJSON repairs
// strings.
func AppendString(b []byte, s string) []byte {
	buf := bytes.NewBuffer(b)
	writeString(buf, s)
	return buf.Bytes()
}

// AppendStringArray appends ss as a JSON array of strings, repaired as
// AppendJSON repairs strings.
func AppendStringArray(b []byte, ss []string) []byte {
	buf := bytes.NewBuffer(b)
	writeValue(buf, ss, 0)
	return buf.Bytes()
}

// AppendRecordJSON appends any record body as JSON, with the same repairs
// as AppendJSON; non-Falco records delivered by the non_falco policy use it.
func AppendRecordJSON(b []byte, body map[string]any) []byte {
	buf := bytes.NewBuffer(b)
	writeValue(buf, body, 0)
	return buf.Bytes()
}

func sortedKeys(m map[string]any) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeValue(b *bytes.Buffer, v any, depth int) {
	if depth > maxJSONDepth {
		b.WriteString(`"[too deep]"`)
		return
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		writeString(b, v)
	case []byte:
		writeString(b, string(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case int:
		b.WriteString(strconv.Itoa(v))
	case uint64:
		b.WriteString(strconv.FormatUint(v, 10))
	case float64:
		writeFloat(b, v)
	case json.Number:
		if validNumber(string(v)) {
			b.WriteString(string(v))
		} else { // the lenient decoder let through e.g. "00"
			writeString(b, string(v))
		}
	case msgpack.EventTime:
		writeString(b, v.Time().Format(time.RFC3339Nano))
	case msgpack.Ext:
		writeString(b, base64.StdEncoding.EncodeToString(v.Data))
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e, depth+1)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		// Keys in order, so the same alert always reads the same; sorted
		// in a buffer on the stack for the usual small maps.
		var arr [32]string
		keys := arr[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			writeValue(b, v[k], depth+1)
		}
		b.WriteByte('}')
	default:
		writeString(b, "[unsupported value]")
	}
}

func writeFloat(b *bytes.Buffer, f float64) {
	switch {
	case math.IsNaN(f):
		b.WriteString(`"NaN"`)
	case math.IsInf(f, 1):
		b.WriteString(`"+Inf"`)
	case math.IsInf(f, -1):
		b.WriteString(`"-Inf"`)
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		b.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
	default:
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	}
}

// writeString writes s as a JSON string, repaired (see jsonstr).
func writeString(b *bytes.Buffer, s string) {
	b.Write(jsonstr.Append(b.AvailableBuffer(), s))
}

// validNumber reports whether s is a number as JSON (RFC 8259) writes it.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
