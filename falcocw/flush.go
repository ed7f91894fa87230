package falcocw

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unsafe"

	"github.com/falcocw/falcocw/falcocw/arena"
	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/emf"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/health"
	"github.com/falcocw/falcocw/falcocw/journal"
	"github.com/falcocw/falcocw/falcocw/ledger"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/falcocw/storm"
)

// Flush decodes a chunk, routes its alerts and delivers them, waiting for
// each destination only while it answers (deliver). When Fluent Bit
// flushes the same chunk again after a Retry, events that a destination
// accepted before, or that a request of an earlier attempt still carries,
// are not sent there again.
func (in *Instance) Flush(ctx context.Context, tag string, data []byte) Result {
	start := time.Now()
	if !in.enter() {
		return Result{Status: Retry, Failures: []string{"the plugin is shutting down"}}
	}
	need := flushMemory(len(data))
	if !in.reserve(need) {
		in.leave()
		in.logf(config.LevelWarn, "memory_limit %d MiB reached (%d MiB held by flushes in progress, %d KiB by %d chunks waiting for a retry): "+
			"answering retry for a chunk of %d KiB; raise memory_limit or lower workers", in.cfg.MemoryLimit>>20,
			in.memory.Load()>>20, in.ledger.Bytes()>>10, in.ledger.Len(), len(data)>>10)
		in.stats.Retries.Add(1)
		return Result{Status: Retry, Failures: []string{"memory_limit reached"}, Duration: time.Since(start)}
	}
	// Fluent Bit frees the chunk when the flush returns, and the alerts
	// share its bytes; a request the flush stops waiting for goes on
	// after it (deliver), so the flush works on a copy of its own.
	own := ownChunk(data)
	data = *own
	// A request retries until flush_timeout, then starts no new attempt;
	// one already sent gets AnswerWait more to be answered, so that what
	// AWS accepted is known. The flush does not wait that long for a
	// destination (destination_wait): its answer is recorded when it comes.
	rctx, cancel := context.WithTimeout(in.shutdown, in.cfg.FlushTimeout+AnswerWait)
	rctx = awsclient.WithStartBy(rctx, start.Add(in.cfg.FlushTimeout))
	stop := context.AfterFunc(ctx, cancel) // the caller gives up: so do the requests

	// The chunk's key (a hash of all of it) is needed only to look up or
	// remember its progress across retries: while no chunk waits for a
	// retry, as when every destination answers, a flush does not hash.
	var key ledger.Key
	keyed := false
	keyOf := func() ledger.Key {
		if !keyed {
			key, keyed = ledger.KeyOf(tag, data), true
		}
		return key
	}
	var before, inFlight ledger.Progress
	if in.ledger.Len() > 0 {
		before, inFlight = in.ledger.Get(keyOf()), in.ledger.InFlight(keyOf())
	}
	res := Result{Delivered: map[string]int{}, Undelivered: map[string]int{}}

	scratch := newScratch()
	p := &scratch.plan
	p.inFlight = inFlight
	var events arena.Arena // the event JSON of this flush's alerts
	kubeJSON := map[unsafe.Pointer][]byte{}
	var metrics *emf.Aggregator
	if m := in.cfg.Metrics; m != nil {
		metrics = emf.NewAggregator(m.Namespace, m.Dimensions)
	}
	// Each record is recognised, routed and written as its event as soon
	// as it is decoded.
	records := chunk.NewReader(data)
	var lastBad chunk.BadRecord
	// With a journal, each record is known by the hash of its bytes: the
	// deliveries are written down under it, and while earlier runs' keys
	// are loaded (Fluent Bit replaying its storage) checked against it.
	var recordHashes []uint64
	replaying := in.journal != nil && in.journal.Replaying()
	for {
		rec, bad, more := records.Next()
		if !more {
			break
		}
		res.Records++
		if in.journal != nil {
			for len(recordHashes) <= rec.Index {
				recordHashes = append(recordHashes, 0)
			}
			recordHashes[rec.Index] = journal.RecordHash(rec.Raw)
		}
		if bad != nil {
			res.Malformed++
			lastBad = *bad
			in.note(&p.notes, config.LevelWarn, "tag "+tag+": malformed record skipped", func() string { return bad.Error() })
			continue
		}
		alert, ok := recognise(&scratch.alerts, &rec, in.cfg.LogKey)
		if !ok {
			res.NonFalco++
			switch {
			case isPiece(&rec):
				res.Cut++
				if !in.warnedPiece.Swap(true) {
					in.logf(config.LevelWarn, "tag %s: record %d is a piece of a line over 16 KiB that Docker's log driver split (partial_message): "+
						"it is handled as non-Falco, and an alert in it is lost. Join the pieces before falcocw: on ECS, give the log router's "+
						"firelensConfiguration the options config-file-type file and config-file-value /fluent-bit/etc/falcocw-firelens.conf "+
						"(the falcocw image carries it); elsewhere, a [FILTER] multiline with mode partial_message and multiline.key_content log "+
						"(said once; the exit totals count pieces with the fragments)", tag, rec.Index)
				}
			case looksCut(&rec, in.cfg.LogKey):
				res.Cut++
				if !in.warnedCut.Swap(true) {
					in.logf(config.LevelWarn, "tag %s: record %d holds a Falco alert cut short (container runtimes split lines over 16 KiB): "+
						"it is handled as non-Falco; join the parts with the tail input's multiline.parser docker, cri (said once)", tag, rec.Index)
				}
			case looksFragment(&rec, in.cfg.LogKey):
				res.Cut++
				if !in.warnedFragment.Swap(true) {
					in.logf(config.LevelWarn, "tag %s: record %d holds the end of a Falco alert without its start (%.80s...): it is handled as non-Falco and the alert is lost. "+
						"The tail input read from inside a line (a DB offset after a restart, or the later part of a split line): "+
						"give the input a DB and multiline.parser docker, cri (said once; the exit totals count fragments)", tag, rec.Index, fragmentText(&rec, in.cfg.LogKey))
				}
			}
			nf := in.cfg.NonFalco
			if nf == nil {
				continue
			}
			e := &encoded{full: falco.AppendRecordJSON(nil, rec.Map())}
			v := route.Values{Tag: tag}
			if nf.UseDefault {
				for _, d := range in.cfg.Routes.Defaults {
					in.addItem(&res, p, before, d.Resolve(v), rec.Index, e, rec.Time, replaying, recordHashes)
				}
			} else {
				in.addItem(&res, p, before, nf.Dest.Resolve(v), rec.Index, e, rec.Time, replaying, recordHashes)
			}
			continue
		}
		res.Alerts++
		alert.Cluster = in.cfg.Cluster
		if alert.Cluster == "" {
			alert.Cluster = alert.ECS["ecs_cluster"]
		}
		if metrics != nil {
			metrics.Add(alert)
		}
		if alert.TimeFromRecord {
			res.TimeFromRecord++
			if !in.warnedTime.Swap(true) {
				in.logf(config.LevelWarn, "alert %s has no usable time field: using the Fluent Bit record's timestamp, for this and later such alerts (said once)", alert)
			}
		}
		var dropped bool
		scratch.matches, dropped = in.cfg.Routes.Route(alert, route.Values{Alert: alert, Tag: tag}, scratch.matches[:0])
		matches := scratch.matches
		if dropped {
			res.Dropped++
			in.logf(config.LevelDebug, "alert %s dropped by a route", alert)
			continue
		}
		if alert.Kubernetes != nil { // shared by the records of a pod: write it once
			k := reflect.ValueOf(alert.Kubernetes).UnsafePointer()
			if kubeJSON[k] == nil {
				kubeJSON[k] = falco.KubernetesJSON(alert.Kubernetes)
			}
			alert.UseKubernetesJSON(kubeJSON[k])
		}
		e := scratch.encoded.New()
		if in.quotedOnly(matches) {
			q, n := alert.AppendJSONQuoted(events.Buffer(alert.SizeHint() * 3 / 2)) // room for the escapes
			*e = encoded{alert: alert, quoted: events.Keep(q), quotedLen: n}
		} else {
			*e = encoded{alert: alert, full: events.Keep(alert.AppendJSON(events.Buffer(alert.SizeHint())))}
		}
		for _, m := range matches {
			if m.Options.Storm > 0 && !in.storm.Admit(storm.Key(m, alert), storm.ID{Chunk: keyOf(), Index: rec.Index}, m, alert) {
				res.Suppressed++
				continue
			}
			in.addItem(&res, p, before, m.Target, rec.Index, e.as(m.Options.Format), alert.Time, replaying, recordHashes)
		}
	}

	if metrics != nil {
		// Metric records get the ids after the records', in a stable
		// order, so the ledger knows them on a retry of the chunk.
		t := in.cfg.Metrics.Target
		for i, r := range metrics.Records() {
			id := res.Records + i
			if len(before) > 0 && before.Has(t.String(), id) { // a retry: skip what was accepted before
				res.AlreadyDelivered++
				continue
			}
			if p.inFlight != nil && p.inFlight.Has(t.String(), id) {
				res.InFlight++
				res.retry = true
				continue
			}
			p.add(t, dest.Item{ID: id, Time: r.Time, Payload: r.JSON, Metric: true})
			res.Metrics++
		}
	}

	// Storm summaries due now ride along with this flush; they are not
	// part of the chunk, so they stay out of the ledger, and go back to the
	// gate if their destination fails.
	summaries := in.addSummaries(&res, p, in.now())
	reports := in.addReports(p)

	late := &lateWork{key: keyOf, hashes: recordHashes}
	accepted := in.deliver(rctx, &res, p, late)
	in.logNotes(&p.notes)
	if in.journal != nil {
		in.writeJournal(accepted, recordHashes)
	}
	// What the flush holds is released once every request is answered:
	// now, or when the last one the flush stopped waiting for is.
	done := func() {
		p.releaseRequests()
		events.Release()
		scratch.release()
		releaseChunk(own)
		stop()
		cancel()
		in.memory.Add(-need)
		in.leave()
	}
	defer func() {
		if late.any.Load() {
			go func() { late.wg.Wait(); done() }()
		} else {
			done()
		}
	}()

	res.Summaries = in.settleSummaries(summaries, accepted)
	in.settleReports(reports, accepted)

	switch {
	case res.retry:
		// Retry wins over Error: the retryable events would otherwise be
		// lost with the chunk.
		res.Status = Retry
	case records.Truncated && res.Status == OK:
		res.Status = Error
		in.logf(config.LevelError, "tag %s: the chunk ends in %d bytes that are not MessagePack; the records in them are lost",
			tag, len(data)-lastBad.Offset)
	}
	if res.Status == Retry {
		progress := before
		if progress == nil {
			progress = ledger.Progress{}
		}
		for dest, ids := range accepted {
			for _, id := range ids {
				progress.Add(dest, id)
			}
		}
		if progress.Count() > 0 {
			if n := in.ledger.Remember(keyOf(), progress); n > 0 {
				in.logf(config.LevelWarn, "forgot the delivery progress of %d chunks waiting for a retry (more than %d are waiting); "+
					"when Fluent Bit retries them, destinations that had accepted their events may receive them twice", n, maxLedgerChunks)
			}
		}
	} else if before != nil {
		in.ledger.Forget(keyOf())
	}
	if res.Journaled > 0 {
		in.logf(config.LevelInfo, "tag %s: %d events of a chunk Fluent Bit replayed were delivered before the restart (journal): not sent again", tag, res.Journaled)
	}
	res.Duration = time.Since(start)
	in.account(&res)
	return res
}

