package route

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Kind names a kind of destination, the word before the colon in a route:
// "cloudwatch", "firehose", "sns". Each destination package declares its
// Kind and registers its syntax with RegisterKind.
type Kind string

func (k Kind) String() string { return string(k) }

// KindSpec is what routing needs of a kind of destination: how what
// follows "KIND:" is read.
type KindSpec struct {
	Kind Kind
	// Aliases are other words for the kind (cloudwatch_logs, logs).
	Aliases []string
	// Syntax shows the destination as written, for errors and docs:
	// cloudwatch:GROUP[:STREAM].
	Syntax string
	// Nameless is set for a kind written alone, without ":NAME"
	// (securityhub: the findings go to the account and region).
	Nameless bool
	// Parse reads what follows "KIND:" ("" for a Nameless kind). def is
	// what the instance's properties set for what a destination of the
	// kind may leave out (Defaults), nil when nothing: the default stream
	// of cloudwatch:GROUP.
	Parse func(rest string, def *Template) (Destination, error)
}

// Defaults are, per kind, what the instance's properties set for what a
// destination of the kind may leave out (the stream of cloudwatch:GROUP,
// from log_stream_name).
type Defaults map[Kind]*Template

var (
	kindsMu sync.RWMutex
	kinds   = map[string]KindSpec{} // by kind and alias, lower-case
	specs   []KindSpec
)

// RegisterKind makes a kind of destination known to route parsing. The
// destination packages call it from init; registering a word twice is a
// bug and panics.
func RegisterKind(s KindSpec) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	for _, w := range append([]string{string(s.Kind)}, s.Aliases...) {
		w = strings.ToLower(w)
		if _, dup := kinds[w]; dup {
			panic("route: destination kind " + w + " registered twice")
		}
		kinds[w] = s
	}
	specs = append(specs, s)
	sort.Slice(specs, func(i, j int) bool { return specs[i].Kind < specs[j].Kind })
}

// Kinds returns every registered kind, by name.
func Kinds() []KindSpec {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	return append([]KindSpec(nil), specs...)
}

func lookupKind(word string) (KindSpec, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	s, ok := kinds[strings.ToLower(word)]
	return s, ok
}

// syntaxes lists the registered destinations as written, for errors.
func syntaxes() string {
	var out []string
	for _, s := range Kinds() {
		out = append(out, s.Syntax)
	}
	return strings.Join(out, ", ")
}

// Charset is the characters a name may hold, and how a value filled into
// a template is made to fit: each character outside it becomes '_'.
type Charset struct {
	valid func(rune) bool
	ascii [128]bool
	max   int
}

// NewCharset returns the charset of names made of characters valid
// accepts, at most max bytes long.
func NewCharset(valid func(rune) bool, max int) *Charset {
	cs := &Charset{valid: valid, max: max}
	for c := range cs.ascii {
		cs.ascii[c] = valid(rune(c))
	}
	return cs
}

// Template parses a name template whose literal text must fit the charset.
func (cs *Charset) Template(s string) (*Template, error) { return ParseTemplate(s, cs.valid, cs.max) }

// Sanitize replaces each character outside the charset by '_'. The usual
// name (a host name, a namespace) is checked by table, without a call per
// character, and returned as it is.
func (cs *Charset) Sanitize(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || !cs.ascii[c] {
			return sanitizeWith(s, cs.valid)
		}
	}
	return s
}

// IsAlnum reports an ASCII letter or digit, the base of AWS's name rules.
func IsAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// NewDestination is a destination of kind with its name template (filled
// values made to fit nameChars) and, for kinds that have one, its stream
// template (streamChars).
func NewDestination(kind Kind, name *Template, nameChars *Charset, stream *Template, streamChars *Charset) Destination {
	return Destination{Kind: kind, Name: name, Stream: stream, nameChars: nameChars, streamChars: streamChars}
}

func unknownKind(kind, s string) error {
	return fmt.Errorf("unknown destination kind %q in %q; want %s", kind, s, syntaxes())
}
