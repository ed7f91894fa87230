package falcocw

import (
	"strings"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
	"github.com/falcocw/falcocw/falcocw/route"
)

// encoded holds an event's JSON, cut to a service's limit on demand. An
// alert's event bound for quoted senders (dest.Takes) alone is written as a JSON
// string instead (quoted, its plain length quotedLen), and full is nil.
type encoded struct {
	alert     *falco.Alert
	full      []byte
	quoted    []byte
	quotedLen int
	cut       map[int][]byte
	output    *encoded     // the format=output form, made on first use
	textOf    *falco.Alert // set on an output-text form: the alert it shows
}

// as returns the event in a route's format: the JSON, or for "output" only
// Falco's output text (the JSON when the alert has none).
func (e *encoded) as(format string) *encoded {
	if format != "output" || e.alert == nil || e.alert.Output == "" {
		return e
	}
	if e.output == nil {
		e.output = &encoded{alert: nil, full: []byte(strings.ToValidUTF8(e.alert.Output, "\uFFFD"))}
		e.output.textOf = e.alert
	}
	return e.output
}

// len is the length of the event, unescaped.
func (e *encoded) len() int {
	if e.quoted != nil {
		return e.quotedLen
	}
	return len(e.full)
}

// item is the event as an item for a target whose events may have limit
// bytes: the event itself, or cut to the limit (truncated).
func (e *encoded) item(limit int) (it dest.Item, truncated bool) {
	if e.quoted != nil && e.quotedLen <= limit {
		return dest.Item{Quoted: e.quoted, QuotedLen: e.quotedLen}, false
	}
	b, truncated := e.limited(limit)
	return dest.Item{Payload: b}, truncated
}

func (e *encoded) limited(limit int) (b []byte, truncated bool) {
	if e.quoted == nil && len(e.full) <= limit {
		return e.full, false
	}
	if b, ok := e.cut[limit]; ok {
		return b, true
	}
	switch {
	case e.textOf != nil: // output text: cut it, on a character boundary
		b = []byte(jsonstr.Truncate(string(e.full), limit))
	case e.alert != nil:
		b, _ = e.alert.JSON(limit)
	default:
		b = falco.AppendRecordJSON(nil, map[string]any{
			falco.TruncatedKey: true, "log": string(e.full[:max(0, limit-100)])})
		if len(b) > limit {
			b = []byte(`{"` + falco.TruncatedKey + `":true}`)
		}
	}
	if e.cut == nil {
		e.cut = map[int][]byte{}
	}
	e.cut[limit] = b
	return b, true
}

// plan is a flush's events grouped by target, in first-seen order:
// items[i] go to order[i]. items may be longer than order: the emptied
// slices of an earlier flush, kept for their room (reset).
type plan struct {
	order []route.Target
	items [][]dest.Item
	index map[route.Target]int
	last  int // the index added to last: consecutive alerts mostly share a target
	// notes are the problems met record by record, logged once per kind
	// when the flush ends.
	notes notes
	// releases are the requests to hand back to their senders once
	// every one of them is answered.
	releases []release
}

// release is a target's requests, to give back to their sender.
type release struct {
	to   dest.Sender
	reqs []dest.Request
}

// releaseRequests gives every request back to its sender.
func (p *plan) releaseRequests() {
	for _, r := range p.releases {
		r.to.Release(r.reqs)
	}
	clear(p.releases)
	p.releases = p.releases[:0]
}

func (p *plan) add(t route.Target, it dest.Item) {
	i := p.last
	if i >= len(p.order) || p.order[i] != t {
		var ok bool
		if i, ok = p.index[t]; !ok {
			i = len(p.order)
			p.order = append(p.order, t)
			if i == len(p.items) { // else items[i] is an emptied slice of an earlier flush
				p.items = append(p.items, nil)
			}
			p.index[t] = i
		}
		p.last = i
	}
	p.items[i] = append(p.items[i], it)
}

// reset empties the plan for another flush, keeping the items' room.
func (p *plan) reset() {
	for i := range p.items {
		clear(p.items[i])
		p.items[i] = p.items[i][:0]
	}
	clear(p.order)
	p.order = p.order[:0]
	clear(p.index)
	p.last = 0
	p.notes.list = p.notes.list[:0]
}
