package falco

import (
	"encoding/json"
	"strings"

	"github.com/falcocw/falcocw/falcocw/msgpack"
)

// Clone returns a deep copy of the alert that shares no memory with it.
//
// An alert read from a tail record (the fast path) does not own its
// strings: they are views into the chunk Fluent Bit handed to the flush,
// which Fluent Bit frees once the flush returns. Whatever keeps an alert
// beyond its flush (the storm gate's last repeat) must keep a Clone.
func (a *Alert) Clone() *Alert {
	c := *a
	c.Rule = strings.Clone(a.Rule)
	c.Output = strings.Clone(a.Output)
	c.Source = strings.Clone(a.Source)
	c.Hostname = strings.Clone(a.Hostname)
	c.UUID = strings.Clone(a.UUID)
	c.Cluster = strings.Clone(a.Cluster)
	c.rawFields = strings.Clone(a.rawFields)
	c.id = strings.Clone(a.id)
	c.timeText = strings.Clone(a.timeText)
	for i, s := range a.workload {
		c.workload[i] = strings.Clone(s)
	}
	if a.Tags != nil {
		c.Tags = make([]string, len(a.Tags))
		for i, t := range a.Tags {
			c.Tags[i] = strings.Clone(t)
		}
	}
	if a.ECS != nil {
		c.ECS = make(map[string]string, len(a.ECS))
		for k, v := range a.ECS {
			c.ECS[strings.Clone(k)] = strings.Clone(v)
		}
	}
	c.OutputFields, _ = cloneValue(a.OutputFields).(map[string]any)
	c.Extra, _ = cloneValue(a.Extra).(map[string]any)
	c.Kubernetes, _ = cloneValue(a.Kubernetes).(map[string]any)
	if a.kubeJSON != nil {
		c.kubeJSON = append([]byte(nil), a.kubeJSON...)
	}
	return &c
}

// cloneValue deep-copies a decoded value: maps, arrays, strings and byte
// slices are copied; numbers, booleans and times are values already.
func cloneValue(v any) any {
	switch v := v.(type) {
	case string:
		return strings.Clone(v)
	case []byte:
		return append([]byte(nil), v...)
	case json.Number:
		return json.Number(strings.Clone(string(v)))
	case msgpack.Ext:
		return msgpack.Ext{Type: v.Type, Data: append([]byte(nil), v.Data...)}
	case map[string]any:
		if v == nil {
			return v
		}
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[strings.Clone(k)] = cloneValue(x)
		}
		return m
	case map[string]string:
		if v == nil {
			return v
		}
		m := make(map[string]string, len(v))
		for k, x := range v {
			m[strings.Clone(k)] = strings.Clone(x)
		}
		return m
	case []any:
		if v == nil {
			return v
		}
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = cloneValue(x)
		}
		return s
	case []string:
		if v == nil {
			return v
		}
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strings.Clone(x)
		}
		return s
	}
	return v
}
