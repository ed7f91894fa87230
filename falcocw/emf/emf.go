// Package emf turns counts of Falco alerts into CloudWatch Embedded Metric
// Format records: log events that CloudWatch Logs turns into metrics by
// itself, so that an alarm such as "Critical alerts > 0" needs no metric
// filter.
//
// Design: one record per flush for each distinct set of dimension values
// and minute, carrying the count of alerts (metric "Alerts", unit Count),
// rather than one record per alert. It costs a few log events per flush
// instead of one per alert, and CloudWatch sums the records of a minute
// anyway; bucketing by the alerts' own minute keeps late or retried
// alerts in the minute they happened.
package emf

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/health"
)

// MetricName is the name of the metric every record carries.
const MetricName = "Alerts"

// Dimensions a user may choose.
var Dimensions = []string{"cluster", "priority", "rule", "source", "hostname"}

// ParseDimensionSets parses "cluster,priority;cluster,rule": dimension
// sets separated by ";", dimensions by ",".
func ParseDimensionSets(s string) ([][]string, error) {
	var sets [][]string
	for _, set := range strings.Split(s, ";") {
		var dims []string
		seen := map[string]bool{}
		for _, d := range strings.Split(set, ",") {
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			ok := false
			for _, known := range Dimensions {
				ok = ok || d == known
			}
			if !ok {
				return nil, fmt.Errorf("unknown dimension %q; allowed: %s", d, strings.Join(Dimensions, ", "))
			}
			if !seen[d] {
				dims = append(dims, d)
				seen[d] = true
			}
		}
		if len(dims) > 0 {
			sets = append(sets, dims)
		}
	}
	if len(sets) == 0 {
		return nil, fmt.Errorf("no dimensions; want e.g. cluster,priority;cluster,rule")
	}
	return sets, nil
}

// Aggregator counts alerts by the union of the dimensions of its sets and
// by minute. It is not safe for concurrent use: one per flush.
type Aggregator struct {
	namespace string
	sets      [][]string
	dims      []string // union, sorted
	counts    map[string]int
	samples   map[string][]string // key → dimension values
}

// NewAggregator returns an aggregator for a namespace and dimension sets.
func NewAggregator(namespace string, sets [][]string) *Aggregator {
	union := map[string]bool{}
	for _, set := range sets {
		for _, d := range set {
			union[d] = true
		}
	}
	dims := make([]string, 0, len(union))
	for d := range union {
		dims = append(dims, d)
	}
	sort.Strings(dims)
	return &Aggregator{namespace: namespace, sets: sets, dims: dims, counts: map[string]int{}, samples: map[string][]string{}}
}

// Add counts one alert.
func (g *Aggregator) Add(a *falco.Alert) {
	values := make([]string, len(g.dims))
	for i, d := range g.dims {
		v, _ := a.Field(d)
		if v == "" {
			v = "unknown"
		}
		if len(v) > 1024 {
			v = v[:1024]
		}
		values[i] = v
	}
	minute := a.Time.Truncate(time.Minute).UnixMilli()
	key := strconv.FormatInt(minute, 10) + "\x00" + strings.Join(values, "\x00")
	g.counts[key]++
	if _, ok := g.samples[key]; !ok {
		g.samples[key] = values
	}
}

// Record is one EMF log event.
type Record struct {
	Time time.Time
	JSON []byte
}

// Records returns the EMF records, in a stable order.
func (g *Aggregator) Records() []Record {
	keys := make([]string, 0, len(g.counts))
	for k := range g.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Record, 0, len(keys))
	for _, k := range keys {
		ms, _ := strconv.ParseInt(k[:strings.IndexByte(k, 0)], 10, 64)
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":%s,"Dimensions":[`, ms, quote(g.namespace))
		for i, set := range g.sets {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('[')
			for j, d := range set {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(quote(d))
			}
			b.WriteByte(']')
		}
		fmt.Fprintf(&b, `],"Metrics":[{"Name":%q,"Unit":"Count"}]}]}`, MetricName)
		for i, d := range g.dims {
			fmt.Fprintf(&b, `,%s:%s`, quote(d), quote(g.samples[k][i]))
		}
		fmt.Fprintf(&b, `,%q:%d}`, MetricName, g.counts[k])
		out = append(out, Record{Time: time.UnixMilli(ms).UTC(), JSON: b.Bytes()})
	}
	return out
}

func quote(s string) string { return string(falco.AppendString(nil, s)) }

// Destination metrics: one record per destination, with the dimension
// "Destination" (and "cluster" when the instance knows its cluster), so
// that an operator can alarm on "Down >= 1 for firehose:falco-archive".
const (
	MetricDelivered  = "Delivered"  // events accepted since the last record
	MetricFailed     = "Failed"     // events whose request failed, gone back to Fluent Bit's retry
	MetricHandedBack = "HandedBack" // events handed back without a request while down
	MetricWaiting    = "Waiting"    // events gone back to Fluent Bit's retry since it went down
	MetricDown       = "Down"       // 1 while the destination is down, else 0
)

// DestinationRecords writes the destinations' reports as EMF records
// stamped now.
func DestinationRecords(namespace, cluster string, now time.Time, reports []health.Report) []Record {
	out := make([]Record, 0, len(reports))
	ms := now.UnixMilli()
	for _, r := range reports {
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":%s,"Dimensions":[["Destination"]`, ms, quote(namespace))
		if cluster != "" {
			b.WriteString(`,["cluster","Destination"]`)
		}
		b.WriteString(`],"Metrics":[`)
		for i, m := range []string{MetricDelivered, MetricFailed, MetricHandedBack, MetricWaiting, MetricDown} {
			if i > 0 {
				b.WriteByte(',')
			}
			unit := "Count"
			if m == MetricDown {
				unit = "None"
			}
			fmt.Fprintf(&b, `{"Name":%q,"Unit":%q}`, m, unit)
		}
		b.WriteString(`]}]},"Destination":` + quote(r.Name))
		if cluster != "" {
			b.WriteString(`,"cluster":` + quote(cluster))
		}
		down := 0
		if r.Down {
			down = 1
		}
		fmt.Fprintf(&b, `,%q:%d,%q:%d,%q:%d,%q:%d,%q:%d}`, MetricDelivered, r.Delivered, MetricFailed, r.Failed,
			MetricHandedBack, r.HandedBack, MetricWaiting, r.Waiting, MetricDown, down)
		out = append(out, Record{Time: now.UTC(), JSON: b.Bytes()})
	}
	return out
}
