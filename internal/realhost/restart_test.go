package realhost_test

import (
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/realhost"
)

func restartConfig(dir, endpoint string) string {
	var b strings.Builder
	realhost.Section(&b, "SERVICE", "Flush", "1", "Grace", "5", "storage.path", dir+"/flb-storage/", "storage.sync", "normal")
	realhost.Section(&b, "INPUT", "Name", "tail", "Path", dir+"/falco.log", "Tag", "falco.log", "Read_from_Head", "On",
		"DB", dir+"/tail.db", "storage.type", "filesystem")
	realhost.Section(&b, "OUTPUT", append([]string{"Name", "falcocw", "Match", "falco.*", "region", "eu-west-1", "endpoint", endpoint,
		"log_group_name", "/falco/alerts", "log_stream_name", "node-1", "auto_create_group", "true",
		"journal_path", dir + "/falcocw-journal", "workers", "1", "Retry_Limit", "False"}, eventKinds(1)...)...)
	return b.String()
}

// TestRestartSlowEndpoint stops Fluent Bit (SIGTERM) while AWS answers
// slowly, so that flushes are in flight when the engine stops and their
// chunks stay in filesystem storage, then starts it again with AWS healthy:
// Fluent Bit replays those chunks, and falcocw's journal keeps what already
// arrived from arriving twice, at every kind of destination the alerts are
// routed to (CloudWatch Logs, Kinesis, EventBridge, Security Hub). Nothing
// is lost, nothing doubled.
func TestRestartSlowEndpoint(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			t.Parallel()
			srv := realhost.NewEndpoint(t)
			srv.CreateKinesisStream("falco-audit")
			srv.CreateEventBus("falco")
			srv.SetFaults(fakeaws.Faults{Seed: 1, Slow: 1, SlowDelay: 3 * time.Second})
			dir := t.TempDir()
			alerts := realhost.NumberedAlerts(2000)
			var lines []string
			for _, a := range alerts {
				lines = append(lines, a.Line)
			}
			realhost.WriteFile(t, dir, "falco.log", strings.Join(lines, "\n")+"\n")
			conf := realhost.WriteFile(t, dir, "fluent-bit.conf", restartConfig(dir, srv.URL))
			first := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
			if !first.WaitLog("started:", 10*time.Second) {
				t.Fatal("falcocw did not start")
			}
			time.Sleep(6 * time.Second)
			stopTook := first.Stop(60 * time.Second)
			before := srv.Stored()
			srv.SetFaults(fakeaws.Faults{})

			second := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
			want := realhost.Expect{}
			for _, a := range alerts {
				want.Add("cloudwatch:/falco/alerts:node-1", a.UUID)
				expectEventKinds(want, a)
			}
			realhost.Until(30*time.Second, func() bool { return srv.Stored() >= want.Count() })
			time.Sleep(2 * time.Second) // replays that would double arrive now
			second.Stop(20 * time.Second)
			missing, dups, extra, notes := want.Compare(realhost.Deliveries(t, srv))
			t.Logf("Fluent Bit %s: %d alerts; stop under a 3 s endpoint took %s with %d delivered; after the restart %d missing, %d duplicated, %d unexpected",
				bin.Version, len(alerts), stopTook.Round(100*time.Millisecond), before, missing, dups, extra)
			if missing+dups+extra > 0 {
				t.Errorf("deliveries differ:\n%s", strings.Join(notes, "\n"))
			}
			if before > 0 && !strings.Contains(second.Log(), "delivered before the restart (journal)") {
				t.Errorf("the first run delivered %d alerts, but the second did not say it skipped any as journaled", before)
			}
		})
	}
}