// summaryBase numbers storm summaries in a flush, above any record;
// reportBase the destinations' metric records, between them.
const (
	summaryBase = 1 << 30
	reportBase  = 1 << 29
)

// ReportEvery is how often each destination's metrics are written, when
// metrics_namespace is set; a destination going down or coming back is
// written at the next flush.
const ReportEvery = time.Minute

// addReports adds the destinations' metric records to the plan when they
// are due.
func (in *Instance) addReports(p *plan) []health.Report {
	m := in.cfg.Metrics
	if m == nil {
		return nil
	}
	now := in.now()
	reports := in.health.Reports(now, ReportEvery)
	for i, r := range emf.DestinationRecords(m.Namespace, in.cfg.Cluster, now, reports) {
		p.add(m.Target, dest.Item{ID: reportBase + i, Time: r.Time, Payload: r.JSON, Metric: true})
	}
	return reports
}

// settleReports commits the reports if their destination accepted them
// (if not, the next reports count from the same point), and takes their
// ids out of accepted: they are not the chunk's, so not the ledger's.
func (in *Instance) settleReports(reports []health.Report, accepted map[string][]int) {
	if len(reports) == 0 {
		return
	}
	name := in.cfg.Metrics.Target.String()
	if containsID(accepted[name], reportBase) {
		in.health.Commit(in.now(), reports)
	}
	accepted[name] = removeIDsFrom(accepted[name], reportBase)
}

