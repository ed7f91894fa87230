package realhost_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/rest"
	"github.com/falcocw/falcocw/internal/realhost"
)

// TestRestTrim starts real Fluent Bit with falcocw and nothing to read:
// once every instance has started and a quiet spell has passed, the .so's
// code and read-only data are unmapped (the resident pages of its
// droppable mappings fall), Fluent Bit goes on, and
// alerts written then are all delivered once, from pages faulted back in.
func TestRestTrim(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	abs, err := filepath.Abs(so)
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	for _, bin := range bins {
		t.Run(bin.Version, func(t *testing.T) {
			t.Parallel()
			srv := realhost.NewEndpoint(t)
			dir := t.TempDir()
			path := realhost.WriteFile(t, dir, "falco.log", "")
			var b strings.Builder
			realhost.Section(&b, "SERVICE", "Flush", "1", "Grace", "5")
			realhost.Section(&b, "INPUT", "Name", "tail", "Path", path, "Tag", "falco.node", "Read_from_Head", "On", "Refresh_Interval", "1")
			realhost.Section(&b, "OUTPUT", "Name", "falcocw", "Match", "falco.*", "region", "eu-west-1", "endpoint", srv.URL,
				"log_group_name", "/falco/alerts", "log_stream_name", "node-1", "auto_create_group", "true", "workers", "2")
			conf := realhost.WriteFile(t, dir, "fluent-bit.conf", b.String())
			p := realhost.Start(t, bin, nil, "-c", conf, "-e", so)
			resident := func() (int64, error) {
				all, err := rest.ReadSmaps(fmt.Sprintf("/proc/%d/smaps", p.Pid()))
				if err != nil {
					return 0, err
				}
				var sum int64
				for _, m := range all {
					if strings.TrimSuffix(m.Path, " (deleted)") == abs && m.Droppable() {
						sum += m.Rss
					}
				}
				return sum, nil
			}
			if !p.WaitLog("started:", 20*time.Second) {
				t.Fatalf("falcocw did not start:\n%s", p.Log())
			}
			before, err := resident()
			if err != nil {
				t.Fatal(err)
			}
			if !p.WaitLog("at rest:", rest.StartQuiet+20*time.Second) {
				t.Fatalf("no trim logged:\n%s", p.Log())
			}
			after, err := resident()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("Fluent Bit %s: the .so's code and read-only data resident: %.1f MB started, %.1f MB at rest",
				bin.Version, float64(before)/(1<<20), float64(after)/(1<<20))
			if !strings.Contains(p.Log(), "MB of the plugin's code and data unmapped") {
				t.Errorf("the trim failed:\n%s", p.Log())
			}
			// Alone, a Fluent Bit keeps less than a quarter (2.4 of 18 to 21 MB);
			// beside the other tests' Fluent Bits mapping the same .so, whose
			// pages stay cached in 2 MB folios that a fault maps whole, more.
			if after >= before {
				t.Errorf("resident after the trim %d bytes, before %d: want fewer", after, before)
			}
			want := realhost.Expect{}
			var lines []string
			for _, a := range realhost.NumberedAlertsAt(n, time.Now()) {
				lines = append(lines, a.Line)
				want.Add("cloudwatch:/falco/alerts:node-1", a.UUID)
			}
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
				t.Fatal(err)
			}
			f.Close()
			realhost.Until(60*time.Second, func() bool { return srv.Stored() >= want.Count() })
			p.Stop(20 * time.Second)
			if realhost.Crashed(p.Log()) {
				t.Fatalf("Fluent Bit crashed:\n%s", p.Log())
			}
			missing, dups, extra, notes := want.Compare(realhost.Deliveries(t, srv))
			t.Logf("%d alerts after the trim: %d missing, %d duplicated, %d unexpected", n, missing, dups, extra)
			if missing+dups+extra > 0 {
				t.Errorf("deliveries differ:\n%s", strings.Join(notes, "\n"))
			}
		})
	}
}
