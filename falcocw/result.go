package falcocw

import (
	"fmt"
	"sort"
	"strings"
	"time"
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

// AnswerWait is how long a request sent before flush_timeout passed may
// still take to be answered, the flush waiting for it or not: an answer
// that comes is recorded, so that what AWS accepted is not sent again.
const AnswerWait = 60 * time.Second

// Result is what one flush did.
type Result struct {
	Status    Status
	Records   int // records in the chunk
	Alerts    int // Falco alerts among them
	NonFalco  int // records that are not Falco alerts
	Dropped   int // alerts a "drop" route discarded
	Malformed int // records that could not be decoded
	Truncated int // events cut to fit a per-event limit
	Adjusted  int // events a sender changed so that its service takes them (dest.Flush)
	Cut       int // non-Falco records that look like an alert cut short
	Metrics   int // EMF records written
	// Suppressed counts alerts a route's storm option held back (counted
	// in a later summary); Summaries counts storm summaries delivered.
	Suppressed, Summaries int
	// TimeFromRecord counts alerts without a usable time, timestamped
	// with their record's time instead.
	TimeFromRecord int
	// AlreadyDelivered counts events an earlier attempt of this chunk
	// delivered, which this attempt did not send again.
	AlreadyDelivered int
	// HandedBack counts events of destinations known to be down, handed
	// back to Fluent Bit's retry without a request; InFlight counts
	// events a request of an earlier attempt still carries, not sent
	// again while it is unanswered.
	HandedBack, InFlight int
	// Journaled counts events, among AlreadyDelivered, that the journal
	// (journal_path) says a run before a restart delivered.
	Journaled int
	// Delivered counts events accepted in this attempt, per destination.
	Delivered map[string]int
	// Undelivered counts events not accepted, per destination.
	Undelivered map[string]int
	// Failures describes each destination that failed, for the log.
	Failures []string
	Duration time.Duration

	retry    bool // some failure may succeed on a later attempt
	wentDown bool // a destination went down during the flush (logged)
}

// Quiet reports whether a flush answered Retry without news: for
// destinations already known to be down (said once, when they went down;
// a failed probe is no news) or requests of an earlier attempt still in
// flight. The plugin logs it at debug level, not once per flush.
func (r *Result) Quiet() bool { return r.Status == Retry && !r.wentDown }

// Summary is the one-line account of a flush the plugin logs.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flush answered %s after %s: %d records, %d alerts, %d non-Falco, %d dropped, %d malformed",
		r.Status, r.Duration.Round(time.Millisecond), r.Records, r.Alerts, r.NonFalco, r.Dropped, r.Malformed)
	if r.AlreadyDelivered > r.Journaled {
		fmt.Fprintf(&b, ", %d delivered by an earlier attempt", r.AlreadyDelivered-r.Journaled)
	}
	if r.Journaled > 0 {
		fmt.Fprintf(&b, ", %d already delivered before a restart (journal)", r.Journaled)
	}
	if r.HandedBack > 0 {
		fmt.Fprintf(&b, ", %d for destinations that are down handed back", r.HandedBack)
	}
	if r.InFlight > 0 {
		fmt.Fprintf(&b, ", %d still in flight from an earlier attempt", r.InFlight)
	}
	writeCounts := func(label string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("; " + label)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, m[k])
		}
	}
	writeCounts("delivered", r.Delivered)
	writeCounts("undelivered", r.Undelivered)
	if len(r.Failures) > 0 {
		b.WriteString("; failed: ")
		b.WriteString(strings.Join(r.Failures, "; "))
	}
	return b.String()
}

// account adds a flush to the instance's totals. The records of a chunk
// count once, when the chunk is done (OK or Error): an attempt answered
// Retry comes back with the same records.
func (in *Instance) account(res *Result) {
	s := &in.stats
	s.Flushes.Add(1)
	if res.Status != Retry {
		s.Records.Add(int64(res.Records))
		s.Alerts.Add(int64(res.Alerts))
		s.NonFalco.Add(int64(res.NonFalco))
		s.Dropped.Add(int64(res.Dropped))
		s.Malformed.Add(int64(res.Malformed))
		s.Fragments.Add(int64(res.Cut))
	}
	for _, n := range res.Delivered {
		s.Delivered.Add(int64(n))
	}
	switch res.Status {
	case Retry:
		s.Retries.Add(1)
	case Error:
		s.Failed.Add(1)
	}
}