// addSummaries takes the storm summaries whose windows ended before now
// and adds them to the plan.
func (in *Instance) addSummaries(res *Result, p *plan, now time.Time) []storm.Summary {
	summaries := in.storm.Take(now)
	for i, sm := range summaries {
		e := (&encoded{alert: sm.Alert, full: sm.Alert.AppendJSON(nil)}).as(sm.Format)
		in.addItem(res, p, nil, sm.Target, summaryBase+i, e, sm.Alert.Time, false, nil)
	}
	return summaries
}

// settleSummaries gives the summaries no destination accepted back to the
// gate, takes all summaries out of accepted (they are not the chunk's, so
// not the ledger's), and returns how many were delivered.
func (in *Instance) settleSummaries(summaries []storm.Summary, accepted map[string][]int) int {
	if len(summaries) == 0 {
		return 0
	}
	var again []storm.Summary
	for i, sm := range summaries {
		dest := sm.Target.String()
		if !containsID(accepted[dest], summaryBase+i) {
			again = append(again, sm)
		}
		accepted[dest] = removeIDsFrom(accepted[dest], summaryBase)
	}
	if len(again) > 0 {
		in.storm.Requeue(again)
	}
	return len(summaries) - len(again)
}

// closeStorms ends every storm window at exit and delivers the summaries
// waiting, within ctx; it returns what it did.
func (in *Instance) closeStorms(ctx context.Context) Result {
	res := Result{Delivered: map[string]int{}, Undelivered: map[string]int{}}
	p := plan{index: map[route.Target]int{}}
	summaries := in.addSummaries(&res, &p, in.now().Add(100*365*24*time.Hour)) // every window ends
	late := &lateWork{}
	accepted := in.deliver(ctx, &res, &p, late)
	in.logNotes(&p.notes)
	late.wg.Wait() // ctx bounds it
	p.releaseRequests()
	res.Summaries = in.settleSummaries(summaries, accepted)
	if res.retry {
		res.Status = Retry
	}
	return res
}

