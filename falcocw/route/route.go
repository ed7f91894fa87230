// Package route decides where each Falco alert goes.
//
// A routing table is an ordered list of rules, each written on one line so
// that it fits a flat Fluent Bit property (FireLens passes only flat string
// options):
//
//	MATCH [MATCH...] -> DESTINATION [continue]
//
// MATCH terms, all of which must hold:
//
//   - every alert
//     tag=GLOB[,GLOB...]        one of the rule's tags matches one of the globs
//     rule=GLOB[,GLOB...]       the rule name matches (quote names with spaces:
//     rule="Terminal shell in container")
//     priority>=NAME            at least this priority (Falco's order)
//     priority=NAME[,NAME...]   exactly one of these priorities
//     source=NAME[,NAME...]     the event source (syscall, k8s_audit, ...)
//
// Globs use * and ? and ignore case. DESTINATION is one of:
//
//	cloudwatch:GROUP[:STREAM]  a CloudWatch Logs group and stream (the stream
//	                           defaults to the instance's default stream)
//	firehose:NAME              a Kinesis Data Firehose delivery stream
//	sns:TOPIC_ARN              an SNS topic, for automated response
//	kinesis:STREAM             a Kinesis Data Streams stream
//	eventbridge:BUS            an EventBridge event bus
//	securityhub                Security Hub findings
//	securitylake:BUCKET/PREFIX a Security Lake custom source (OCSF, Parquet)
//	default                    the instance's default destination(s)
//	drop                       discard the alert (counted, logged at debug)
//
// Group, stream and delivery stream names are templates: {rule},
// {priority}, {source}, {hostname}, {tag} (the Fluent Bit tag), the ECS keys
// ({ecs_cluster}, {ecs_task_id}, ...), {kubernetes.KEY} and
// {output_fields.KEY}. The first rule that matches decides, unless it ends
// with "continue": then the alert is delivered there and the search goes
// on. An alert that no rule without "continue" matches goes to the default
// destination(s) as well.
//
// Options may follow the destination: format=output (deliver only Falco's
// output text), storm=60s with storm_by=proc.cmdline,container.id (collapse
// repeats of a rule within the window into one event with a count), and
// min_priority=NAME (as priority>=NAME).
package route

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/falcocw/falcocw/falcocw/falco"
)

// Destination is where a rule sends alerts, with its names still templates.
type Destination struct {
	Kind   Kind
	Name   *Template // log group, delivery stream, topic; nil for a kind without names (securityhub)
	Stream *Template // log stream, for kinds that have one; else nil
	// nameChars and streamChars make filled values fit the service's
	// name rules.
	nameChars, streamChars *Charset
}

// String writes the destination in the syntax ParseDestination reads.
func (d Destination) String() string {
	if d.Name == nil {
		return string(d.Kind)
	}
	if d.Stream != nil {
		return string(d.Kind) + ":" + d.Name.String() + ":" + d.Stream.String()
	}
	return string(d.Kind) + ":" + d.Name.String()
}

// Target is a destination with its templates filled for one event; it is
// comparable, so events can be grouped by it.
type Target struct {
	Kind   Kind
	Name   string
	Stream string
}

func (t Target) String() string {
	if t.Name == "" {
		return string(t.Kind)
	}
	if t.Stream != "" {
		return string(t.Kind) + ":" + t.Name + ":" + t.Stream
	}
	return string(t.Kind) + ":" + t.Name
}

// Clone returns the target with strings of its own: a target filled
// from a template ({hostname}) shares the alert's strings, which may be
// views into the chunk of one flush (see falco.Alert.Clone).
func (t Target) Clone() Target {
	return Target{Kind: t.Kind, Name: strings.Clone(t.Name), Stream: strings.Clone(t.Stream)}
}

// Resolve fills the destination's templates from an event.
func (d Destination) Resolve(v Values) Target {
	t := Target{Kind: d.Kind}
	if d.Name != nil {
		t.Name = d.Name.Fill(v, d.nameChars.Sanitize)
	}
	if d.Stream != nil {
		t.Stream = d.Stream.Fill(v, d.streamChars.Sanitize)
	}
	return t
}

// Rule is one parsed routing rule.
type Rule struct {
	Text string // as written, for log lines
	Name string // the property it came from, e.g. route.1
	// Terms must all hold for the rule to match (none: every alert).
	Terms      []Term
	Continue   bool
	Drop       bool
	UseDefault bool
	Dest       Destination
	Options    Options
}

// MatchesAll reports whether the rule takes every alert and ends the
// search: no route after it, and no default destination, is ever reached.
func (r Rule) MatchesAll() bool { return !r.Continue && len(r.Terms) == 0 }

