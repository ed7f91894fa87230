// Package fbconf reads Fluent Bit configuration files, classic
// (fluent-bit.conf) and YAML (fluent-bit.yaml), far enough to find the
// [OUTPUT] sections that load falcocw and their properties, so that
// configurations can be checked before Fluent Bit runs them.
package fbconf

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

// Section is one section of a configuration: its kind (SERVICE, INPUT,
// FILTER, OUTPUT, PARSER, PLUGINS...), its properties in order, and where
// it starts.
type Section struct {
	Kind  string
	Props []Property
	File  string
	Line  int
}

// Property is one key and value.
type Property struct {
	Key, Value string
	Line       int
}

// Get returns the value of key (case-insensitive, as Fluent Bit looks
// properties up), or "".
func (s *Section) Get(key string) string {
	for i := len(s.Props) - 1; i >= 0; i-- {
		if strings.EqualFold(s.Props[i].Key, key) {
			return s.Props[i].Value
		}
	}
	return ""
}

// Where names the section for messages: file:line.
func (s *Section) Where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// ParseClassic parses the classic format: [SECTION] headers, then
// "key value" lines indented under them; # starts a comment. @INCLUDE and
// @SET lines are ignored.
func ParseClassic(name string, text string) ([]Section, error) {
	var out []Section
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "@"):
			continue
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("%s:%d: bad section header %q", name, n, line)
			}
			out = append(out, Section{Kind: strings.ToUpper(strings.TrimSpace(line[1 : len(line)-1])), File: name, Line: n})
		default:
			if len(out) == 0 {
				return nil, fmt.Errorf("%s:%d: property %q outside a section", name, n, line)
			}
			key, value := line, ""
			if i := strings.IndexAny(line, " \t"); i > 0 {
				key, value = line[:i], line[i+1:]
			}
			out[len(out)-1].Props = append(out[len(out)-1].Props, Property{Key: key, Value: strings.TrimSpace(value), Line: n})
		}
	}
	return out, sc.Err()
}

// ParseYAML parses the YAML format's pipeline (inputs, filters, outputs)
// and service sections.
func ParseYAML(name string, text []byte) ([]Section, error) {
	var doc struct {
		Service  map[string]any   `json:"service"`
		Pipeline map[string][]any `json:"pipeline"`
	}
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var out []Section
	if doc.Service != nil {
		out = append(out, yamlSection(name, "SERVICE", doc.Service))
	}
	for _, kind := range []string{"inputs", "filters", "outputs"} {
		for i, e := range doc.Pipeline[kind] {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: pipeline.%s[%d] is not a map", name, kind, i)
			}
			s := yamlSection(name, strings.ToUpper(strings.TrimSuffix(kind, "s")), m)
			s.Line = i + 1 // the entry's position: YAML lines are not kept
			out = append(out, s)
		}
	}
	return out, nil
}

func yamlSection(file, kind string, m map[string]any) Section {
	s := Section{Kind: kind, File: file}
	for k, v := range m {
		s.Props = append(s.Props, Property{Key: k, Value: scalar(v)})
	}
	return s
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	case float64:
		if v == float64(int64(v)) {
			return fmt.Sprint(int64(v))
		}
		return fmt.Sprint(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// ParseFile reads a classic or YAML configuration, by its extension.
func ParseFile(path string) ([]Section, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") {
		return ParseYAML(path, b)
	}
	return ParseClassic(path, string(b))
}

// FalcocwOutputs returns the [OUTPUT] sections whose Name is falcocw.
func FalcocwOutputs(sections []Section) []Section {
	var out []Section
	for _, s := range sections {
		if s.Kind == "OUTPUT" && strings.EqualFold(s.Get("name"), "falcocw") {
			out = append(out, s)
		}
	}
	return out
}