// writeJournal writes down the deliveries of the chunk's records (not the
// metric records or storm summaries a flush adds) before the flush
// answers, so that a replay of the chunk after a restart finds them.
func (in *Instance) writeJournal(accepted map[string][]int, hashes []uint64) {
	var keys []journal.Key
	for dest, ids := range accepted {
		dh := journal.DestHash(dest)
		for _, id := range ids {
			if id < len(hashes) {
				keys = append(keys, journal.KeyOf(dh, hashes[id]))
			}
		}
	}
	if err := in.journal.Record(keys); err != nil && !in.warnedJournal.Swap(true) {
		in.logf(config.LevelWarn, "%v: deliveries are no longer written down, so chunks Fluent Bit replays after a restart may be delivered twice (said once)", err)
	}
}

// addItem adds event e of record id to the plan for target t, unless an
// earlier attempt (before) or, while replaying, a run before a restart
// (the journal, by the record's hash in hashes) delivered it there.
func (in *Instance) addItem(res *Result, p *plan, before ledger.Progress, t route.Target, id int, e *encoded, ts time.Time, replaying bool, hashes []uint64) {
	if len(before) > 0 && before.Has(t.String(), id) { // a retry: skip what was accepted before
		res.AlreadyDelivered++
		return
	}
	if p.inFlight != nil && p.inFlight.Has(t.String(), id) { // an earlier attempt's request, not answered yet
		res.InFlight++
		res.retry = true
		return
	}
	if replaying && in.journal.Seen(journal.KeyOf(journal.DestHash(t.String()), hashes[id])) {
		res.AlreadyDelivered++ // a replay after a restart: it arrived before
		res.Journaled++
		return
	}
	limit := in.sender(t.Kind).MaxPayload()
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
// (not its output text alone) goes to a dest.QuotedSender, so that the
// event is written as a JSON string at once (Item.Quoted).
func (in *Instance) quotedOnly(matches []route.Match) bool {
	quoted := false
	for _, m := range matches {
		if m.Options.Format == "output" {
			continue // the output text: e.as makes its own
		}
		if _, ok := in.sender(m.Target.Kind).(dest.QuotedSender); !ok {
			return false
		}
		quoted = true
	}
	return quoted
}

// recognise finds the Falco alert in a record, in either of the forms the
// chunk decoder gives a body.
func recognise(alerts *falco.Alerts, rec *chunk.Record, logKey string) (*falco.Alert, bool) {
	if rec.Body == nil { // {"log": line}
		return alerts.RecogniseLine(rec.Key, rec.Line, logKey, rec.Time)
	}
	return alerts.Recognise(rec.Body, logKey, rec.Time)
}

// isPiece reports whether a record is one piece of a line Docker's log
// driver split (over forward, as FireLens receives it): its partial_*
// keys say so, whatever the text.
func isPiece(rec *chunk.Record) bool {
	if rec.Body == nil {
		return false
	}
	switch v := rec.Body["partial_message"].(type) {
	case string:
		return v == "true"
	case bool:
		return v
	}
	return false
}

// looksFragment reports whether a record that is not an alert holds the
// end of one without its start.
func looksFragment(rec *chunk.Record, logKey string) bool {
	if rec.Body == nil {
		return rec.Key == logKey && falco.LooksFragmentLine(rec.Line)
	}
	return falco.LooksFragment(rec.Body, logKey)
}

func fragmentText(rec *chunk.Record, logKey string) string {
	if rec.Body == nil {
		return strings.ToValidUTF8(rec.Line, "?")
	}
	s, _ := rec.Body[logKey].(string)
	return strings.ToValidUTF8(s, "?")
}

// looksCut reports whether a record that is not an alert holds the start
// of one cut short.
func looksCut(rec *chunk.Record, logKey string) bool {
	if rec.Body == nil {
		return rec.Key == logKey && falco.LooksCutLine(rec.Line)
	}
	return falco.LooksCut(rec.Body, logKey)
}

func containsID(ids []int, id int) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// removeIDsFrom drops ids at or above base (storm summaries) from ids.
func removeIDsFrom(ids []int, base int) []int {
	out := ids[:0]
	for _, id := range ids {
		if id < base {
			out = append(out, id)
		}
	}
	return out
}
