package falco

import (
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/falcocw/falcocw/falcocw/arena"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
)

// This file is falcocw's fast path for the common case: the alert is Falco's
// JSON line in a string field (FireLens, the Kubernetes tail input). It reads
// Falco's top-level keys straight into the Alert, without building a map of
// the whole line, and keeps output_fields as the validated JSON text Falco
// printed: the event carries it as is, and it is decoded only if a template
// or storm_by asks for one of its fields. Anything unusual (escaped keys,
// duplicate keys, non-string scalars, numbers JSON does not allow, deep
// nesting, invalid UTF-8) makes it give up, and the general path
// (decodeJSONObject, fromMap) handles the line. FuzzFastPath and
// TestFastPathMatchesGeneralPath check that both give the same event.

// workloadIndex returns the slot in Alert.workload of an output field the
// context object reads (workloadFields), or -1.
func workloadIndex(field string) int {
	switch field {
	case "k8s.ns.name":
		return 0
	case "k8s.pod.name":
		return 1
	case "container.name":
		return 2
	case "container.id":
		return 3
	case "container.image.repository":
		return 4
	}
	return -1
}

// maxRawDepth bounds the nesting the fast path accepts in output_fields,
// below the general path's writer limit, so both write the same.
const maxRawDepth = 32

type scanner struct {
	s   string
	pos int
	// specials finds where each string ends (jsonstr.Specials).
	specials jsonstr.Specials
	// ascii says the line is all ASCII; clean, after a string was read,
	// that its value has nothing to escape (no quote, backslash, control
	// character or non-ASCII byte): the event writer then copies it as it
	// is (see cleanBits).
	ascii, clean bool
	// cleanWorkload has bit i set when workload value i is clean.
	cleanWorkload cleanBits
	// texts holds the strings unescaped for the alert (nil: the heap).
	texts *arena.Arena
}

// textBuffer returns room for a string unescaped, from texts.
func (sc *scanner) textBuffer(n int) []byte {
	if sc.texts == nil {
		return make([]byte, 0, n)
	}
	return sc.texts.Buffer(n)
}

