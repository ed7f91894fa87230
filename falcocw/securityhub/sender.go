package securityhub

import (
	"context"
	"fmt"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
	"github.com/falcocw/falcocw/falcocw/route"
)

// The Sink is the dest.Sender of securityhub targets.
var _ dest.Sender = (*Sink)(nil)

// Takes says an event may be large: a finding is made of the alert, not of the event's
// JSON, and NewFinding keeps it within ASFF's limits.
func (s *Sink) Takes() dest.Takes { return dest.Takes{MaxPayload: 64 << 20} }

// Batches makes each item's finding and cuts them into
// BatchImportFindings batches. An item without an alert (a record that is
// not a Falco alert, sent here by non_falco) becomes an INFORMATIONAL
// finding whose description is the record.
func (s *Sink) Batches(f dest.Flush, _ route.Target, items []dest.Item) []dest.Request {
	c := Context{Region: s.opts.Region, Partition: Partition(s.opts.Region), Severity: s.opts.Severity}
	findings := make([]Finding, len(items))
	cutAlerts, firstCut, firstFields := 0, (*falco.Alert)(nil), 0
	for i, it := range items {
		a := it.Alert
		if a == nil {
			a = &falco.Alert{Time: it.Time, Rule: "Record that is not a Falco alert", Priority: falco.PriorityInformational,
				Output: jsonstr.Truncate(string(it.Payload), maxDescription), Hostname: "unknown"}
		}
		f, cut := NewFinding(it.ID, a, c)
		if cut > 0 {
			if cutAlerts++; firstCut == nil {
				firstCut, firstFields = a, cut
			}
		}
		findings[i] = f
	}
	if cutAlerts > 0 { // one line for the flush, not one per finding
		f.Adjusted(cutAlerts, "%d findings with output fields left out or cut (ASFF allows 50 fields of 1024 characters; each finding says so in ProductFields); the first: alert %s, %d fields",
			cutAlerts, firstCut, firstFields)
	}
	return dest.Requests(Batches(findings))
}

// Send imports one batch, in a call of its own or in one that waits for
// its turn (coalesce.go), resending the findings the service fails one by
// one.
func (s *Sink) Send(ctx context.Context, _ route.Target, req dest.Request) dest.Outcome {
	batch := req.([]Finding)
	accepted, rejected, err := s.put(ctx, batch)
	for i := range rejected {
		rejected[i].Reason = fmt.Sprintf("Security Hub refused the finding: %s", rejected[i].Reason)
	}
	return dest.Partial(batch, func(x Finding) int { return x.ID }, accepted, rejected, err)
}
