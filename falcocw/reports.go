package falcocw

import (
	"time"

	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/emf"
	"github.com/falcocw/falcocw/falcocw/health"
)

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