// keepText keeps b, written in textBuffer's room, as a string.
func (sc *scanner) keepText(b []byte) string {
	if sc.texts != nil {
		b = sc.texts.Keep(b)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// ws skips whitespace. Falco prints none: one compare says so, inlined.
func (sc *scanner) ws() {
	if sc.pos < len(sc.s) && sc.s[sc.pos] > ' ' {
		return
	}
	sc.skipWS()
}

func (sc *scanner) skipWS() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

func (sc *scanner) peek() byte {
	if sc.pos < len(sc.s) {
		return sc.s[sc.pos]
	}
	return 0
}

// str reads a JSON string and returns its value; ok is false for anything
// invalid.
func (sc *scanner) str() (string, bool) { return sc.text(true) }

// skipStr checks a JSON string whose value is not needed (inside
// output_fields, kept as text): an escaped one is not unescaped.
func (sc *scanner) skipStr() bool {
	_, ok := sc.text(false)
	return ok
}

// text reads a JSON string; keep says whether its value is wanted.
func (sc *scanner) text(keep bool) (string, bool) {
	if sc.peek() != '"' {
		return "", false
	}
	sc.pos++
	start := sc.pos
	sc.pos = sc.specials.Next(sc.pos)
	switch {
	case sc.pos == len(sc.s):
		return "", false
	case sc.s[sc.pos] == '"':
		v := sc.s[start:sc.pos]
		sc.pos++
		sc.clean = sc.ascii
		return v, true
	case sc.s[sc.pos] == '\\':
		sc.clean = false
		return sc.escaped(start, keep)
	default: // a control character
		return "", false
	}
}

// value checks one JSON value; in an object at depth 1 it reports the
// string values of the workload fields through found.
func (sc *scanner) value(depth int) bool {
	if depth > maxRawDepth {
		return false
	}
	sc.ws()
	switch c := sc.peek(); {
	case c == '"':
		return sc.skipStr()
	case c == '{':
		return sc.object(depth+1, nil)
	case c == '[':
		sc.pos++
		sc.ws()
		if sc.peek() == ']' {
			sc.pos++
			return true
		}
		for {
			if !sc.value(depth + 1) {
				return false
			}
			sc.ws()
			switch sc.peek() {
			case ',':
				sc.pos++
			case ']':
				sc.pos++
				return true
			default:
				return false
			}
		}
	case c == 't':
		return sc.lit("true")
	case c == 'f':
		return sc.lit("false")
	case c == 'n':
		return sc.lit("null")
	default:
		return sc.number()
	}
}

func (sc *scanner) lit(word string) bool {
	if strings.HasPrefix(sc.s[sc.pos:], word) {
		sc.pos += len(word)
		return true
	}
	return false
}

// object checks a JSON object without duplicate or escaped keys; when
// workload is not nil it receives the string values of the workload
// fields.
func (sc *scanner) object(depth int, workload *[5]string) bool {
	if sc.peek() != '{' {
		return false
	}
	sc.pos++
	var room [32]string // the keys seen, on the stack for objects of usual size
	keys := room[:0]
	var seen uint64 // a bit per key seen, by keyBit: most keys need no comparison
	sc.ws()
	if sc.peek() == '}' {
		sc.pos++
		return true
	}
	for {
		sc.ws()
		key, ok := sc.rawKey()
		if !ok {
			return false
		}
		if bit := keyBit(key); seen&bit == 0 {
			seen |= bit
		} else {
			for _, k := range keys {
				if k == key {
					return false // duplicate: the general path decides which wins
				}
			}
		}
		if len(keys) >= 256 {
			return false
		}
		keys = append(keys, key)
		sc.ws()
		if sc.peek() != ':' {
			return false
		}
		sc.pos++
		sc.ws()
		wi := -1
		if workload != nil {
			wi = workloadIndex(key)
		}
		switch {
		case wi >= 0:
			v, ok := sc.str() // not a string: the general path formats it
			if !ok {
				return false
			}
			workload[wi] = v
			if sc.clean {
				sc.cleanWorkload |= cleanWorkload0 << wi
			}
		case sc.peek() == '"':
			// Most values are strings without escapes: the map has their
			// end; the rest take skipStr from the opening quote.
			if end := sc.specials.Next(sc.pos + 1); end < len(sc.s) && sc.s[end] == '"' {
				sc.pos = end + 1
			} else if !sc.skipStr() {
				return false
			}
		case !sc.value(depth):
			return false
		}
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.pos++
		case '}':
			sc.pos++
			return true
		default:
			return false
		}
	}
}

// keyBit is one bit of 64 chosen by a key's length and two of its bytes:
// keys with different bits differ, so a key whose bit no earlier key set
// needs no comparison to know it is new.
func keyBit(key string) uint64 {
	h := uint(len(key))
	if len(key) > 0 {
		h = h*31 + uint(key[len(key)-1])
		h = h*31 + uint(key[len(key)/2])
	}
	return 1 << (h & 63)
}

// rawKey reads an object key without escapes.
func (sc *scanner) rawKey() (string, bool) {
	if sc.peek() != '"' {
		return "", false
	}
	rest := sc.s[sc.pos+1:]
	end := sc.specials.Next(sc.pos+1) - (sc.pos + 1)
	if end == len(rest) || rest[end] != '"' {
		return "", false // unterminated, escaped or holding a control character
	}
	key := rest[:end]
	sc.pos += end + 2
	return key, true
}

// parseFast reads a Falco JSON line. handled is false when the general
// path must decide; otherwise ok says whether the line is a Falco alert.
// The alert comes from s (the heap when s is nil); one the line turns out
// not to be goes back to it.
func parseFast(s *Alerts, line string, recordTime time.Time) (a *Alert, ok, handled bool) {
	sc := &scanner{s: line, texts: s.textArena()}
	sc.ascii = sc.specials.Map(line)
	if !sc.ascii && !utf8.ValidString(line) {
		return nil, false, false
	}
	sc.ws()
	if sc.peek() != '{' {
		return nil, false, false
	}
	sc.pos++
	a = s.newAlert()
	if ok, handled = a.parseFast(s, sc, line, recordTime); !ok {
		s.drop(a)
		return nil, false, handled
	}
	return a, true, true
}

func (a *Alert) parseFast(s *Alerts, sc *scanner, line string, recordTime time.Time) (ok, handled bool) {
	// have has a bit per key read into the alert: one seen twice sends
	// the line to the general path, which decides which wins.
	const (
		hRule = 1 << iota
		hPriority
		hOutput
		hFields
		hTime
		hTags
		hSource
		hHostname
		hUUID
	)
	var have uint16
	var prio, ts string
	sc.ws()
	if sc.peek() == '}' {
		return false, false
	}
	for {
		sc.ws()
		key, kok := sc.rawKey()
		if !kok {
			return false, false
		}
		sc.ws()
		if sc.peek() != ':' {
			return false, false
		}
		sc.pos++
		sc.ws()
		var v string
		var sok bool
		var h uint16 // the key's bit in have
		switch key {
		case "rule", "priority", "output", "source", "hostname", "uuid", "time":
			if v, sok = sc.str(); !sok {
				return false, false // not a string: the general path formats it
			}
			var bit cleanBits
			switch key {
			case "rule":
				a.Rule, h, bit = v, hRule, cleanRule
			case "priority":
				prio, h = v, hPriority
			case "output":
				a.Output, h, bit = v, hOutput, cleanOutput
			case "source":
				a.Source, h, bit = v, hSource, cleanSource
			case "hostname":
				a.Hostname, h, bit = v, hHostname, cleanHostname
			case "uuid":
				a.UUID, h, bit = v, hUUID, cleanUUID
			case "time":
				ts, h = v, hTime
			}
			if sc.clean {
				a.clean |= bit
			}
		case "tags":
			tagsClean, tok := sc.tags(s, a)
			if !tok {
				return false, false
			}
			h = hTags
			if tagsClean {
				a.clean |= cleanTags
			}
		case "output_fields":
			start := sc.pos
			if !sc.object(1, &a.workload) {
				return false, false
			}
			a.rawFields = line[start:sc.pos]
			a.hasWorkload = true
			a.clean |= sc.cleanWorkload
			h = hFields
		case "kubernetes", "stream", "log":
			return false, false
		default:
			if isECSKey(key) {
				return false, false
			}
			if v, sok = sc.str(); !sok {
				return false, false // another type in Extra: the general path
			}
			if a.Extra == nil {
				a.Extra = map[string]any{}
			}
			if _, dup := a.Extra[key]; dup {
				return false, false
			}
			a.Extra[key] = v
		}
		if have&h != 0 {
			return false, false
		}
		have |= h
		sc.ws()
		if sc.peek() == ',' {
			sc.pos++
			continue
		}
		if sc.peek() != '}' {
			return false, false
		}
		sc.pos++
		break
	}
	sc.ws()
	if sc.pos != len(line) {
		return false, false
	}
	return a.finishFast(prio, ts, have&hTime != 0, have&hTags != 0, have&(hOutput|hFields|hTime) != 0, recordTime), true
}

// finishFast decides, as looksLikeAlert does, whether what parseFast read
// is an alert, and reads its priority and time.
func (a *Alert) finishFast(prio, ts string, hasTime, hasTags, hasBody bool, recordTime time.Time) bool {
	p, pok := ParsePriority(prio)
	if strings.TrimSpace(a.Rule) == "" || prio == "" || !pok || !hasBody {
		return false
	}
	a.Priority = p
	a.Time, a.TimeFromRecord = recordTime, true
	switch {
	case !hasTime: // (no time.Parse of "": its error is an allocation)
	case isTimeFormat(ts): // Falco's own form: read at once, kept as text
		if t, ok := parseTimeFormat(ts); ok {
			a.Time, a.TimeFromRecord, a.timeText = t, false, ts
		}
	default:
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ts)); err == nil {
			a.Time, a.TimeFromRecord = t.UTC(), false
		}
	}
	if !hasTags {
		a.Tags = nil
	}
	return true
}

// tags reads a JSON array of strings into the alert's tags (room from s),
// and reports whether none of them needs escaping.
func (sc *scanner) tags(s *Alerts, a *Alert) (clean, ok bool) {
	if sc.peek() != '[' {
		return false, false
	}
	sc.pos++
	a.Tags = s.tagRoom()
	clean = true
	sc.ws()
	if sc.peek() == ']' {
		sc.pos++
		return clean, true
	}
	for {
		sc.ws()
		t, tok := sc.str()
		if !tok {
			return false, false
		}
		a.Tags = append(a.Tags, t)
		clean = clean && sc.clean
		sc.ws()
		if sc.peek() == ',' {
			sc.pos++
			continue
		}
		if sc.peek() != ']' {
			return false, false
		}
		sc.pos++
		return clean, true
	}
}
