// Command falcocw-fleet runs the fleet simulation (package internal/fleet)
// for each service and fleet size and prints its table: falcocw instances
// sharing one account's quota against the fake endpoint enforcing it, with
// the throttled calls against the accepted ones, the throughput against
// what the quota allowed while alerts arrived, the chunks' delays, and
// every alert checked delivered exactly once.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/falcocw/falcocw/internal/fleet"
)

func main() {
	sizes := flag.String("instances", "4,40,400", "fleet sizes")
	perNode := flag.Float64("share", 1, "each instance's share of the quota, in calls a second (the quota is instances × share)")
	demand := flag.Duration("demand", 20*time.Second, "how long alerts arrive, at 1.25 times the quota")
	workers := flag.Int("workers", 2, "each instance's workers: the flushes it has at once")
	only := flag.String("only", "", "run only the services whose name matches this regular expression")
	flag.Parse()
	re := regexp.MustCompile(*only)
	fmt.Printf("fleet simulation: %s, %d CPUs; offered load 1.25 × the quota for %s, then drained; each instance %.3g calls a second of the quota, %d workers\n\n",
		cpuName(), runtime.NumCPU(), *demand, *perNode, *workers)
	fmt.Println("| service | instances | quota | throttled / accepted calls | throughput / quota | alerts a call | chunk delay p50 | p99 | alerts | lost | doubled | run |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	failed := false
	for _, svc := range fleet.Services {
		if !re.MatchString(svc.Name) {
			continue
		}
		for _, s := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				fmt.Fprintln(os.Stderr, "falcocw-fleet: -instances:", err)
				os.Exit(2)
			}
			q, unit := float64(n)**perNode, "calls/s"
			chunk := 10
			if svc.PerRecord {
				q, unit = q*float64(chunk), "records/s"
			}
			r, err := fleet.Run(context.Background(), fleet.Config{Instances: n, Service: svc, Quota: q, Demand: *demand, ChunkAlerts: chunk, Workers: *workers})
			if err != nil {
				fmt.Fprintln(os.Stderr, "falcocw-fleet:", err)
				os.Exit(1)
			}
			fmt.Printf("| %s | %d | %g %s | %d / %d = %.1f %% | %.2f | %.1f | %s | %s | %d | %d | %d | %s |\n", svc.Name, n, q, unit,
				r.Throttled, r.Accepted, 100*r.ThrottledShare(), r.Throughput, r.AlertsPerCall(), r.P50.Round(time.Millisecond), r.P99.Round(100*time.Millisecond),
				r.Alerts, r.Missing, r.Doubled, r.Elapsed.Round(time.Second))
			failed = failed || r.Missing > 0 || r.Doubled > 0
		}
	}
	if failed {
		fmt.Fprintln(os.Stderr, "falcocw-fleet: alerts lost or doubled")
		os.Exit(1)
	}
}

func cpuName() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
