package falcocw

import (
	"context"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/config"
)

// Flush delivers a chunk's alerts, in stages:
//
//   - decode, recognise and route (flushRun.read, stages.go): each record
//     is decoded, its Falco alert recognised, routed and written as its
//     event into the plan of what each destination is sent, leaving out
//     what earlier attempts at the chunk delivered (attempt);
//   - deliver (deliver.go): every destination's requests go out at once,
//     each destination waited for only while it answers;
//   - settle: storm summaries and destination reports that were not
//     accepted go back, the answer to Fluent Bit is decided, and what was
//     delivered is written down for a retry or a restart (attempt.settle).
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
	f := in.newFlushRun(tag, *own)
	f.read()
	f.addMetrics()
	// Storm summaries due now, and the destinations' reports, ride along
	// with this flush; they are not part of the chunk, so they stay out
	// of the ledger, and go back if their destination fails.
	summaries := in.addSummaries(f.res, f.p, in.now())
	reports := in.addReports(f.p)

	// A request retries until flush_timeout, then starts no new attempt;
	// one already sent gets AnswerWait more to be answered, so that what
	// AWS accepted is known. The flush does not wait that long for a
	// destination (destination_wait): its answer is recorded when it comes.
	rctx, cancel := context.WithTimeout(in.shutdown, in.cfg.FlushTimeout+AnswerWait)
	rctx = awsclient.WithStartBy(rctx, start.Add(in.cfg.FlushTimeout))
	stop := context.AfterFunc(ctx, cancel) // the caller gives up: so do the requests
	late := &lateWork{key: f.at.Key, hashes: f.at.hashes}
	accepted := in.deliver(rctx, f.res, f.p, late)
	in.logNotes(&f.p.notes)
	// What the flush holds is released once every request is answered:
	// now, or when the last one the flush stopped waiting for is.
	done := func() {
		f.release()
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

	res := f.res
	res.Summaries = in.settleSummaries(summaries, accepted)
	in.settleReports(reports, accepted)
	f.answer()
	f.at.settle(res, accepted)
	if res.Journaled > 0 {
		in.logf(config.LevelInfo, "tag %s: %d events of a chunk Fluent Bit replayed were delivered before the restart (journal): not sent again", tag, res.Journaled)
	}
	res.Duration = time.Since(start)
	in.account(res)
	return *res
}

// answer decides the flush's answer to Fluent Bit from what happened.
func (f *flushRun) answer() {
	res := f.res
	switch {
	case res.retry:
		// Retry wins over Error: the retryable events would otherwise be
		// lost with the chunk.
		res.Status = Retry
	case f.records.Truncated && res.Status == OK:
		res.Status = Error
		f.in.logf(config.LevelError, "tag %s: the chunk ends in %d bytes that are not MessagePack; the records in them are lost",
			f.tag, len(f.data)-f.lastBad.Offset)
	}
}
