// Package ocsfcheck checks records against the OCSF schema's release source
// (schema/: the JSON files of OCSF v1.1.0, as github.com/ocsf/ocsf-schema
// tags them, with its license), for tests. It resolves what the OCSF
// server resolves: a class's or object's "extends" chain, its "$include"s
// (the includes/ files and the profiles/, whose attributes count only
// when the record names the profile in metadata.profiles), and each
// attribute's type, array-ness and enum from the dictionary unless the
// class or object overrides them. A record is checked for every required
// attribute, no attribute the class or object does not have, each value's
// type (string, integer, long, float, boolean, object, array; the string
// types' regular expressions), enum values, the captions of enum siblings
// (severity beside severity_id), the at_least_one and just_one
// constraints, and the class's numbers (class_uid from the category,
// type_uid from class and activity).
package ocsfcheck

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed all:schema
var files embed.FS

// Attr is one attribute of a class or an object, resolved.
type Attr struct {
	Name        string
	Requirement string // required, recommended, optional
	Type        string // a base type (string_t, ...), "object", or an object's name
	IsArray     bool
	Enum        map[string]string // id -> caption
	Sibling     string
	Profile     string // the profile that brings it, "" for none
	Regex       *regexp.Regexp
}

// Def is a resolved class or object.
type Def struct {
	Name        string
	UID         int // a class's uid within its category
	Category    string
	Attrs       map[string]*Attr
	AtLeastOne  []string
	JustOne     []string
	IsClass     bool
	CategoryUID int
}

// Schema is the loaded schema.
type Schema struct {
	dict    map[string]map[string]any
	types   map[string]map[string]any
	cats    map[string]int
	objects map[string]*Def
	classes map[string]*Def
	Version string
}

func readJSON(p string) (map[string]any, error) {
	b, err := files.ReadFile(path.Join("schema", p))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return m, nil
}

// Load reads the embedded schema.
func Load() (*Schema, error) {
	s := &Schema{dict: map[string]map[string]any{}, types: map[string]map[string]any{}, cats: map[string]int{},
		objects: map[string]*Def{}, classes: map[string]*Def{}}
	d, err := readJSON("dictionary.json")
	if err != nil {
		return nil, err
	}
	for k, v := range d["attributes"].(map[string]any) {
		s.dict[k] = v.(map[string]any)
	}
	for k, v := range d["types"].(map[string]any)["attributes"].(map[string]any) {
		s.types[k] = v.(map[string]any)
	}
	c, err := readJSON("categories.json")
	if err != nil {
		return nil, err
	}
	for k, v := range c["attributes"].(map[string]any) {
		s.cats[k] = int(v.(map[string]any)["uid"].(float64))
	}
	v, err := readJSON("version.json")
	if err != nil {
		return nil, err
	}
	s.Version, _ = v["version"].(string)
	return s, nil
}

// Class resolves an event class by name (detection_finding).
func (s *Schema) Class(name string) (*Def, error) {
	if d := s.classes[name]; d != nil {
		return d, nil
	}
	var found string
	_ = fs.WalkDir(files, "schema/events", func(p string, e fs.DirEntry, _ error) error {
		if e != nil && !e.IsDir() && path.Base(p) == name+".json" {
			found = strings.TrimPrefix(p, "schema/")
		}
		return nil
	})
	if found == "" {
		return nil, fmt.Errorf("no class %q in the schema", name)
	}
	d, err := s.resolve(found, true)
	if err != nil {
		return nil, err
	}
	s.classes[name] = d
	return d, nil
}

// Object resolves an object by name (device).
func (s *Schema) Object(name string) (*Def, error) {
	if d := s.objects[name]; d != nil {
		return d, nil
	}
	d, err := s.resolve("objects/"+name+".json", false)
	if err != nil {
		return nil, err
	}
	s.objects[name] = d
	return d, nil
}

