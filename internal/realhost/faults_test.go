package realhost_test

import (
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/realhost"
)

const topic = "arn:aws:sns:eu-west-1:123456789012:falco-response"

// TestTwoInstancesUnderFaults: two falcocw outputs with workers 2, routing
// to every kind of destination (CloudWatch Logs, Firehose, SNS, Kinesis
// Data Streams, EventBridge, Security Hub) while AWS throttles (each
// service its own way), fails with 500 and fails batch entries one by one
// (Firehose and Kinesis records, EventBridge entries, Security Hub
// findings): every numbered alert arrives exactly once at each destination
// it is routed to.
func TestTwoInstancesUnderFaults(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			t.Parallel()
			srv := realhost.NewEndpoint(t)
			srv.CreateDeliveryStream("falco-mitre")
			srv.CreateTopic(topic)
			srv.CreateKinesisStream("falco-audit")
			srv.CreateEventBus("falco")
			srv.SetFaults(fakeaws.Faults{Seed: 7, Throttle: 0.15, ServerError: 0.1, RecordFailure: 0.05})
			dir := t.TempDir()
			alerts := realhost.NumberedAlerts(6000)
			half := map[string][]realhost.Alert{"a": alerts[:3000], "b": alerts[3000:]}
			var b strings.Builder
			realhost.Section(&b, "SERVICE", "Flush", "1", "Grace", "10")
			for _, name := range []string{"a", "b"} {
				var lines []string
				for _, a := range half[name] {
					lines = append(lines, a.Line)
				}
				path := realhost.WriteFile(t, dir, name+".log", strings.Join(lines, "\n")+"\n")
				realhost.Section(&b, "INPUT", "Name", "tail", "Path", path, "Tag", "falco."+name, "Read_from_Head", "On")
			}
			realhost.Section(&b, "OUTPUT", append([]string{"Name", "falcocw", "Match", "falco.a", "Alias", "node_a", "region", "eu-west-1", "endpoint", srv.URL,
				"log_group_name", "/falco/alerts", "log_stream_name", "a", "auto_create_group", "true",
				"route.1", "priority>=Critical -> sns:" + topic + " continue",
				"route.2", "tag=mitre_* -> firehose:falco-mitre continue",
				"workers", "2", "Retry_Limit", "False"}, eventKinds(3)...)...)
			realhost.Section(&b, "OUTPUT", append([]string{"Name", "falcocw", "Match", "falco.b", "region", "eu-west-1", "endpoint", srv.URL,
				"log_group_name", "/falco/alerts", "log_stream_name", "b", "auto_create_group", "true",
				"route.1", "priority>=Critical -> sns:" + topic + " continue",
				"route.2", "tag=mitre_* -> firehose:falco-mitre continue",
				"workers", "2", "Retry_Limit", "False"}, eventKinds(3)...)...)
			conf := realhost.WriteFile(t, dir, "fluent-bit.conf", b.String())
			want := realhost.Expect{}
			for name, as := range half {
				for _, a := range as {
					want.Add("cloudwatch:/falco/alerts:"+name, a.UUID)
					if a.Critical() {
						want.Add("sns:"+topic, a.UUID)
					}
					if a.HasTagPrefix("mitre_") {
						want.Add("firehose:falco-mitre", a.UUID)
					}
					expectEventKinds(want, a)
				}
			}
			fb := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
			realhost.Until(60*time.Second, func() bool { return srv.Stored() >= want.Count() })
			time.Sleep(2 * time.Second)
			fb.Stop(20 * time.Second)
			log := fb.Log()
			missing, dups, extra, notes := want.Compare(realhost.Deliveries(t, srv))
			inj := srv.Injected()
			t.Logf("Fluent Bit %s: 2 instances, workers 2, %d alerts, %d deliveries expected (CloudWatch, Firehose, SNS, Kinesis, EventBridge, Security Hub); injected %d throttles, %d 500s, %d entry failures; %d flushes answered retry; %d missing, %d duplicated, %d unexpected",
				bin.Version, len(alerts), want.Count(), inj.Throttle, inj.ServerError, inj.RecordFailure,
				strings.Count(log, "answered retry after"), missing, dups, extra)
			if missing+dups+extra > 0 {
				t.Errorf("deliveries differ:\n%s", strings.Join(notes, "\n"))
			}
			if inj.Throttle == 0 || inj.ServerError == 0 || inj.RecordFailure == 0 {
				t.Errorf("not every fault was injected: %+v", inj)
			}
			if v := srv.Violations(); len(v) > 0 {
				t.Errorf("requests broke AWS limits: %v", v)
			}
			for _, label := range []string{"[output:falcocw:node_a]", "[output:falcocw:falcocw.1]"} {
				if !strings.Contains(log, label+" started:") {
					t.Errorf("no start line under %s, Fluent Bit's name for the instance", label)
				}
			}
		})
	}
}
