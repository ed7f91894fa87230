package falco

import (
	"bytes"
	"strings"
	"unsafe"

	"github.com/falcocw/falcocw/falcocw/jsonstr"
)

// eventWriter writes an alert's event JSON in one of two forms: plain, or
// quoted: already as the JSON string a CloudWatch Logs request body carries
// it in ("message":"{\"time\":...}"). Writing the quoted form at once
// spares the escaping pass over the whole event: the writer knows where
// its own quotes are (the keys' are written from pre-escaped literals),
// escapes its string values twice in one go (jsonstr.AppendTwice), and
// escapes only the JSON text it copies (output_fields as the line had it).
// Either way plain counts the length of the plain JSON: CloudWatch's limits
// count the message unescaped.
type eventWriter struct {
	b      []byte
	quoted bool
	plain  int
}

// lit is a piece of the event's own JSON text (a key and its punctuation)
// in both forms. Literals hold no backslash, control or non-ASCII byte, so
// the quoted form only escapes their quotes.
type lit struct{ plain, quoted string }

func mkLit(s string) lit { return lit{s, strings.ReplaceAll(s, `"`, `\"`)} }

var (
	litTime         = mkLit(`{"time":"`)
	litID           = mkLit(`","id":"`)
	litRule         = mkLit(`","rule":`)
	litPriority     = mkLit(`,"priority":`)
	litSource       = mkLit(`,"source":`)
	litHostname     = mkLit(`,"hostname":`)
	litTags         = mkLit(`,"tags":[`)
	litOutput       = mkLit(`,"output":`)
	litOutputFields = mkLit(`,"output_fields":`)
	litUUID         = mkLit(`,"uuid":`)
	litKubernetes   = mkLit(`,"kubernetes":`)
	litContext      = mkLit(`,"` + ContextKey + `":{`)
)

func (w *eventWriter) lit(l lit) {
	w.plain += len(l.plain)
	if w.quoted {
		w.b = append(w.b, l.quoted...)
		return
	}
	w.b = append(w.b, l.plain...)
}

// punct writes punctuation other than a quote.
func (w *eventWriter) punct(c byte) {
	w.plain++
	w.b = append(w.b, c)
}

// key writes "name": for a name of this package's own (plain ASCII).
func (w *eventWriter) key(name string) {
	w.plain += len(name) + 3
	if w.quoted {
		w.b = append(w.b, `\"`...)
		w.b = append(w.b, name...)
		w.b = append(w.b, `\":`...)
		return
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, `":`...)
}

// str writes s as a JSON string value.
func (w *eventWriter) str(s string) {
	if w.quoted {
		var n int
		w.b, n = jsonstr.AppendTwice(w.b, s)
		w.plain += n
		return
	}
	start := len(w.b)
	w.b = jsonstr.Append(w.b, s)
	w.plain += len(w.b) - start
}

// cleanStr writes s as a JSON string value; clean says s needs no
// escaping (cleanBits), so it is copied as it is.
func (w *eventWriter) cleanStr(s string, clean bool) {
	if !clean {
		w.str(s)
		return
	}
	w.plain += len(s) + 2
	if w.quoted {
		w.b = append(w.b, `\"`...)
		w.b = append(w.b, s...)
		w.b = append(w.b, `\"`...)
		return
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

// grew counts what a writer appended at once from start on, when that
// needs no escaping in either form (the time, the id: digits, letters and
// '-', ':', '.').
func (w *eventWriter) grew(start int) { w.plain += len(w.b) - start }

// json writes JSON text: output_fields as the line had it, a pod's
// kubernetes map as written once per flush.
func (w *eventWriter) json(s string) {
	w.plain += len(s)
	if w.quoted {
		w.b = jsonstr.AppendContent(w.b, s)
		return
	}
	w.b = append(w.b, s...)
}

// value writes a decoded value as writeValue does.
func (w *eventWriter) value(v any) {
	if !w.quoted {
		buf := bytes.NewBuffer(w.b)
		writeValue(buf, v, 1)
		w.plain += buf.Len() - len(w.b)
		w.b = buf.Bytes()
		return
	}
	var buf bytes.Buffer // the rare path (decoded fields, extra keys): write, then escape
	writeValue(&buf, v, 1)
	w.json(unsafe.String(unsafe.SliceData(buf.Bytes()), buf.Len())) // read before buf is dropped
}
