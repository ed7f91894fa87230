package falcocw

import (
	"fmt"
	"reflect"
	"time"
	"unsafe"

	"github.com/falcocw/falcocw/falcocw/arena"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/emf"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/falcocw/storm"
)

// flushRun is a flush's work on its chunk before delivery: the records it
// decodes, the alerts it recognises and routes, and the plan of what each
// destination is sent, with what it holds until the flush is released.
type flushRun struct {
	in      *Instance
	tag     string
	data    []byte
	at      *attempt
	res     *Result
	records *chunk.Reader
	lastBad chunk.BadRecord
	scratch *scratch
	p       *plan
	events  arena.Arena // the event JSON of the flush's alerts
	// kubeJSON is each pod's kubernetes object written once, for all of
	// the pod's records.
	kubeJSON map[unsafe.Pointer][]byte
	metrics  *emf.Aggregator // nil without metrics_namespace
}

func (in *Instance) newFlushRun(tag string, data []byte) *flushRun {
	f := &flushRun{in: in, tag: tag, data: data, at: in.newAttempt(tag, data),
		res:     &Result{Delivered: map[string]int{}, Undelivered: map[string]int{}},
		scratch: newScratch(), kubeJSON: map[unsafe.Pointer][]byte{}}
	f.p = &f.scratch.plan
	if m := in.cfg.Metrics; m != nil {
		f.metrics = emf.NewAggregator(m.Namespace, m.Dimensions)
	}
	return f
}

// release gives back what the flush's events and plan hold.
func (f *flushRun) release() {
	f.p.releaseRequests()
	f.events.Release()
	f.scratch.release()
}

// read decodes the chunk's records; each is recognised, routed and
// written as its event as soon as it is decoded.
func (f *flushRun) read() {
	f.records = chunk.NewReader(f.data)
	for {
		rec, bad, more := f.records.Next()
		if !more {
			return
		}
		f.res.Records++
		f.at.record(&rec)
		if bad != nil {
			f.res.Malformed++
			f.lastBad = *bad
			f.in.note(&f.p.notes, config.LevelWarn, "tag "+f.tag+": malformed record skipped", func() string { return bad.Error() })
			continue
		}
		alert, ok := recognise(&f.scratch.alerts, &rec, f.in.cfg.LogKey)
		if !ok {
			f.nonFalco(&rec)
			continue
		}
		f.route(alert, &rec)
	}
}

// nonFalco handles a record that is not a Falco alert: it says once why,
// when it looks like part of one, and sends it where non_falco says.
func (f *flushRun) nonFalco(rec *chunk.Record) {
	in, res := f.in, f.res
	res.NonFalco++
	in.warnNotAlert(f.tag, rec, res)
	nf := in.cfg.NonFalco
	if nf == nil {
		return
	}
	e := &encoded{full: falco.AppendRecordJSON(nil, rec.Map())}
	v := route.Values{Tag: f.tag}
	if !nf.UseDefault {
		f.add(nf.Dest.Resolve(v), rec.Index, e, rec.Time)
		return
	}
	for _, d := range in.cfg.Routes.Defaults {
		f.add(d.Resolve(v), rec.Index, e, rec.Time)
	}
}

