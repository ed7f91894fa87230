package realhost_test

import (
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/flbhost"
	"github.com/falcocw/falcocw/internal/realhost"
)

// isolationScenario is one destination failing in one way while alerts
// arrive steadily; kind "*" fails every destination.
type isolationScenario struct {
	name   string
	kind   string
	refuse bool // its endpoint refuses connections (a Gate shut)
	faults fakeaws.Faults
}

var isolationScenarios = []isolationScenario{
	{name: "firehose refusing connections", kind: "firehose", refuse: true},
	{name: "cloudwatch answering 500", kind: "cloudwatch", faults: fakeaws.Faults{ServerError: 1, Ops: []string{"PutLogEvents"}}},
	{name: "kinesis throttling every call", kind: "kinesis", faults: fakeaws.Faults{Throttle: 1, Ops: []string{"PutRecords"}}},
	{name: "eventbridge answering after 25 s", kind: "eventbridge", faults: fakeaws.Faults{Slow: 1, SlowDelay: 25 * time.Second, Ops: []string{"PutEvents"}}},
	{name: "sns refusing connections", kind: "sns", refuse: true},
	{name: "securityhub answering 500", kind: "securityhub", faults: fakeaws.Faults{ServerError: 1, Ops: []string{"BatchImportFindings"}}},
	{name: "every destination down", kind: "*", faults: fakeaws.Faults{Down: true}},
}

// TestDestinationsIsolated runs real Fluent Bit with the documented
// settings (scheduler.cap 30, filesystem storage, Retry_Limit no_limits,
// workers 1) and every alert routed to all six kinds, alerts written at
// 20 a second for 15 s, while one destination fails in one way (each kind
// and each way at least once; then all of them at once): the healthy
// destinations receive their alerts within 5 s of being written (p99);
// once the failing one is back, all its alerts arrive within 3 minutes;
// nothing is lost or doubled anywhere.
//
// The scenarios of a version run at once, each with its own Fluent Bit
// and endpoint (a minute in all, where one after the other took six);
// the versions run in turn.
func TestDestinationsIsolated(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			var wg sync.WaitGroup
			for _, sc := range isolationScenarios {
				wg.Add(1)
				go func() {
					defer wg.Done()
					runIsolation(t, bin, so, sc)
				}()
			}
			wg.Wait()
		})
	}
}