// resolve reads a class or object file, its parents first.
func (s *Schema) resolve(file string, class bool) (*Def, error) {
	m, err := readJSON(file)
	if err != nil {
		return nil, err
	}
	d := &Def{Name: fmt.Sprint(m["name"]), Attrs: map[string]*Attr{}, IsClass: class}
	if ext, ok := m["extends"].(string); ok && ext != "object" {
		var parent *Def
		if class {
			parent, err = s.Class(ext)
		} else {
			parent, err = s.Object(ext)
		}
		if err != nil {
			return nil, fmt.Errorf("%s extends %s: %v", file, ext, err)
		}
		for k, a := range parent.Attrs {
			c := *a
			d.Attrs[k] = &c
		}
		d.AtLeastOne, d.JustOne, d.Category, d.UID = parent.AtLeastOne, parent.JustOne, parent.Category, parent.UID
	}
	if cat, ok := m["category"].(string); ok {
		d.Category = cat
	}
	if uid, ok := m["uid"].(float64); ok {
		d.UID = int(uid)
	}
	d.CategoryUID = s.cats[d.Category]
	if cons, ok := m["constraints"].(map[string]any); ok {
		if l, ok := cons["at_least_one"]; ok {
			d.AtLeastOne = strs(l)
		}
		if l, ok := cons["just_one"]; ok {
			d.JustOne = strs(l)
		}
	}
	attrs, _ := m["attributes"].(map[string]any)
	if inc, ok := attrs["$include"]; ok {
		for _, f := range strs(inc) {
			im, err := readJSON(f)
			if err != nil {
				return nil, fmt.Errorf("%s includes %s: %v", file, f, err)
			}
			profile := ""
			if im["meta"] == "profile" || strings.HasPrefix(f, "profiles/") {
				profile = fmt.Sprint(im["name"])
			}
			for k, v := range im["attributes"].(map[string]any) {
				if err := s.merge(d, k, v.(map[string]any), profile); err != nil {
					return nil, err
				}
			}
		}
	}
	for k, v := range attrs {
		if k == "$include" {
			continue
		}
		if err := s.merge(d, k, v.(map[string]any), ""); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
	}
	return d, nil
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// merge adds or overrides one attribute of d.
func (s *Schema) merge(d *Def, name string, over map[string]any, profile string) error {
	a := d.Attrs[name]
	if a == nil {
		dict, ok := s.dict[name]
		if !ok {
			return fmt.Errorf("attribute %q is not in the dictionary", name)
		}
		a = &Attr{Name: name, Profile: profile}
		a.Type, _ = dict["type"].(string)
		a.IsArray, _ = dict["is_array"].(bool)
		a.Sibling, _ = dict["sibling"].(string)
		a.Enum = enum(dict["enum"])
		d.Attrs[name] = a
	} else if profile == "" {
		a.Profile = profile
	}
	if r, ok := over["requirement"].(string); ok {
		a.Requirement = r
	}
	if t, ok := over["type"].(string); ok {
		a.Type = t
	}
	if e := enum(over["enum"]); e != nil {
		a.Enum = e
	}
	if sib, ok := over["sibling"].(string); ok {
		a.Sibling = sib
	}
	if t, ok := s.types[a.Type]; ok {
		if re, ok := t["regex"].(string); ok {
			a.Regex = regexp.MustCompile(re)
		}
	}
	return nil
}

func enum(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, e := range m {
		out[k], _ = e.(map[string]any)["caption"].(string)
	}
	return out
}

// base is the base type of a type: string_t for hostname_t.
func (s *Schema) base(t string) string {
	for i := 0; i < 5; i++ {
		tt, ok := s.types[t]
		if !ok {
			return t
		}
		up, ok := tt["type"].(string)
		if !ok {
			return t
		}
		t = up
	}
	return t
}

// Check checks a record (as decoded from JSON: maps, slices, float64s)
// against a class, returning every problem found, each naming the
// attribute's path.
func (s *Schema) Check(class string, rec map[string]any) []string {
	d, err := s.Class(class)
	if err != nil {
		return []string{err.Error()}
	}
	profiles := map[string]bool{}
	if md, ok := rec["metadata"].(map[string]any); ok {
		if ps, ok := md["profiles"].([]any); ok {
			for _, p := range ps {
				profiles[fmt.Sprint(p)] = true
			}
		}
	}
	c := &checker{s: s, profiles: profiles}
	c.object(d, rec, "")
	if n, ok := num(rec["category_uid"]); !ok || int(n) != d.CategoryUID {
		c.add("category_uid", "is %v, the class's category %q is %d", rec["category_uid"], d.Category, d.CategoryUID)
	}
	if n, ok := num(rec["class_uid"]); !ok || int(n) != d.CategoryUID*1000+d.UID {
		c.add("class_uid", "is %v, want %d", rec["class_uid"], d.CategoryUID*1000+d.UID)
	}
	act, _ := num(rec["activity_id"])
	if n, ok := num(rec["type_uid"]); !ok || int64(n) != int64(d.CategoryUID*1000+d.UID)*100+int64(act) {
		c.add("type_uid", "is %v, want class_uid*100+activity_id", rec["type_uid"])
	}
	sort.Strings(c.problems)
	return c.problems
}

type checker struct {
	s        *Schema
	profiles map[string]bool
	problems []string
}

func (c *checker) add(p, format string, args ...any) {
	c.problems = append(c.problems, p+": "+fmt.Sprintf(format, args...))
}

func present(v any) bool { return v != nil }

func (c *checker) object(d *Def, m map[string]any, at string) {
	in := func(name string) bool {
		a := d.Attrs[name]
		return a != nil && (a.Profile == "" || c.profiles[a.Profile])
	}
	for name, a := range d.Attrs {
		if a.Requirement == "required" && in(name) && !present(m[name]) {
			c.add(at+name, "required by %s, absent", d.Name)
		}
	}
	count := func(names []string) int {
		n := 0
		for _, x := range names {
			if present(m[x]) {
				n++
			}
		}
		return n
	}
	if len(d.AtLeastOne) > 0 && count(d.AtLeastOne) == 0 {
		c.add(strings.TrimSuffix(at, "."), "%s wants at least one of %v", d.Name, d.AtLeastOne)
	}
	if len(d.JustOne) > 0 && count(d.JustOne) != 1 {
		c.add(strings.TrimSuffix(at, "."), "%s wants just one of %v", d.Name, d.JustOne)
	}
	for name, v := range m {
		if !present(v) {
			continue
		}
		if !in(name) {
			if a := d.Attrs[name]; a != nil {
				c.add(at+name, "belongs to profile %q, which metadata.profiles does not name", a.Profile)
			} else {
				c.add(at+name, "%s has no such attribute", d.Name)
			}
			continue
		}
		a := d.Attrs[name]
		if a.IsArray {
			l, ok := v.([]any)
			if !ok {
				c.add(at+name, "want an array, have %T", v)
				continue
			}
			for i, x := range l {
				c.value(a, x, fmt.Sprintf("%s%s[%d]", at, name, i))
			}
		} else {
			c.value(a, v, at+name)
		}
		if a.Enum != nil && a.Sibling != "" && present(m[a.Sibling]) {
			id := fmt.Sprint(v)
			if f, ok := v.(float64); ok {
				id = strconv.FormatInt(int64(f), 10)
			}
			if cap := a.Enum[id]; id != "99" && cap != "" && m[a.Sibling] != cap {
				c.add(at+a.Sibling, "is %q, the caption of %s %s is %q", m[a.Sibling], name, id, cap)
			}
		}
	}
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// computed are the attributes whose enums the OCSF server fills from the
// categories and classes (the release source lists only 0 and 99 there):
// Check verifies them from the class instead.
var computed = map[string]bool{"category_uid": true, "class_uid": true, "type_uid": true}

// value checks one value of attribute a.
func (c *checker) value(a *Attr, v any, at string) {
	switch t := c.s.base(a.Type); t {
	case "string_t":
		str, ok := v.(string)
		if !ok {
			c.add(at, "want a string, have %T", v)
			return
		}
		if a.Regex != nil && !a.Regex.MatchString(str) {
			c.add(at, "%q does not match %s's pattern", str, a.Type)
		}
	case "integer_t", "long_t", "timestamp_t", "port_t":
		f, ok := num(v)
		if !ok || f != math.Trunc(f) {
			c.add(at, "want an integer, have %v", v)
			return
		}
		if t == "integer_t" && (f > math.MaxInt32 || f < math.MinInt32) {
			c.add(at, "%v is beyond a 32-bit integer", v)
		}
		if a.Enum != nil && !computed[a.Name] {
			if _, ok := a.Enum[strconv.FormatInt(int64(f), 10)]; !ok {
				c.add(at, "%v is not one of its enum's values", v)
			}
		}
	case "float_t":
		if _, ok := num(v); !ok {
			c.add(at, "want a number, have %T", v)
		}
	case "boolean_t":
		if _, ok := v.(bool); !ok {
			c.add(at, "want a boolean, have %T", v)
		}
	case "json_t":
	case "object":
		if _, ok := v.(map[string]any); !ok {
			c.add(at, "want an object, have %T", v)
		}
	default:
		od, err := c.s.Object(t)
		if err != nil {
			c.add(at, "type %q: %v", a.Type, err)
			return
		}
		m, ok := v.(map[string]any)
		if !ok {
			c.add(at, "want a %s object, have %T", t, v)
			return
		}
		c.object(od, m, at+".")
	}
}
