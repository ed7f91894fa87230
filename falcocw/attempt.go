package falcocw

import (
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/journal"
	"github.com/falcocw/falcocw/falcocw/ledger"
	"github.com/falcocw/falcocw/falcocw/route"
)

// attempt is a flush's bookkeeping of its chunk across Fluent Bit's
// retries and restarts: what earlier attempts delivered and what their
// requests still carry (the ledger, by the chunk's key), and what runs
// before a restart delivered (the journal, by each record's hash). It
// decides which events a flush leaves out (skip) and writes down what
// the flush delivered (settle).
type attempt struct {
	in       *Instance
	tag      string
	data     []byte
	key      ledger.Key
	keyed    bool
	before   ledger.Progress // accepted in earlier attempts
	inFlight ledger.Progress // in requests of earlier attempts not answered yet
	// hashes are the records' hashes, by record index, with a journal;
	// replaying says the journal still holds the keys of the runs before
	// a restart (Fluent Bit replays its storage).
	hashes    []uint64
	replaying bool
}

// newAttempt looks up what earlier attempts did with the chunk. While no
// chunk waits for a retry, as when every destination answers, nothing is
// looked up and the chunk is never hashed.
func (in *Instance) newAttempt(tag string, data []byte) *attempt {
	a := &attempt{in: in, tag: tag, data: data}
	if in.ledger.Len() > 0 {
		a.before, a.inFlight = in.ledger.Get(a.Key()), in.ledger.InFlight(a.Key())
	}
	a.replaying = in.journal != nil && in.journal.Replaying()
	return a
}

// Key is the chunk's key (a hash of all of it), computed when first
// needed: by the ledger, and by storm windows that name their alerts.
func (a *attempt) Key() ledger.Key {
	if !a.keyed {
		a.key, a.keyed = ledger.KeyOf(a.tag, a.data), true
	}
	return a.key
}

// record notes a record's hash for the journal.
func (a *attempt) record(rec *chunk.Record) {
	if a.in.journal == nil {
		return
	}
	for len(a.hashes) <= rec.Index {
		a.hashes = append(a.hashes, 0)
	}
	a.hashes[rec.Index] = journal.RecordHash(rec.Raw)
}

// skip reports whether the event of record id is left out of this flush
// for target t: an earlier attempt delivered it, a request of one still
// carries it (the chunk then comes back: res.retry), or, for the chunk's
// own records while replaying, a run before a restart delivered it.
func (a *attempt) skip(res *Result, t route.Target, id int, record bool) bool {
	// t.String() only when something is looked up: most flushes have
	// nothing to look up, and the name would be an allocation per event.
	if len(a.before) > 0 && a.before.Has(t.String(), id) {
		res.AlreadyDelivered++
		return true
	}
	if a.inFlight != nil && a.inFlight.Has(t.String(), id) {
		res.InFlight++
		res.retry = true
		return true
	}
	if record && a.replaying && a.in.journal.Seen(journal.KeyOf(journal.DestHash(t.String()), a.hashes[id])) {
		res.AlreadyDelivered++
		res.Journaled++
		return true
	}
	return false
}

// settle writes down what the flush delivered of the chunk's records:
// in the journal, before the flush answers, so that a replay after a
// restart finds it; in the ledger when the chunk comes back (Retry), so
// that the retry sends only what is missing; and forgets the chunk's
// progress when it is done.
func (a *attempt) settle(res *Result, accepted map[string][]int) {
	in := a.in
	if in.journal != nil {
		in.writeJournal(accepted, a.hashes)
	}
	if res.Status != Retry {
		if a.before != nil {
			in.ledger.Forget(a.Key())
		}
		return
	}
	progress := a.before
	if progress == nil {
		progress = ledger.Progress{}
	}
	for dest, ids := range accepted {
		for _, id := range ids {
			progress.Add(dest, id)
		}
	}
	if progress.Count() == 0 {
		return
	}
	if n := in.ledger.Remember(a.Key(), progress); n > 0 {
		in.logf(config.LevelWarn, "forgot the delivery progress of %d chunks waiting for a retry (more than %d are waiting); "+
			"when Fluent Bit retries them, destinations that had accepted their events may receive them twice", n, maxLedgerChunks)
	}
}

// writeJournal writes down the deliveries of a chunk's records, by their
// hashes (not the metric records or storm summaries a flush adds: their
// ids are past the records'), before the flush answers, or when a late
// answer comes.
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
