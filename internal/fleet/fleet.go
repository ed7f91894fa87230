// Package fleet simulates a fleet of falcocw instances (one per node, as
// an EKS DaemonSet or ECS FireLens runs them) sending to one destination
// whose quota the whole account shares, against the fake AWS endpoint
// enforcing that quota as the service does (fakeaws.Quota). Each instance
// is a falcocw.Instance driven as Fluent Bit drives an output: chunks
// arrive at a steady rate, a few flush at once (workers), and a chunk
// answered FLB_RETRY comes back after the scheduler's backoff. It measures
// how the fleet meets the quota: calls throttled against calls accepted,
// throughput against what the quota allowed, each chunk's delay, and
// whether every alert arrived exactly once.
package fleet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/samples"
	"github.com/falcocw/falcocw/internal/sampletest"

	_ "github.com/falcocw/falcocw/falcocw/destinations" // every destination kind
)

// Service is a destination kind with a quota the account shares.
type Service struct {
	Name string
	// Op is the operation the quota limits; PerRecord: its quota counts
	// records (a Kinesis shard's), not calls.
	Op        string
	PerRecord bool
	// Burst is the quota's burst, in seconds of its rate.
	Burst float64
	// Dest is where every alert is routed, and Key how
	// sampletest.Delivered names it.
	Dest, Key string
	// Props are the instance's properties beyond the route.
	Props []string
	// Setup creates the destination in the fake.
	Setup func(srv *fakeaws.Server)
}

// Services are the services whose quotas a fleet shares.
var Services = []Service{
	{Name: "Security Hub", Op: "BatchImportFindings", Burst: 3, Dest: "securityhub", Key: "securityhub",
		Props: []string{"securityhub_account_id", "123456789012"}},
	{Name: "Firehose", Op: "PutRecordBatch", Dest: "firehose:falco-archive", Key: "firehose:falco-archive",
		Setup: func(s *fakeaws.Server) { s.CreateDeliveryStream("falco-archive") }},
	{Name: "Kinesis", Op: "PutRecords", PerRecord: true, Dest: "kinesis:falco-stream", Key: "kinesis:falco-stream",
		Setup: func(s *fakeaws.Server) { s.CreateKinesisStream("falco-stream") }},
	{Name: "EventBridge", Op: "PutEvents", Dest: "eventbridge:falco", Key: "eventbridge:falco",
		Setup: func(s *fakeaws.Server) { s.CreateEventBus("falco") }},
	{Name: "CloudWatch Logs", Op: "PutLogEvents", Dest: "cloudwatch:/falco/alerts", Key: "cloudwatch:/falco/alerts",
		Setup: func(s *fakeaws.Server) { s.CreateLogGroup("/falco/alerts") }},
}

// Config is one simulation.
type Config struct {
	Instances int
	Service   Service
	// Quota is the account's rate: calls a second, or records a second
	// for a PerRecord service; its burst is the Service's.
	Quota float64
	// Load is the fleet's offered load, as a multiple of the quota.
	Load float64
	// Demand is how long alerts arrive; the run then drains.
	Demand time.Duration
	// ChunkAlerts is the alerts in one chunk (one call's worth or less).
	ChunkAlerts int
	// Workers is the flushes each instance has at once (Fluent Bit's
	// workers); RetryBase and RetryCap its scheduler's backoff.
	Workers             int
	RetryBase, RetryCap time.Duration
	// Props are more properties for every instance.
	Props []string
	// Log, when set, gets every instance's warnings and errors.
	Log func(instance int, msg string)
}

// Result is what a simulation measured.
type Result struct {
	Config
	// Accepted and Throttled count the calls the quota took and refused
	// (a PerRecord call is throttled when any record was refused).
	Accepted, Throttled int
	// Throughput is what the quota took while alerts arrived, against
	// what it allowed then (burst plus rate times Demand).
	Throughput float64
	// Alerts sent; Missing and Doubled among them at the destination.
	Alerts, Missing, Doubled int
	// Retries counts flushes answered FLB_RETRY.
	Retries int64
	// P50 and P99 of a chunk's delay, from its arrival to FLB_OK.
	P50, P99 time.Duration
	// Elapsed is the run's time, drain included.
	Elapsed time.Duration
}