// Options are a rule's per-destination options, written after the
// destination as key=value words.
type Options struct {
	// Format is "json" (the event JSON, the default) or "output" (only
	// Falco's output text).
	Format string
	// Storm, when > 0, collapses alerts with the same rule (and the same
	// values of StormBy) within Storm into the first, sent at once, and
	// one later event carrying the count of the others.
	Storm   time.Duration
	StormBy []string
}

// Matches reports whether the rule selects the alert.
func (r *Rule) Matches(a *falco.Alert) bool {
	for _, t := range r.Terms {
		if !t.Match(a) {
			return false
		}
	}
	return true
}

// Glob reports whether s matches pattern, where * matches any run of
// characters (including / and none) and ? any one character, ignoring case.
func Glob(pattern, s string) bool {
	if isASCII(pattern) && isASCII(s) { // Falco's tags and rule names: compared as bytes
		return glob(unsafe.Slice(unsafe.StringData(pattern), len(pattern)), unsafe.Slice(unsafe.StringData(s), len(s)))
	}
	var pb, sb [64]rune // rule names and tags fit: no allocation
	return glob(lowerRunes(pb[:0], pattern), lowerRunes(sb[:0], s))
}

// glob matches s against the pattern p, folding ASCII letters to lower
// case as it compares: on ASCII text byte by byte, without decoding
// either string (every alert's tags meet every tag term); on other text
// on runes already folded as strings.ToLower folds them.
func glob[T byte | rune](p, s []T) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || foldASCII(p[pi]) == foldASCII(s[si])):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func foldASCII[T byte | rune](c T) T {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerRunes appends the runes of strings.ToLower(s) to dst, ASCII without
// building the lower-case string.
func lowerRunes(dst []rune, s string) []rune {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return append(dst[:0], []rune(strings.ToLower(s))...)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, rune(c))
	}
	return dst
}

// Table is an ordered list of rules and the default destinations.
type Table struct {
	Rules    []Rule
	Defaults []Destination
}

// Match is one destination chosen for an alert and the rule that chose it
// ("default" when none did).
type Match struct {
	Target  Target
	Rule    string
	Options Options
}

// Route appends to dst the targets the alert goes to. A rule without
// "continue" ends the search; when no such rule matches, the alert also
// goes to the defaults. dropped reports an alert a "drop" rule discarded
// and that no earlier "continue" rule sent anywhere.
func (t *Table) Route(a *falco.Alert, v Values, dst []Match) (out []Match, dropped bool) {
	out = dst
	for i := range t.Rules {
		r := &t.Rules[i]
		if !r.Matches(a) {
			continue
		}
		switch {
		case r.Drop:
			dropped = true
		case r.UseDefault:
			out = t.appendDefaults(out, v, r.Name)
		default:
			out = appendUnique(out, Match{Target: r.Dest.Resolve(v), Rule: r.Name, Options: r.Options})
		}
		if !r.Continue {
			return out, dropped && len(out) == len(dst)
		}
	}
	return t.appendDefaults(out, v, "default"), false
}

func (t *Table) appendDefaults(out []Match, v Values, rule string) []Match {
	for _, d := range t.Defaults {
		out = appendUnique(out, Match{Target: d.Resolve(v), Rule: rule})
	}
	return out
}

func appendUnique(out []Match, m Match) []Match {
	for _, o := range out {
		if o.Target == m.Target {
			return out
		}
	}
	return append(out, m)
}

// ParseRule parses one rule written as MATCH... -> DESTINATION [continue],
// from the property named property. defaults are what its destination
// may leave out (the stream of cloudwatch:GROUP). The error says what is
// wrong with the text; the caller names the property (config.Error).
func ParseRule(property, text string, defaults Defaults) (Rule, error) {
	r := Rule{Text: text, Name: property}
	bad := func(format string, args ...any) (Rule, error) {
		return Rule{}, fmt.Errorf(format, args...)
	}
	lhs, rhs, ok := strings.Cut(text, "->")
	if !ok {
		return bad(`want "MATCH -> DESTINATION", e.g. "tag=mitre_* -> cloudwatch:/falco/mitre"`)
	}
	terms, err := splitTerms(lhs)
	if err != nil {
		return bad("%v", err)
	}
	if len(terms) == 0 {
		return bad(`no match terms before "->"; use * to match every alert`)
	}
	for _, term := range terms {
		if err := r.addTerm(term); err != nil {
			return bad("%v", err)
		}
	}
	words := strings.Fields(rhs)
	for len(words) > 1 {
		last := words[len(words)-1]
		if strings.EqualFold(last, "continue") {
			r.Continue = true
		} else if err := r.addOption(last); err != nil {
			return bad("%v", err)
		}
		words = words[:len(words)-1]
	}
	if len(words) != 1 {
		return bad(`want one destination after "->" (%s, default or drop), optionally followed by "continue"`, syntaxes())
	}
	switch strings.ToLower(words[0]) {
	case "drop":
		r.Drop = true
		return r, nil
	case "default":
		r.UseDefault = true
		return r, nil
	}
	d, err := ParseDestination(words[0], defaults)
	if err != nil {
		return bad("%v", err)
	}
	r.Dest = d
	return r, nil
}

