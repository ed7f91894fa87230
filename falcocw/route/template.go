package route

import (
	"fmt"
	"strings"

	"github.com/falcocw/falcocw/falcocw/falco"
)

// Values is what a template is filled from: the alert and the Fluent Bit
// tag of its chunk. Alert is nil for a non-Falco record.
type Values struct {
	Alert *falco.Alert
	Tag   string
}

func (v Values) get(name string) (string, bool) {
	if name == "tag" {
		return v.Tag, v.Tag != ""
	}
	if v.Alert == nil {
		return "", false
	}
	return v.Alert.Field(name)
}

// Missing is what a template variable becomes when the event lacks it.
const Missing = "unknown"

// Template is a name with {variable} parts filled per event.
type Template struct {
	text  string
	parts []part
}

type part struct {
	lit   string
	field string // empty for a literal
}

// Static reports whether the template has no variables.
func (t *Template) Static() bool {
	for _, p := range t.parts {
		if p.field != "" {
			return false
		}
	}
	return true
}

func (t *Template) String() string { return t.text }

// Variables accepted in templates, besides kubernetes.KEY and
// output_fields.KEY.
var templateVars = []string{"rule", "priority", "source", "hostname", "uuid", "tag", "ecs_task_id", "cluster"}

func validVar(name string) bool {
	for _, v := range templateVars {
		if name == v {
			return true
		}
	}
	for _, k := range falco.ECSKeys {
		if name == k {
			return true
		}
	}
	for _, p := range []string{"kubernetes.", "output_fields."} {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
			return true
		}
	}
	return false
}

// ParseTemplate parses s, checking that its literal characters satisfy
// valid and that it names only known variables. maxLen bounds the literal
// part.
func ParseTemplate(s string, valid func(rune) bool, maxLen int) (*Template, error) {
	t := &Template{text: s}
	if s == "" {
		return nil, fmt.Errorf("empty name")
	}
	litLen := 0
	for rest := s; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.parts = append(t.parts, part{lit: rest})
			litLen += len(rest)
			break
		}
		if open > 0 {
			t.parts = append(t.parts, part{lit: rest[:open]})
			litLen += open
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed {")
		}
		name := strings.TrimSpace(rest[open+1 : open+end])
		if !validVar(name) {
			return nil, fmt.Errorf("unknown variable {%s}; allowed: {%s}, {%s}, {kubernetes.KEY}, {output_fields.KEY}",
				name, strings.Join(templateVars, "}, {"), strings.Join(falco.ECSKeys, "}, {"))
		}
		t.parts = append(t.parts, part{field: name})
		rest = rest[open+end+1:]
	}
	for _, p := range t.parts {
		for _, c := range p.lit {
			if !valid(c) {
				return nil, fmt.Errorf("character %q is not allowed here", c)
			}
		}
	}
	if litLen > maxLen {
		return nil, fmt.Errorf("longer than %d characters", maxLen)
	}
	return t, nil
}

// MustTemplate is ParseTemplate for names known to be valid.
func MustTemplate(s string) *Template {
	t, err := ParseTemplate(s, func(rune) bool { return true }, 1<<20)
	if err != nil {
		panic(err)
	}
	return t
}

// Fill returns the name for one event; each variable's value is passed
// through clean so that the result is a valid name for the service.
func (t *Template) Fill(v Values, clean func(string) string) string {
	if len(t.parts) == 1 && t.parts[0].field == "" {
		return t.parts[0].lit
	}
	var out string
	if len(t.parts) == 1 { // one field alone, as {hostname}: clean returns it as is when it is clean
		out = clean(t.value(v, t.parts[0].field))
	} else {
		var b strings.Builder
		for _, p := range t.parts {
			if p.field == "" {
				b.WriteString(p.lit)
				continue
			}
			b.WriteString(clean(t.value(v, p.field)))
		}
		out = b.String()
	}
	if len(out) > 512 {
		out = out[:512]
	}
	return out
}

// value is a field's value for the template, Missing when absent or empty.
func (t *Template) value(v Values, field string) string {
	if s, ok := v.get(field); ok && s != "" {
		return s
	}
	return Missing
}

func sanitizeWith(s string, valid func(rune) bool) string {
	return strings.Map(func(c rune) rune {
		if valid(c) {
			return c
		}
		return '_'
	}, s)
}