// AlertsPerCall is the alerts delivered over the calls accepted: more than
// a chunk's when calls gather several flushes' (Security Hub's).
func (r Result) AlertsPerCall() float64 {
	if r.Accepted == 0 {
		return 0
	}
	return float64(r.Alerts-r.Missing) / float64(r.Accepted)
}

// ThrottledShare is throttled calls over accepted ones.
func (r Result) ThrottledShare() float64 {
	if r.Accepted == 0 {
		return 0
	}
	return float64(r.Throttled) / float64(r.Accepted)
}

// Run runs one simulation. The process's environment gets the fake's
// credentials and region (fakeaws.Env).
func Run(ctx context.Context, c Config) (Result, error) {
	if c.Workers == 0 {
		c.Workers = 2
	}
	if c.RetryBase == 0 {
		c.RetryBase, c.RetryCap = time.Second, 30*time.Second
	}
	if c.ChunkAlerts == 0 {
		c.ChunkAlerts = 10
	}
	if c.Load == 0 {
		c.Load = 1.25
	}
	for _, kv := range fakeaws.Env() {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				os.Setenv(kv[:i], kv[i+1:])
				break
			}
		}
	}
	srv := fakeaws.New()
	defer srv.Close()
	srv.Light = false
	if c.Service.Setup != nil {
		c.Service.Setup(srv)
	}
	burst := c.Quota * max(c.Service.Burst, 1)
	srv.SetQuota(c.Service.Op, fakeaws.Quota{Rate: c.Quota, Burst: burst, PerRecord: c.Service.PerRecord})

	instances := make([]*falcocw.Instance, c.Instances)
	for i := range instances {
		m := map[string]string{"endpoint": srv.URL, "log_group_name": "/falco/alerts", "log_stream_name": fmt.Sprintf("node-%d", i),
			"route.1": "* -> " + c.Service.Dest, "workers": fmt.Sprint(c.Workers), "adaptive_pace": "true"}
		for _, kv := range [][]string{c.Service.Props, c.Props} {
			for j := 0; j+1 < len(kv); j += 2 {
				m[kv[j]] = kv[j+1]
			}
		}
		cfg, err := config.Parse(func(k string) string { return m[k] })
		if err != nil {
			return Result{}, err
		}
		node := i
		in, err := falcocw.New(ctx, cfg, func(l config.Level, msg string) {
			if c.Log != nil && l <= config.LevelWarn {
				c.Log(node, msg)
			}
		})
		if err != nil {
			return Result{}, err
		}
		instances[i] = in
	}
	defer func() {
		for _, in := range instances {
			in.Close(5 * time.Second)
		}
	}()

	// Calls a second the fleet offers, spread evenly over its instances.
	calls := c.Load * c.Quota
	if c.Service.PerRecord {
		calls /= float64(c.ChunkAlerts)
	}
	every := time.Duration(float64(c.Instances) / calls * float64(time.Second))
	var (
		sent    atomic.Int64
		retries atomic.Int64
		delays  delaySet
		wg      sync.WaitGroup
	)
	start := time.Now()
	demandEnd := start.Add(c.Demand)
	var atDemand fakeaws.QuotaCounts
	go func() {
		time.Sleep(time.Until(demandEnd))
		atDemand = srv.QuotaCounts(c.Service.Op)
	}()
	for i, in := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runNode(ctx, c, i, in, every, demandEnd, &sent, &retries, &delays)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	counts := srv.QuotaCounts(c.Service.Op)

	got, err := sampletest.Delivered(srv)
	if err != nil {
		return Result{}, err
	}
	seen := map[string]int{}
	for key, evs := range got {
		if key != c.Service.Key && !strings.HasPrefix(key, c.Service.Key+":") { // CloudWatch's KIND:GROUP:STREAM
			continue
		}
		for _, ev := range evs {
			if u, ok := ev["uuid"].(string); ok {
				seen[u]++
			}
		}
	}
	r := Result{Config: c, Accepted: counts.Accepted, Throttled: counts.Throttled, Alerts: int(sent.Load()),
		Retries: retries.Load(), Elapsed: elapsed}
	for _, n := range seen {
		if n > 1 {
			r.Doubled++
		}
	}
	r.Missing = r.Alerts - len(seen)
	allowed := burst + c.Quota*c.Demand.Seconds()
	took := float64(atDemand.Accepted)
	if c.Service.PerRecord {
		took = float64(atDemand.Records)
	}
	r.Throughput = took / allowed
	r.P50, r.P99 = delays.percentiles()
	return r, nil
}

