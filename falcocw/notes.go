package falcocw

import (
	"sync"

	"github.com/falcocw/falcocw/falcocw/config"
)

// notes gathers the problems a flush meets record by record (a malformed
// record, an event cut to a size limit, an event a destination refused),
// so that the flush logs one line per kind of problem, with its count and
// the first record it met, rather than one per record: a replay of a
// backlog of thousands of old alerts writes a few lines, not thousands.
// At debug level every record is logged as well. Safe for the concurrent
// requests of a flush.
type notes struct {
	mu   sync.Mutex
	list []note
}

// note is one kind of problem in a flush.
type note struct {
	level config.Level
	// what names the problem and where, said of one record: "tag T:
	// malformed record skipped".
	what  string
	count int
	first string
}

// note counts a record with the problem what; describe names the record,
// and is called only for the first such record of the flush, or at debug
// level for each.
func (in *Instance) note(ns *notes, level config.Level, what string, describe func() string) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for i := range ns.list {
		if n := &ns.list[i]; n.what == what {
			n.count++
			if in.cfg.LogLevel >= config.LevelDebug {
				in.logf(config.LevelDebug, "%s: %s", what, describe())
			}
			return
		}
	}
	ns.list = append(ns.list, note{level: level, what: what, count: 1, first: describe()})
}

// logNotes writes one line per kind of problem the flush met.
func (in *Instance) logNotes(ns *notes) {
	for _, n := range ns.list {
		if n.count == 1 {
			in.logf(n.level, "%s: %s", n.what, n.first)
		} else {
			in.logf(n.level, "%s: %d records in this flush; the first: %s (at log_level debug, each is logged)", n.what, n.count, n.first)
		}
	}
}
