package realhost_test

import (
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/internal/realhost"
)

// TestReplayOldAlertsLogsLittle replays a backlog of 10,000 alerts a month
// old (a reset tail DB, or storage kept through an outage) through real
// Fluent Bit to CloudWatch Logs, outside its 14-day window: every alert
// arrives once, sent with the current time, and falcocw says so in a few
// lines per flush, not one line per alert.
func TestReplayOldAlertsLogsLittle(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	const n, maxLines = 10000, 50
	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			t.Parallel()
			srv := realhost.NewEndpoint(t)
			alerts := realhost.NumberedAlertsAt(n, time.Now().AddDate(0, 0, -30))
			var lines []string
			want := realhost.Expect{}
			for _, a := range alerts {
				lines = append(lines, a.Line)
				want.Add("cloudwatch:/falco/alerts:node-1", a.UUID)
			}
			dir := t.TempDir()
			path := realhost.WriteFile(t, dir, "falco.log", strings.Join(lines, "\n")+"\n")
			var b strings.Builder
			realhost.Section(&b, "SERVICE", "Flush", "1", "Grace", "5")
			realhost.Section(&b, "INPUT", "Name", "tail", "Path", path, "Tag", "falco.node", "Read_from_Head", "On")
			realhost.Section(&b, "OUTPUT", "Name", "falcocw", "Match", "falco.*", "region", "eu-west-1", "endpoint", srv.URL,
				"log_group_name", "/falco/alerts", "log_stream_name", "node-1", "auto_create_group", "true", "workers", "1", "Retry_Limit", "False")
			conf := realhost.WriteFile(t, dir, "fluent-bit.conf", b.String())
			p := realhost.Start(t, bin, nil, "-c", conf, "-e", so)
			realhost.Until(60*time.Second, func() bool { return srv.Stored() >= want.Count() })
			p.Stop(20 * time.Second)
			missing, dups, extra, notes := want.Compare(realhost.Deliveries(t, srv))
			var ours []string
			for _, l := range strings.Split(p.Log(), "\n") {
				if strings.Contains(l, "falcocw") {
					ours = append(ours, l)
				}
			}
			t.Logf("Fluent Bit %s: %d alerts 30 days old replayed: %d missing, %d duplicated, %d unexpected; falcocw logged %d lines",
				bin.Version, n, missing, dups, extra, len(ours))
			if missing+dups+extra > 0 {
				t.Errorf("deliveries differ:\n%s", strings.Join(notes, "\n"))
			}
			if len(ours) > maxLines {
				t.Errorf("falcocw logged %d lines, want at most %d:\n%.4000s", len(ours), maxLines, strings.Join(ours, "\n"))
			}
			if !strings.Contains(p.Log(), "outside CloudWatch's window") {
				t.Errorf("nothing said the alerts were outside CloudWatch's window:\n%.4000s", strings.Join(ours, "\n"))
			}
		})
	}
}