func runIsolation(t *testing.T, bin realhost.Binary, so string, sc isolationScenario) {
	const rate, writeFor = 20, 15 * time.Second
	srv := realhost.NewEndpoint(t)
	srv.CreateDeliveryStream("falco-archive")
	srv.CreateKinesisStream("falco-audit")
	srv.CreateEventBus("falco")
	srv.CreateLogGroup("/falco/alerts")
	srv.CreateTopic(topic)
	var gate *realhost.Gate
	endpoints := []string{"endpoint", srv.URL}
	if sc.refuse {
		gate = realhost.NewGate(t, srv.URL)
		endpoints = append(endpoints, sc.kind+"_endpoint", gate.URL())
		gate.Shut()
	}
	srv.SetFaults(sc.faults)

	dir := t.TempDir()
	logPath := realhost.WriteFile(t, dir, "falco.log", "")
	var b strings.Builder
	realhost.Section(&b, "SERVICE", "Flush", "1", "Grace", "5", "scheduler.cap", "30", "storage.path", dir+"/flb-storage/")
	realhost.Section(&b, "INPUT", "Name", "tail", "Path", logPath, "Tag", "falco.node", "Read_from_Head", "On",
		"Refresh_Interval", "1", "storage.type", "filesystem")
	realhost.Section(&b, "OUTPUT", append(append([]string{"Name", "falcocw", "Match", "falco.*", "region", "eu-west-1"}, endpoints...),
		"log_group_name", "/falco/alerts", "log_stream_name", "node",
		"route.1", "* -> firehose:falco-archive continue",
		"route.2", "* -> kinesis:falco-audit continue",
		"route.3", "* -> eventbridge:falco continue",
		"route.4", "* -> sns:"+topic+" continue",
		"route.5", "* -> securityhub continue",
		"securityhub_account_id", fakeaws.Account,
		"workers", "4", "Retry_Limit", "no_limits", "storage.total_limit_size", "1G")...)
	conf := realhost.WriteFile(t, dir, "fluent-bit.conf", b.String())
	fb := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
	if !fb.WaitLog("started:", 15*time.Second) {
		t.Errorf("%s: falcocw did not start:\n%s", sc.name, fb.Log())
		return
	}

	alerts := realhost.NumberedAlerts(int(writeFor.Seconds()) * rate)
	dests := []string{"cloudwatch:/falco/alerts:node", "firehose:falco-archive", "kinesis:falco-audit", "eventbridge:falco", "sns:" + topic, "securityhub"}
	want := realhost.Expect{}
	for _, a := range alerts {
		for _, d := range dests {
			want.Add(d, a.UUID)
		}
	}
	failing := func(d string) bool { return sc.kind == "*" || strings.HasPrefix(d, sc.kind) }

	// Arrivals are seen by polling the endpoint every 200 ms.
	var mu sync.Mutex
	written := map[string]time.Time{}
	arrived := map[string]time.Time{} // dest + " " + uuid → first seen
	stopPoll := make(chan struct{})
	var polled sync.WaitGroup
	polled.Add(1)
	go func() {
		defer polled.Done()
		for {
			select {
			case <-stopPoll:
				return
			case <-time.After(200 * time.Millisecond):
			}
			now := time.Now()
			got := realhost.Deliveries(t, srv)
			mu.Lock()
			for d, ids := range got {
				for id := range ids {
					if _, ok := arrived[d+" "+id]; !ok {
						arrived[d+" "+id] = now
					}
				}
			}
			mu.Unlock()
		}
	}()
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	start := time.Now()
	for i, a := range alerts {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
		mu.Lock()
		written[a.UUID] = time.Now()
		mu.Unlock()
		if _, err := f.WriteString(a.Line + "\n"); err != nil {
			t.Error(err)
		}
	}
	f.Close()
	time.Sleep(5 * time.Second) // the healthy destinations' last alerts
	healed := time.Now()
	if gate != nil {
		gate.Open()
	}
	srv.SetFaults(fakeaws.Faults{})
	caughtUp := realhost.Until(3*time.Minute, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(arrived) >= want.Count()
	})
	time.Sleep(2 * time.Second) // what would double arrives now
	close(stopPoll)
	polled.Wait()
	peak := flbhost.PeakRSSOf(fb.Pid())
	fb.Stop(20 * time.Second)

	var healthy []time.Duration
	var last time.Time
	mu.Lock()
	for key, at := range arrived {
		d, id, _ := strings.Cut(key, " ")
		if failing(d) {
			if at.After(last) {
				last = at
			}
			continue
		}
		healthy = append(healthy, at.Sub(written[id]))
	}
	mu.Unlock()
	sort.Slice(healthy, func(i, j int) bool { return healthy[i] < healthy[j] })
	p99 := time.Duration(0)
	if len(healthy) > 0 {
		p99 = healthy[len(healthy)*99/100]
	}
	catchUp := last.Sub(healed)
	missing, dups, extra, notes := want.Compare(realhost.Deliveries(t, srv))
	t.Logf("Fluent Bit %s, %s: %d alerts to 6 destinations; healthy destinations' p99 latency %s (%d deliveries); failing one's catch-up after recovery %s; %d missing, %d duplicated, %d unexpected; Fluent Bit's peak RSS %d MB",
		bin.Version, sc.name, len(alerts), p99.Round(10*time.Millisecond), len(healthy), catchUp.Round(100*time.Millisecond), missing, dups, extra, peak>>20)
	if missing+dups+extra > 0 {
		t.Errorf("%s: deliveries differ (caught up: %v):\n%s\n%.3000s", sc.name, caughtUp, strings.Join(notes, "\n"), fb.Log())
	}
	if sc.kind != "*" && p99 > 5*time.Second {
		t.Errorf("the healthy destinations' p99 latency is %s while %s, want at most 5 s", p99, sc.name)
	}
	if catchUp > 3*time.Minute {
		t.Errorf("the failing destination caught up %s after recovery, want at most 3 minutes", catchUp)
	}
	if sc.kind == "*" && peak > 400<<20 {
		t.Errorf("Fluent Bit's peak RSS %d MB with every destination down, want at most 400 MB", peak>>20)
	}
	log := fb.Log()
	if sc.kind != "*" && strings.Count(log, " is down: ") != 1 {
		t.Errorf("%s: %d lines say a destination is down, want 1:\n%.3000s", sc.name, strings.Count(log, " is down: "), log)
	}
}
