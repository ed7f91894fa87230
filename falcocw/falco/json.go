package falco

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
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

// AppendJSON appends the event falcocw delivers for the alert: Falco's own
// keys first (time, rule, priority, source, hostname, tags, output,
// output_fields, uuid), then the alert's other keys, then the ECS metadata
// keys and the kubernetes map. Invalid UTF-8 becomes U+FFFD and NaN or
// infinite numbers become strings, so the result is always valid JSON.
func (a *Alert) AppendJSON(b []byte) []byte {
	if b == nil {
		b = make([]byte, 0, a.sizeHint())
	}
	buf := bytes.NewBuffer(b)
	a.write(jsonOut{buf: buf}, true, a.Output)
	return buf.Bytes()
}

// AppendJSONEscaped appends what AppendJSON writes, escaped as the content
// of a JSON string (jsonstr.AppendContent of it), written in one pass: a
// CloudWatch message as it sits inside the PutLogEvents body.
func (a *Alert) AppendJSONEscaped(b []byte) []byte {
	if b == nil {
		n := a.sizeHint()
		b = make([]byte, 0, n+n/8)
	}
	buf := bytes.NewBuffer(b)
	a.write(jsonOut{buf: buf, esc: true}, true, a.Output)
	return buf.Bytes()
}

// sizeHint estimates the length of the event JSON, so that it is written
// into one buffer rather than a growing one.
func (a *Alert) sizeHint() int {
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
// shortened, always keeping time, rule, priority, source and hostname, and
// adding "falcocw_truncated": true. truncated reports whether it was cut.
func (a *Alert) JSON(limit int) (out []byte, truncated bool) {
	out = a.AppendJSON(nil)
	if limit <= 0 || len(out) <= limit {
		return out, false
	}
	slim := *a
	slim.Extra = map[string]any{TruncatedKey: true, "falcocw_original_bytes": len(out)}
	slim.Kubernetes = nil
	var buf bytes.Buffer
	slim.write(jsonOut{buf: &buf}, false, "")
	room := limit - buf.Len() - len(`,"output":""`) - 16
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
	buf.Reset()
	slim.write(jsonOut{buf: &buf}, false, text)
	out = buf.Bytes()
	if len(out) > limit { // metadata alone is over the limit: keep the essentials
		slim.ECS, slim.Tags = nil, nil
		buf.Reset()
		slim.write(jsonOut{buf: &buf}, false, "")
		out = buf.Bytes()
	}
	return out, true
}

func (a *Alert) write(b jsonOut, withFields bool, output string) {
	var tb [48]byte
	b.text(`{"time":"`)
	b.raw(AppendTime(tb[:0], a.Time))
	b.char('"')
	b.text(`,"rule":`)
	writeString(b, a.Rule)
	b.text(`,"priority":`)
	writeString(b, a.Priority.String())
	if a.Source != "" {
		b.text(`,"source":`)
		writeString(b, a.Source)
	}
	if a.Hostname != "" {
		b.text(`,"hostname":`)
		writeString(b, a.Hostname)
	}
	if a.Tags != nil {
		b.text(`,"tags":[`)
		for i, t := range a.Tags {
			if i > 0 {
				b.char(',')
			}
			writeString(b, t)
		}
		b.char(']')
	}
	if output != "" {
		b.text(`,"output":`)
		writeString(b, output)
	}
	switch {
	case !withFields:
	case a.rawFields != "" && a.OutputFields == nil:
		b.text(`,"output_fields":`)
		b.text(a.rawFields)
	case a.OutputFields != nil:
		b.text(`,"output_fields":`)
		writeValue(b, a.OutputFields, 1)
	}
	if a.UUID != "" {
		b.text(`,"uuid":`)
		writeString(b, a.UUID)
	}
	for _, k := range sortedKeys(a.Extra) {
		b.char(',')
		writeString(b, k)
		b.char(':')
		writeValue(b, a.Extra[k], 1)
	}
	for _, k := range ECSKeys {
		if v, ok := a.ECS[k]; ok {
			b.char(',')
			writeString(b, k)
			b.char(':')
			writeString(b, v)
		}
	}
	if a.Kubernetes != nil {
		b.text(`,"kubernetes":`)
		if a.kubeJSON != nil {
			b.raw(a.kubeJSON)
		} else {
			writeValue(b, a.Kubernetes, 1)
		}
	}
	a.writeContext(b)
	b.char('}')
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

// pairs is a short list of string keys and values, kept on the stack.
type pairs struct {
	kv [6][2]string
	n  int
}

func (p *pairs) add(k, v string) {
	if v != "" && p.n < len(p.kv) {
		p.kv[p.n] = [2]string{k, v}
		p.n++
	}
}

func (a *Alert) writeContext(b jsonOut) {
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
	for i, f := range workloadFields {
		if a.hasWorkload {
			workload.add(f[0], a.workload[i])
		} else if v, ok := a.OutputFields[f[1]]; ok {
			workload.add(f[0], stringOf(v))
		}
	}
	if top.n == 0 && sensor.n == 0 && workload.n == 0 {
		return
	}
	b.text(`,"` + ContextKey + `":{`)
	comma := false
	write := func(p *pairs) {
		for _, kv := range p.kv[:p.n] {
			if comma {
				b.char(',')
			}
			comma = true
			b.char('"') // the keys are this file's own plain names
			b.text(kv[0])
			b.text(`":`)
			writeString(b, kv[1])
		}
	}
	write(&top)
	for _, obj := range []struct {
		name string
		p    *pairs
	}{{"sensor", &sensor}, {"workload", &workload}} {
		if obj.p.n == 0 {
			continue
		}
		if comma {
			b.char(',')
		}
		b.text(`"` + obj.name + `":{`)
		comma = false
		write(obj.p)
		b.char('}')
		comma = true
	}
	b.char('}')
}

// AppendString appends s as a JSON string, repaired as AppendJSON repairs
// strings.
func AppendString(b []byte, s string) []byte {
	buf := bytes.NewBuffer(b)
	writeString(jsonOut{buf: buf}, s)
	return buf.Bytes()
}

// AppendStringArray appends ss as a JSON array of strings, repaired as
// AppendJSON repairs strings.
func AppendStringArray(b []byte, ss []string) []byte {
	buf := bytes.NewBuffer(b)
	writeValue(jsonOut{buf: buf}, ss, 0)
	return buf.Bytes()
}

// AppendRecordJSON appends any record body as JSON, with the same repairs
// as AppendJSON; non-Falco records delivered by the non_falco policy use it.
func AppendRecordJSON(b []byte, body map[string]any) []byte {
	buf := bytes.NewBuffer(b)
	writeValue(jsonOut{buf: buf}, body, 0)
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

func writeValue(b jsonOut, v any, depth int) {
	if depth > maxJSONDepth {
		b.text(`"[too deep]"`)
		return
	}
	switch v := v.(type) {
	case nil:
		b.text("null")
	case bool:
		b.text(strconv.FormatBool(v))
	case string:
		writeString(b, v)
	case []byte:
		writeString(b, string(v))
	case int64:
		b.text(strconv.FormatInt(v, 10))
	case int:
		b.text(strconv.Itoa(v))
	case uint64:
		b.text(strconv.FormatUint(v, 10))
	case float64:
		writeFloat(b, v)
	case json.Number:
		if validNumber(string(v)) {
			b.text(string(v))
		} else { // the lenient decoder let through e.g. "00"
			writeString(b, string(v))
		}
	case msgpack.EventTime:
		writeString(b, v.Time().Format(time.RFC3339Nano))
	case msgpack.Ext:
		writeString(b, base64.StdEncoding.EncodeToString(v.Data))
	case []any:
		b.char('[')
		for i, e := range v {
			if i > 0 {
				b.char(',')
			}
			writeValue(b, e, depth+1)
		}
		b.char(']')
	case []string:
		b.char('[')
		for i, e := range v {
			if i > 0 {
				b.char(',')
			}
			writeString(b, e)
		}
		b.char(']')
	case map[string]any:
		// Keys in order, so the same alert always reads the same; sorted
		// in a buffer on the stack for the usual small maps.
		var arr [32]string
		keys := arr[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.char('{')
		for i, k := range keys {
			if i > 0 {
				b.char(',')
			}
			writeString(b, k)
			b.char(':')
			writeValue(b, v[k], depth+1)
		}
		b.char('}')
	default:
		writeString(b, "[unsupported value]")
	}
}

func writeFloat(b jsonOut, f float64) {
	switch {
	case math.IsNaN(f):
		b.text(`"NaN"`)
	case math.IsInf(f, 1):
		b.text(`"+Inf"`)
	case math.IsInf(f, -1):
		b.text(`"-Inf"`)
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		b.text(strconv.FormatFloat(f, 'f', -1, 64))
	default:
		b.text(strconv.FormatFloat(f, 'g', -1, 64))
	}
}

// jsonOut is where the writers of this file put JSON: into buf as it is,
// or, with esc, escaped as the content of a JSON string, as
// jsonstr.AppendContent would escape what they write otherwise. A
// CloudWatch message sits so inside the PutLogEvents body: written escaped
// at once, an event is not written and then escaped in a second pass.
type jsonOut struct {
	buf *bytes.Buffer
	esc bool
}

// text writes JSON text this file composed or checked: punctuation,
// keys, numbers, literals, validated raw JSON.
func (o jsonOut) text(s string) {
	switch {
	case !o.esc:
		o.buf.WriteString(s)
	case len(s) <= 16: // punctuation, a key, a number: a byte at a time
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf || s[i] < 0x20 {
				o.buf.Write(jsonstr.AppendContent(o.buf.AvailableBuffer(), s[i:]))
				return
			}
			o.char(s[i])
		}
	default:
		o.buf.Write(jsonstr.AppendContent(o.buf.AvailableBuffer(), s))
	}
}

// raw is text for bytes; p must not be o's own buffer.
func (o jsonOut) raw(p []byte) {
	if o.esc {
		o.buf.Write(jsonstr.AppendContent(o.buf.AvailableBuffer(), unsafe.String(unsafe.SliceData(p), len(p))))
	} else {
		o.buf.Write(p)
	}
}

// char writes one byte of JSON text.
func (o jsonOut) char(c byte) {
	if o.esc && (c == '"' || c == '\\') {
		o.buf.WriteByte('\\')
	}
	o.buf.WriteByte(c)
}

// writeString writes s as a JSON string, repaired (see jsonstr).
func writeString(b jsonOut, s string) {
	if b.esc {
		b.buf.Write(jsonstr.AppendTwice(b.buf.AvailableBuffer(), s))
	} else {
		b.buf.Write(jsonstr.Append(b.buf.AvailableBuffer(), s))
	}
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
