package falcocw

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/falcocw/falcocw/falcocw/awserr"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/cwlogs"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/firehose"
	"github.com/falcocw/falcocw/falcocw/route"
)

// Status is the outcome of a flush, in Fluent Bit's terms.
type Status int

const (
	// OK: every event of the chunk was accepted (FLB_OK).
	OK Status = iota
	// Retry: something failed that a later attempt may deliver
	// (FLB_RETRY); Fluent Bit keeps the chunk and flushes it again.
	Retry
	// Error: some data can never be delivered (FLB_ERROR); each such
	// event has been named in the log.
	Error
)

func (s Status) String() string {
	return [...]string{"ok", "retry", "error"}[s]
}

// Result is what one flush did.
type Result struct {
	Status    Status
	Records   int // records in the chunk
	Alerts    int // Falco alerts among them
	NonFalco  int // records that are not Falco alerts
	Dropped   int // alerts a "drop" route discarded
	Malformed int // records that could not be decoded
	Truncated int // events cut to fit a per-event limit
	Clamped   int // events whose CloudWatch timestamp was clamped
	// Delivered counts accepted events per destination.
	Delivered map[string]int
	// Failures describes each destination that failed, for the log.
	Failures []string
	Duration time.Duration

	retry bool // some failure may succeed on a later attempt
}

// Summary is the one-line account of a flush the plugin logs.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flush %s in %s: %d records, %d alerts, %d non-Falco, %d dropped, %d malformed",
		r.Status, r.Duration.Round(time.Millisecond), r.Records, r.Alerts, r.NonFalco, r.Dropped, r.Malformed)
	if len(r.Delivered) > 0 {
		keys := make([]string, 0, len(r.Delivered))
		for k := range r.Delivered {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("; delivered")
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, r.Delivered[k])
		}
	}
	if len(r.Failures) > 0 {
		b.WriteString("; failed: ")
		b.WriteString(strings.Join(r.Failures, "; "))
	}
	return b.String()
}

// item is one event bound for one target.
type item struct {
	time    time.Time
	payload []byte
	alert   *falco.Alert // nil for a non-Falco record
}

// encoded holds an event's JSON, cut to a service's limit on demand.
type encoded struct {
	alert *falco.Alert
	full  []byte
	cut   map[int][]byte
}