// route sends an alert where its routes say: its event written once, in
// the form its destinations take, and added for each target, unless a
// route's storm control holds it back.
func (f *flushRun) route(alert *falco.Alert, rec *chunk.Record) {
	in, res := f.in, f.res
	res.Alerts++
	alert.Cluster = in.cfg.Cluster
	if alert.Cluster == "" {
		alert.Cluster = alert.ECS["ecs_cluster"]
	}
	if f.metrics != nil {
		f.metrics.Add(alert)
	}
	if alert.TimeFromRecord {
		res.TimeFromRecord++
		if !in.warnedTime.Swap(true) {
			in.logf(config.LevelWarn, "alert %s has no usable time field: using the Fluent Bit record's timestamp, for this and later such alerts (said once)", alert)
		}
	}
	var dropped bool
	f.scratch.matches, dropped = in.cfg.Routes.Route(alert, route.Values{Alert: alert, Tag: f.tag}, f.scratch.matches[:0])
	matches := f.scratch.matches
	if dropped {
		res.Dropped++
		in.logf(config.LevelDebug, "alert %s dropped by a route", alert)
		return
	}
	if alert.Kubernetes != nil { // shared by the records of a pod: write it once
		k := reflect.ValueOf(alert.Kubernetes).UnsafePointer()
		if f.kubeJSON[k] == nil {
			f.kubeJSON[k] = falco.KubernetesJSON(alert.Kubernetes)
		}
		alert.UseKubernetesJSON(f.kubeJSON[k])
	}
	e := f.scratch.encoded.New()
	if in.quotedOnly(matches) {
		q, n := alert.AppendJSONQuoted(f.events.Buffer(alert.SizeHint() * 3 / 2)) // room for the escapes
		*e = encoded{alert: alert, quoted: f.events.Keep(q), quotedLen: n}
	} else {
		*e = encoded{alert: alert, full: f.events.Keep(alert.AppendJSON(f.events.Buffer(alert.SizeHint())))}
	}
	for _, m := range matches {
		if m.Options.Storm > 0 && !in.storm.Admit(storm.Key(m, alert), storm.ID{Chunk: f.at.Key(), Index: rec.Index}, m, alert) {
			res.Suppressed++
			continue
		}
		f.add(m.Target, rec.Index, e.as(m.Options.Format), alert.Time)
	}
}

// add plans event e of record id for target t, unless the attempt leaves
// it out (delivered before, or still in flight).
func (f *flushRun) add(t route.Target, id int, e *encoded, ts time.Time) {
	if f.at.skip(f.res, t, id, true) {
		return
	}
	f.in.addItem(f.res, f.p, t, id, e, ts)
}

// addMetrics adds the flush's metric records, with ids after the
// records' in a stable order, so that the ledger knows them on a retry.
func (f *flushRun) addMetrics() {
	if f.metrics == nil {
		return
	}
	t := f.in.cfg.Metrics.Target
	for i, r := range f.metrics.Records() {
		id := f.res.Records + i
		if f.at.skip(f.res, t, id, false) {
			continue
		}
		f.p.add(t, dest.Item{ID: id, Time: r.Time, Payload: r.JSON, Metric: true})
		f.res.Metrics++
	}
}

// addItem adds event e of record id to the plan for target t, cut to
// what the target's kind takes (with a note when it is).
func (in *Instance) addItem(res *Result, p *plan, t route.Target, id int, e *encoded, ts time.Time) {
	limit := in.sender(t.Kind).Takes().MaxPayload
	it, cut := e.item(limit)
	alert := e.alert
	if e.textOf != nil {
		alert = e.textOf
	}
	if cut {
		res.Truncated++
		in.note(&p.notes, config.LevelWarn, fmt.Sprintf("event over the %d-byte limit of %s delivered truncated, marked %q", limit, t, falco.TruncatedKey),
			func() string {
				what := "record"
				if e.alert != nil {
					what = "alert " + e.alert.String()
				}
				return fmt.Sprintf("%s of %d bytes", what, e.len())
			})
	}
	it.ID, it.Time, it.Alert = id, ts, alert
	p.add(t, it)
}

// quotedOnly reports whether every route that delivers an alert's event
// (not its output text alone) goes to a sender that takes it quoted
// (dest.Takes), so that the event is written as a JSON string at once
// (Item.Quoted).
func (in *Instance) quotedOnly(matches []route.Match) bool {
	quoted := false
	for _, m := range matches {
		if m.Options.Format == "output" {
			continue // the output text: e.as makes its own
		}
		if !in.sender(m.Target.Kind).Takes().Quoted {
			return false
		}
		quoted = true
	}
	return quoted
}