// delaySet gathers chunk delays from every node.
type delaySet struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *delaySet) add(d time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

func (s *delaySet) percentiles() (p50, p99 time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d) == 0 {
		return 0, 0
	}
	sort.Slice(s.d, func(i, j int) bool { return s.d[i] < s.d[j] })
	return s.d[len(s.d)/2], s.d[len(s.d)*99/100]
}

// pending is a chunk waiting for a flush.
type pending struct {
	data    []byte
	arrived time.Time
	retries int
}

// runNode is one node's Fluent Bit: chunks arrive every every (from a
// random phase) until demandEnd, up to workers flush at once, and a chunk
// answered FLB_RETRY is flushed again after the scheduler's backoff. It
// returns when every chunk is delivered.
func runNode(ctx context.Context, c Config, node int, in *falcocw.Instance, every time.Duration, demandEnd time.Time,
	sent, retries *atomic.Int64, delays *delaySet) {
	ready := make(chan *pending, 1024)
	var outstanding sync.WaitGroup
	// The arrivals.
	go func() {
		next := time.Now().Add(time.Duration(rand.Float64() * float64(every)))
		for seq := 0; next.Before(demandEnd); seq++ {
			time.Sleep(time.Until(next))
			bodies := make([]map[string]any, c.ChunkAlerts)
			now := time.Now()
			for j := range bodies {
				bodies[j] = map[string]any{"rule": "Terminal shell in container", "priority": "Warning", "source": "syscall",
					"time": now.UTC().Format(time.RFC3339Nano), "hostname": fmt.Sprintf("node-%d", node),
					"output": "A shell was spawned in a container with an attached terminal",
					"tags":   []string{"container", "shell", "mitre_execution", "T1059"},
					"uuid":   fmt.Sprintf("n%d-c%d-a%d", node, seq, j)}
			}
			sent.Add(int64(len(bodies)))
			outstanding.Add(1)
			ready <- &pending{data: samples.Chunk(chunk.FormatV2, now, bodies...), arrived: now}
			next = next.Add(every)
		}
		outstanding.Done() // the arrivals' own count
	}()
	outstanding.Add(1)
	done := make(chan struct{})
	go func() { outstanding.Wait(); close(done) }()
	var wg sync.WaitGroup
	for w := 0; w < c.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var p *pending
				select {
				case p = <-ready:
				case <-done:
					return
				}
				res := in.Flush(ctx, "falco", p.data)
				switch res.Status {
				case falcocw.OK, falcocw.Error:
					delays.add(time.Since(p.arrived))
					outstanding.Done()
				default:
					retries.Add(1)
					p.retries++
					// Fluent Bit's scheduler: a random wait between base
					// and min(cap, base·2^n).
					hi := min(c.RetryCap, c.RetryBase<<min(p.retries, 20))
					time.AfterFunc(c.RetryBase+time.Duration(rand.Int64N(int64(hi-c.RetryBase)+1)), func() { ready <- p })
				}
			}
		}()
	}
	wg.Wait()
}