// OptionNames lists the per-route options.
var OptionNames = []string{"format", "storm", "storm_by", "min_priority"}

func (r *Rule) addOption(word string) error {
	key, value, ok := strings.Cut(word, "=")
	if !ok || value == "" {
		return fmt.Errorf("bad word %q after the destination; want continue or an option: format=json|output, storm=DURATION, storm_by=FIELD[,FIELD...], min_priority=NAME", word)
	}
	switch strings.ToLower(key) {
	case "format":
		switch strings.ToLower(value) {
		case "json", "output":
			r.Options.Format = strings.ToLower(value)
		default:
			return fmt.Errorf("format %q; want json or output", value)
		}
	case "storm":
		d, err := time.ParseDuration(value)
		if err != nil || d < time.Second || d > 24*time.Hour {
			return fmt.Errorf("storm %q; want a duration from 1s to 24h, such as 60s", value)
		}
		r.Options.Storm = d
	case "storm_by":
		for _, f := range strings.Split(value, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				return fmt.Errorf("empty field in storm_by")
			}
			r.Options.StormBy = append(r.Options.StormBy, StormField(f))
		}
	case "min_priority":
		p, ok := falco.ParsePriority(value)
		if !ok {
			return fmt.Errorf("unknown priority %q; allowed: %s", value, falco.PriorityNames())
		}
		r.Terms = append(r.Terms, minPriority(p))
	default:
		return fmt.Errorf("unknown option %q; allowed: %s", key, strings.Join(OptionNames, ", "))
	}
	return nil
}

// StormField maps a storm_by name to an Alert.Field name: the alert's own
// fields by name (hostname, source, cluster...), anything else as an
// output field (proc.cmdline, container.id...).
func StormField(name string) string {
	switch name {
	case "rule", "priority", "source", "hostname", "cluster", "uuid":
		return name
	}
	if strings.HasPrefix(name, "output_fields.") || strings.HasPrefix(name, "kubernetes.") {
		return name
	}
	return "output_fields." + name
}

func (r *Rule) addTerm(term string) error {
	if term == "*" {
		return nil
	}
	key, value, ok := strings.Cut(term, "=")
	if v, ge := strings.CutPrefix(term, "priority>="); ge {
		key, value, ok = "priority>", v, v != ""
	}
	if !ok || value == "" {
		return fmt.Errorf("bad match term %q; want *, %s", term, TermSyntax)
	}
	values := strings.Split(value, ",")
	for i, v := range values {
		values[i] = strings.TrimSpace(v)
		if values[i] == "" {
			return fmt.Errorf("empty value in %q", term)
		}
	}
	parse, ok := termParsers[strings.ToLower(key)]
	if !ok {
		return fmt.Errorf("unknown match key %q; allowed: tag, rule, priority, source", key)
	}
	t, err := parse(values)
	if err != nil {
		return err
	}
	r.Terms = append(r.Terms, t)
	return nil
}

// splitTerms splits on spaces outside double quotes and removes the quotes.
func splitTerms(s string) ([]string, error) {
	var terms []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, c := range s {
		switch {
		case c == '"':
			inQuote = !inQuote
			have = true
		case (c == ' ' || c == '\t') && !inQuote:
			if have {
				terms = append(terms, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(c)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if have {
		terms = append(terms, cur.String())
	}
	return terms, nil
}

// ParseDestination parses KIND:REST, for the kinds registered with
// RegisterKind: cloudwatch:GROUP[:STREAM], firehose:NAME, sns:TOPIC_ARN.
// defaults are what it may leave out, per kind (nil: nothing).
func ParseDestination(s string, defaults Defaults) (Destination, error) {
	kind, rest, hasRest := strings.Cut(s, ":")
	spec, ok := lookupKind(kind)
	switch {
	case ok && spec.Nameless && !hasRest:
		return spec.Parse("", defaults[spec.Kind])
	case ok && spec.Nameless:
		return Destination{}, fmt.Errorf("bad destination %q: %s takes no name; write %s", s, kind, spec.Syntax)
	case !hasRest || rest == "":
		if !ok && !hasRest && !strings.ContainsAny(s, " \t") {
			return Destination{}, unknownKind(kind, s)
		}
		return Destination{}, fmt.Errorf("bad destination %q; want %s", s, syntaxes())
	case !ok:
		return Destination{}, unknownKind(kind, s)
	}
	return spec.Parse(rest, defaults[spec.Kind])
}
