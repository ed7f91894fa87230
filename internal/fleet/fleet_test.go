package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/falcocw/falcocw/internal/fleet"
)

// TestFleetConvergesOnQuota: 40 instances offering 1.25 times a Firehose
// stream's quota deliver every alert exactly once, with fewer throttled
// calls than accepted ones (without the pace each learns, the fleet made
// five throttled calls for every accepted one) and the quota used while
// alerts arrive. The bounds are loose, for a loaded machine; make
// bench-fleet prints the figures.
func TestFleetConvergesOnQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s simulation")
	}
	var svc fleet.Service
	for _, s := range fleet.Services {
		if s.Name == "Firehose" {
			svc = s
		}
	}
	r, err := fleet.Run(context.Background(), fleet.Config{Instances: 40, Service: svc, Quota: 40, Demand: 15 * time.Second,
		Log: func(i int, msg string) {
			if i == 0 {
				t.Log(msg)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d alerts: %d calls accepted, %d throttled (%.1f %%), throughput %.2f of the quota, delay p50 %s p99 %s, %s",
		r.Alerts, r.Accepted, r.Throttled, 100*r.ThrottledShare(), r.Throughput, r.P50, r.P99, r.Elapsed)
	if r.Missing != 0 || r.Doubled != 0 || r.Alerts == 0 {
		t.Errorf("%d alerts: %d lost, %d doubled", r.Alerts, r.Missing, r.Doubled)
	}
	if r.ThrottledShare() > 0.5 {
		t.Errorf("%d throttled calls for %d accepted: the fleet storms the quota", r.Throttled, r.Accepted)
	}
	if r.Throughput < 0.6 {
		t.Errorf("throughput %.2f of the quota: the fleet backs off too far", r.Throughput)
	}
}