func (e *encoded) limited(limit int) (b []byte, truncated bool) {
	if len(e.full) <= limit {
		return e.full, false
	}
	if b, ok := e.cut[limit]; ok {
		return b, true
	}
	if e.alert != nil {
		b, _ = e.alert.JSON(limit)
	} else {
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

// Flush decodes a chunk, routes its alerts and delivers them, within the
// configured flush_timeout.
func (in *Instance) Flush(ctx context.Context, tag string, data []byte) Result {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, in.cfg.FlushTimeout)
	defer cancel()

	res := Result{Delivered: map[string]int{}}
	dec := chunk.Decode(data)
	res.Records = len(dec.Records) + len(dec.Bad)
	res.Malformed = len(dec.Bad)
	for _, b := range dec.Bad {
		in.logf(config.LevelWarn, "tag %s: skipping malformed record: %v", tag, b)
	}

	groups := map[route.Target][]item{}
	var order []route.Target
	add := func(t route.Target, it item) {
		if _, ok := groups[t]; !ok {
			order = append(order, t)
		}
		groups[t] = append(groups[t], it)
	}
	var matches []route.Match
	for _, rec := range dec.Records {
		alert, ok := falco.Recognise(rec.Body, in.cfg.LogKey, rec.Time)
		if !ok {
			res.NonFalco++
			nf := in.cfg.NonFalco
			if nf == nil {
				continue
			}
			e := &encoded{full: falco.AppendRecordJSON(nil, rec.Body)}
			v := route.Values{Tag: tag}
			if nf.UseDefault {
				for _, d := range in.cfg.Routes.Defaults {
					in.addItem(&res, add, d.Resolve(v), e, rec.Time)
				}
			} else {
				in.addItem(&res, add, nf.Dest.Resolve(v), e, rec.Time)
			}
			continue
		}
		res.Alerts++
		if alert.TimeFromRecord {
			in.logf(config.LevelDebug, "alert %s has no usable time field; using the record's timestamp", alert)
		}
		var dropped bool
		matches, dropped = in.cfg.Routes.Route(alert, route.Values{Alert: alert, Tag: tag}, matches[:0])
		if dropped {
			res.Dropped++
			in.logf(config.LevelDebug, "alert %s dropped by a route", alert)
			continue
		}
		e := &encoded{alert: alert, full: alert.AppendJSON(nil)}
		for _, m := range matches {
			in.addItem(&res, add, m.Target, e, alert.Time)
		}
	}

	in.deliver(ctx, &res, order, groups)

	switch {
	case res.retry:
		// Retry wins over Error: the retryable events would otherwise be
		// lost with the chunk.
		res.Status = Retry
	case dec.Truncated && res.Status == OK:
		res.Status = Error
		in.logf(config.LevelError, "tag %s: the chunk ends in %d bytes that are not MessagePack; the records in them are lost",
			tag, len(data)-dec.Bad[len(dec.Bad)-1].Offset)
	}
	res.Duration = time.Since(start)
	in.account(&res)
	return res
}

func (in *Instance) addItem(res *Result, add func(route.Target, item), t route.Target, e *encoded, ts time.Time) {
	limit := firehose.MaxRecordBytes - 1 // the newline
	if t.Kind == route.CloudWatch {
		limit = cwlogs.MaxMessageBytes
	}
	payload, cut := e.limited(limit)
	if cut {
		res.Truncated++
		what := "record"
		if e.alert != nil {
			what = "alert " + e.alert.String()
		}
		in.logf(config.LevelWarn, "%s is %d bytes, over the %d-byte limit of %s: delivered truncated, marked %q",
			what, len(e.full), limit, t, falco.TruncatedKey)
	}
	add(t, item{time: ts, payload: payload, alert: e.alert})
}

// deliver sends each target's events, targets in parallel with at most
// max_concurrency requests in flight.
func (in *Instance) deliver(ctx context.Context, res *Result, order []route.Target, groups map[route.Target][]item) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, in.cfg.MaxConcurrency)
	for _, t := range order {
		items := groups[t]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var accepted int
			var permanentNote string
			var err error
			switch t.Kind {
			case route.CloudWatch:
				accepted, permanentNote, err = in.putCloudWatch(ctx, res, &mu, t, items)
			case route.Firehose:
				records := make([][]byte, len(items))
				for i, it := range items {
					records[i] = append(it.payload[:len(it.payload):len(it.payload)], '\n')
				}
				accepted, err = in.fh.Put(ctx, t.Name, records)
			}
			mu.Lock()
			defer mu.Unlock()
			res.Delivered[t.String()] += accepted
			if permanentNote != "" {
				res.Status = Error
				res.Failures = append(res.Failures, permanentNote)
			}
			if err != nil {
				note := fmt.Sprintf("%s: %d of %d events not delivered: %v", t, len(items)-accepted, len(items), err)
				if !awserr.Permanent(err) {
					res.retry = true
				} else {
					res.Status = Error
					note += " (AWS rejected the data: it will not be retried)"
					for _, it := range items {
						in.logf(config.LevelError, "not delivered to %s: %s", t, describeItem(it))
					}
				}
				res.Failures = append(res.Failures, note)
			}
		}()
	}
	wg.Wait()
}

func (in *Instance) putCloudWatch(ctx context.Context, res *Result, mu *sync.Mutex, t route.Target, items []item) (int, string, error) {
	now := in.now()
	events := make([]cwlogs.Event, len(items))
	clamped := 0
	for i, it := range items {
		ts, c := cwlogs.ClampTime(it.time, now)
		if c {
			clamped++
			in.logf(config.LevelWarn, "%s: timestamp %s is outside CloudWatch's window (14 days back, 2 hours ahead): sent with the current time, the original kept in the message",
				describeItem(it), it.time.Format(time.RFC3339Nano))
		}
		events[i] = cwlogs.Event{Time: ts, Message: it.payload}
	}
	if clamped > 0 {
		mu.Lock()
		res.Clamped += clamped
		mu.Unlock()
	}
	r, err := in.cw.Put(ctx, t.Name, t.Stream, events)
	note := ""
	if len(r.Rejected) > 0 {
		for _, e := range r.Rejected {
			in.logf(config.LevelError, "CloudWatch rejected an event for %s (timestamp %s too old, too new or expired): %.200s",
				t, e.Time.Format(time.RFC3339Nano), e.Message)
		}
		note = fmt.Sprintf("%s: CloudWatch rejected %d events (rejectedLogEventsInfo)", t, len(r.Rejected))
	}
	return r.Accepted, note, err
}

func describeItem(it item) string {
	if it.alert != nil {
		return "alert " + it.alert.String()
	}
	return fmt.Sprintf("non-Falco record (%.120s)", it.payload)
}

func (in *Instance) account(res *Result) {
	s := &in.stats
	s.Flushes.Add(1)
	s.Records.Add(int64(res.Records))
	s.Alerts.Add(int64(res.Alerts))
	s.NonFalco.Add(int64(res.NonFalco))
	s.Dropped.Add(int64(res.Dropped))
	s.Malformed.Add(int64(res.Malformed))
	for _, n := range res.Delivered {
		s.Delivered.Add(int64(n))
	}
	if res.Status != OK {
		s.Failed.Add(1)
	}
}
