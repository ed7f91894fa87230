package realhost_test

import (
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/internal/fbconf"
	"github.com/falcocw/falcocw/internal/realhost"
)

// TestBadConfiguration: each misspelt or out-of-range property is refused
// at start, with a line naming it, or (where the host cannot be told, before
// Fluent Bit 5.1.1) named by falcocw's own messages and by falcocw check.
func TestBadConfiguration(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	for _, tc := range []struct {
		name, line string
		// refusedByFalcocw: falcocw itself refuses it on any host.
		refusedByFalcocw string
		// onOlder is what falcocw says of it at run time on hosts that
		// start with it (empty: nothing to look for).
		onOlder string
	}{
		{"auto_create_grup", "auto_create_grup true", "", "check its spelling"},
		{"route.101", "route.101 * -> default", "property route.101", ""},
		{"route.x", "route.x * -> default", "", ""},
		{"log_grup_name", "log_grup_name /falco/other", "", ""},
	} {
		for _, bin := range bins {
			t.Run(tc.name+"/"+bin.Version, func(t *testing.T) {
				t.Parallel()
				srv := realhost.NewEndpoint(t)
				dir := t.TempDir()
				var b strings.Builder
				realhost.Section(&b, "SERVICE", "Flush", "1")
				realhost.Section(&b, "INPUT", "Name", "dummy", "Tag", "falco.x", "Dummy",
					`{"log":"{\"rule\":\"R\",\"priority\":\"Warning\",\"output\":\"o\",\"time\":\"2026-11-28T10:00:00Z\"}"}`)
				kv := []string{"Name", "falcocw", "Match", "falco.*", "region", "eu-west-1", "endpoint", srv.URL}
				if tc.name != "log_grup_name" {
					kv = append(kv, "log_group_name", "/falco/alerts")
				}
				kv = append(kv, "log_stream_name", "s")
				k, v, _ := strings.Cut(tc.line, " ")
				kv = append(kv, k, v)
				realhost.Section(&b, "OUTPUT", kv...)
				conf := realhost.WriteFile(t, dir, "fluent-bit.conf", b.String())

				// falcocw check names it, whatever the host.
				outs, _, err := fbconf.FindOutputs(conf)
				if err != nil || len(outs) != 1 {
					t.Fatalf("falcocw check: %v, %d outputs", err, len(outs))
				}
				if p := strings.Join(outs[0].Problems(), "\n"); !strings.Contains(p, strings.Fields(tc.line)[0]) {
					t.Errorf("falcocw check does not name %s: %s", tc.name, p)
				}

				fb := realhost.Start(t, bin, nil, "-e", so, "-c", conf)
				exitErr, exited := fb.Wait(6 * time.Second)
				log := fb.Log()
				switch {
				case bin.AtLeast(5, 1, 1):
					if !exited || exitErr == nil || !strings.Contains(log, "unknown configuration property '"+strings.Fields(tc.line)[0]+"'") {
						t.Errorf("Fluent Bit %s did not refuse %s with a line naming it (exited %v: %v)", bin.Version, tc.name, exited, exitErr)
					}
				case tc.refusedByFalcocw != "":
					if !exited || !strings.Contains(log, tc.refusedByFalcocw) {
						t.Errorf("falcocw did not refuse %s on Fluent Bit %s naming it", tc.name, bin.Version)
					}
				case tc.name == "log_grup_name":
					if !exited || !strings.Contains(log, "no default destination") || !strings.Contains(log, "check its spelling") {
						t.Errorf("falcocw did not refuse a configuration without a default destination, with a hint at the spelling")
					}
				case tc.onOlder != "":
					if !strings.Contains(log, tc.onOlder) {
						t.Errorf("Fluent Bit %s: falcocw never hinted at the spelling (%q)", bin.Version, tc.onOlder)
					}
				default:
					t.Logf("Fluent Bit %s cannot refuse %s: falcocw check is the guard (README)", bin.Version, tc.name)
				}
				fb.Stop(10 * time.Second)
			})
		}
	}
}

// TestCrashedInTeardown: only a crash after the engine stopped and every
// falcocw instance logged its exit counts as Fluent Bit's teardown.
func TestCrashedInTeardown(t *testing.T) {
	start := "[ info] [output:falcocw:falcocw.0] started: 2 routes\n"
	stopped := "[ info] [engine] service has stopped (0 pending tasks)\n"
	exit := "[ info] [output:falcocw:falcocw.0] exit: 1 flushes\n"
	crash := "[engine] caught signal (SIGSEGV)\n"
	for _, tt := range []struct {
		log  string
		want bool
	}{
		{start + stopped + exit + crash, true},
		{start + crash + stopped + exit, false},         // during the run
		{start + stopped + crash + exit, false},         // before falcocw's exit
		{start + start + stopped + exit + crash, false}, // one instance had not exited
		{start + stopped + exit, false},                 // no crash
	} {
		if got := realhost.CrashedInTeardown(tt.log); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.log, got, tt.want)
		}
	}
}
