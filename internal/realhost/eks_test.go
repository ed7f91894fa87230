package realhost_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/internal/realhost"
)

// substitute replaces each old with new in text, failing the test when
// old is not there (the shipped configuration changed under the test).
func substitute(t *testing.T, text string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(text, pairs[i]) {
			t.Fatalf("the shipped configuration no longer holds %q", pairs[i])
		}
		text = strings.ReplaceAll(text, pairs[i], pairs[i+1])
	}
	return text
}

// TestEKS runs conf/fluent-bit.conf and conf/fluent-bit.yaml as shipped,
// with only paths and endpoints substituted, on a node where Falco already
// logged: the tail input reads the CRI log (lines over 16 KiB split), the
// kubernetes filter adds the pod's metadata (from the preload cache, as
// from the API), and falcocw routes by it.
func TestEKS(t *testing.T) {
	bins := realhost.Require(t)
	so := realhost.Plugin(t)
	for _, format := range []string{"conf", "yaml"} {
		for _, bin := range bins {
			t.Run(format+"/"+bin.Version, func(t *testing.T) {
				t.Parallel()
				srv := realhost.NewEndpoint(t)
				srv.CreateDeliveryStream("falco-mitre-archive")
				dir := t.TempDir()
				logDir := filepath.Join(dir, "var/log/containers")
				alerts := realhost.NumberedAlerts(151)
				// Lines of 16 KiB + 1 byte, 40 KB and 300 KB: containerd
				// splits them into P parts and a final F.
				for i, n := range []int{16*1024 + 1, 40_000, 300_000, 40_000} {
					alerts[i*50], _ = sizedAlert(t, alerts[i*50], n)
				}
				var log strings.Builder
				base := time.Now().Add(-time.Minute)
				for i, a := range alerts {
					realhost.CRILines(&log, a.Line, base.Add(time.Duration(i)*time.Millisecond))
					if i%25 == 0 {
						for _, n := range realhost.Noise() {
							realhost.CRILines(&log, n, base)
						}
					}
				}
				// Falco logged before Fluent Bit started on the node.
				realhost.WriteFile(t, logDir, realhost.EKSLogName(), log.String())
				cache := filepath.Join(dir, "kube-cache")
				realhost.WriteFile(t, cache, realhost.EKSMetaName(), realhost.EKSPodMeta())

				for _, f := range []string{"parsers.conf", "plugins.conf"} {
					b, err := os.ReadFile(filepath.Join(root, "conf", f))
					if err != nil {
						t.Fatal(err)
					}
					realhost.WriteFile(t, dir, f, strings.ReplaceAll(string(b), "/fluent-bit/falcocw.so", so))
				}
				shipped, err := os.ReadFile(filepath.Join(root, "conf", "fluent-bit."+format))
				if err != nil {
					t.Fatal(err)
				}
				prefix := "falco." + strings.ReplaceAll(strings.TrimPrefix(logDir, "/"), "/", ".") + "."
				var conf string
				if format == "conf" {
					conf = substitute(t, string(shipped),
						"/var/log/containers/", logDir+"/",
						"/var/fluent-bit/state/", dir+"/state/",
						"HTTP_Port         2020", fmt.Sprintf("HTTP_Port         %d", realhost.FreePort(t)),
						"Kube_Tag_Prefix   falco.var.log.containers.", "Kube_Tag_Prefix   "+prefix+"\n    Kube_Meta_Preload_Cache_Dir "+cache,
						"    Name                falcocw\n", "    Name                falcocw\n    endpoint            "+srv.URL+"\n")
				} else {
					conf = substitute(t, string(shipped),
						"/var/log/containers/", logDir+"/",
						"/var/fluent-bit/state/", dir+"/state/",
						"http_port: 2020", fmt.Sprintf("http_port: %d", realhost.FreePort(t)),
						"kube_tag_prefix: falco.var.log.containers.", "kube_tag_prefix: "+prefix+"\n      kube_meta_preload_cache_dir: "+cache,
						"    - name: falcocw\n", "    - name: falcocw\n      endpoint: "+srv.URL+"\n")
				}
				confPath := realhost.WriteFile(t, dir, "fluent-bit."+format, conf)

				want := realhost.Expect{}
				for _, a := range alerts {
					if a.Critical() {
						want.Add("cloudwatch:/falco/critical:"+realhost.EKSNode, a.UUID)
					}
					if a.HasTagPrefix("mitre_") {
						want.Add("firehose:falco-mitre-archive", a.UUID)
					}
					if a.Source == "k8s_audit" {
						want.Add("cloudwatch:/falco/k8s-audit:"+realhost.EKSNode, a.UUID)
					} else {
						want.Add("cloudwatch:/falco/alerts:"+realhost.EKSNode, a.UUID)
					}
				}
				fb := realhost.Start(t, bin, nil, "-c", confPath)
				realhost.Until(30*time.Second, func() bool { return srv.Stored() >= want.Count() })
				time.Sleep(1500 * time.Millisecond)
				fb.Stop(15 * time.Second)
				missing, dups, extra, notes := want.Compare(realhost.Deliveries(t, srv))
				t.Logf("Fluent Bit %s, fluent-bit.%s: %d alerts (%d over 16 KiB, up to 300 KB, split by the runtime) already in the log at start: %d deliveries expected, %d missing, %d duplicated, %d unexpected",
					bin.Version, format, len(alerts), 4, want.Count(), missing, dups, extra)
				if missing+dups+extra > 0 {
					t.Errorf("deliveries differ:\n%s", strings.Join(notes, "\n"))
				}
				events := srv.Events("/falco/alerts", realhost.EKSNode)
				if len(events) == 0 {
					t.Fatal("nothing in the node's stream")
				}
				for _, want := range []string{`"pod_name":"` + realhost.EKSPod + `"`, `"namespace_name":"` + realhost.EKSNamespace + `"`, `"container_name":"falco"`, `"app.kubernetes.io/name":"falco"`} {
					if !strings.Contains(events[0].Message, want) {
						t.Errorf("the event lacks the kubernetes filter's %s: %.400s", want, events[0].Message)
					}
				}
				if realhost.Crashed(fb.Log()) {
					t.Error("Fluent Bit crashed")
				}
			})
		}
	}
}
