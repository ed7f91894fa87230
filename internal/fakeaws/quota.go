package fakeaws

import (
	"sync"
	"time"
)

// Quota is an account-wide rate limit on one operation, shared by every
// client of the server as AWS shares an account's quota among its callers
// (Security Hub's BatchImportFindings, a Firehose stream's PutRecordBatch,
// EventBridge's PutEvents, CloudWatch Logs' PutLogEvents): a token bucket
// filling at Rate a second and holding Burst at most. A call finding no
// token is throttled whole, as the service answers (throttleError).
// PerRecord makes the records of a call the tokens, as a Kinesis shard's
// 1,000 records a second: records over the quota fail one by one with
// ProvisionedThroughputExceededException in a 200 answer.
type Quota struct {
	Rate, Burst float64
	PerRecord   bool
}

// QuotaCounts is what an operation's quota did: calls taken whole, calls
// throttled (whole, or with records refused for the rate), and records
// taken and refused (PerRecord).
type QuotaCounts struct {
	Accepted, Throttled int
	Records, Refused    int
	// When holds each call's time and whether it was taken, in order.
	When []QuotaCall
}

// QuotaCall is one call a quota answered.
type QuotaCall struct {
	At    time.Time
	Taken bool
}

type bucket struct {
	q      Quota
	mu     sync.Mutex
	tokens float64
	last   time.Time
	counts QuotaCounts
}

// take takes one token if there is one.
func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(b.q.Burst, b.tokens+now.Sub(b.last).Seconds()*b.q.Rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// SetQuota limits op ("BatchImportFindings", "PutRecordBatch") from now
// on; the bucket starts full.
func (s *Server) SetQuota(op string, q Quota) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quotas == nil {
		s.quotas = map[string]*bucket{}
	}
	s.quotas[op] = &bucket{q: q, tokens: q.Burst}
}

// QuotaCounts returns what op's quota did so far.
func (s *Server) QuotaCounts(op string) QuotaCounts {
	s.mu.Lock()
	b := s.quotas[op]
	s.mu.Unlock()
	if b == nil {
		return QuotaCounts{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.counts
	c.When = append([]QuotaCall(nil), c.When...)
	return c
}

// quotaCall takes a whole call's token: false when op is throttled.
func (s *Server) quotaCall(op string) bool {
	s.mu.Lock()
	b := s.quotas[op]
	s.mu.Unlock()
	if b == nil || b.q.PerRecord {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if !b.take(now) {
		b.counts.Throttled++
		b.counts.When = append(b.counts.When, QuotaCall{now, false})
		return false
	}
	b.counts.Accepted++
	b.counts.When = append(b.counts.When, QuotaCall{now, true})
	return true
}

// quotaRecords decides, for a call of n records to op, which records the
// quota takes; nil: every one (no per-record quota). s.mu is held.
func (s *Server) quotaRecords(op string, n int) []bool {
	b := s.quotas[op]
	if b == nil || !b.q.PerRecord {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	ok := make([]bool, n)
	refused := 0
	for i := range ok {
		ok[i] = b.take(now)
		if !ok[i] {
			refused++
		}
	}
	b.counts.Records += n - refused
	b.counts.Refused += refused
	if refused > 0 {
		b.counts.Throttled++
	} else {
		b.counts.Accepted++
	}
	return ok
}
