package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/falcocw/falcocw/internal/realhost"
)

// workload is a file of numbered Falco alerts, one per line, and what
// each variant should deliver of it.
type workload struct {
	path           string
	alerts         int
	bytes, avgLine int
	// critical and mitre count the alerts a priority>=Critical route and
	// a tag=mitre_* route take; cCritical and cMitre what the C outputs'
	// rewrite_tag rules take (the same, unless an output text holds the
	// words).
	critical, mitre, cCritical, cMitre int
	// eks is the same alerts as a Falco pod's container log on an EKS
	// node (CRI lines, the pod's metadata in a preload cache), for the
	// kubernetes filter: written (writeEKS) when an eks variant runs.
	eks *eksLog
}

// eksLog is a container log as containerd writes it under
// /var/log/containers, and the kubernetes filter's view of its pod.
type eksLog struct {
	glob, tagPrefix, cache string
}

// writeEKS writes lines as the CRI log of the EKS scenarios' Falco pod
// (realhost.EKSPod) and the pod's metadata as the Kubernetes API gives it,
// which the kubernetes filter reads from its preload cache instead of the
// API.
func writeEKS(dir string, lines []string) (*eksLog, error) {
	logs, cache := filepath.Join(dir, "containers"), filepath.Join(dir, "kube-cache")
	for _, d := range []string{logs, cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(cache, realhost.EKSMetaName()), []byte(realhost.EKSPodMeta()), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cache, "token"), []byte("bench"), 0o600); err != nil {
		return nil, err
	}
	var b strings.Builder
	base := time.Now().Add(-time.Hour)
	for i, l := range lines {
		realhost.CRILines(&b, l, base.Add(time.Duration(i)*time.Microsecond))
	}
	if err := writeInput(filepath.Join(logs, realhost.EKSLogName()), b.String()); err != nil {
		return nil, err
	}
	return &eksLog{glob: filepath.Join(logs, "*.log"), cache: cache,
		tagPrefix: "falco." + strings.ReplaceAll(strings.TrimPrefix(logs, "/"), "/", ".") + "."}, nil
}

// eksService is the SERVICE and INPUT of conf/fluent-bit.conf as shipped
// for EKS, without its storage and DB (the other workloads keep their
// chunks in memory too): the tail input with the CRI multiline parser and
// the kubernetes filter adding the pod's metadata to every record.
func eksService(ep endpoint, e *eksLog) string {
	var b strings.Builder
	section(&b, "SERVICE", "Flush", "1", "Grace", "5", "Log_Level", "warn", "HTTP_Server", "On", "HTTP_Listen", "127.0.0.1",
		"HTTP_Port", fmt.Sprint(ep.httpPort), "Parsers_File", ep.parsers)
	section(&b, "INPUT", "Name", "tail", "Path", e.glob, "Tag", "falco.*", "multiline.parser", "cri, docker",
		"Read_from_Head", "On", "Refresh_Interval", "1", "File_Cache_Advise", ep.fileCacheAdvise)
	section(&b, "FILTER", "Name", "kubernetes", "Match", "falco.*", "Kube_Tag_Prefix", e.tagPrefix,
		"Kube_Meta_Preload_Cache_Dir", e.cache, "Merge_Log", "Off", "Keep_Log", "On", "Labels", "On", "Annotations", "Off",
		// A service account's files, so that the filter starts without
		// errors off a cluster (the preload cache serves the metadata).
		"Kube_CA_File", ep.caFile, "Kube_Token_File", filepath.Join(e.cache, "token"))
	return b.String()
}

// The C outputs' split, as rewrite_tag regular expressions on the line.
var (
	cCriticalRE = regexp.MustCompile(`priority.:.(Critical|Alert|Emergency)`)
	cMitreRE    = regexp.MustCompile(`mitre_`)
)

func newWorkload(dir string, n int) (*workload, error) {
	w := &workload{path: fmt.Sprintf("%s/falco-%d.log", dir, n), alerts: n}
	var b strings.Builder
	for _, a := range realhost.NumberedAlerts(n) {
		b.WriteString(a.Line)
		b.WriteByte('\n')
		if a.Critical() {
			w.critical++
		}
		if a.HasTagPrefix("mitre_") {
			w.mitre++
		}
		if cCriticalRE.MatchString(a.Line) {
			w.cCritical++
		}
		if cMitreRE.MatchString(a.Line) {
			w.cMitre++
		}
	}
	w.bytes = b.Len()
	w.avgLine = w.bytes / n
	return w, writeInput(w.path, b.String())
}

// writeInput writes a run's input file and waits until it is on the disk.
// Written and left dirty, the kernel would write its hundreds of MB back
// some 30 s later (dirty_expire_centisecs), in the middle of the runs: the
// 600,000-alert group's first runs then cost every variant more, the null
// output's 1.40 s of CPU and 2.8 s to its last record against 0.68 s and
// 1.9 s once the disk was quiet.
func writeInput(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeEKS writes the workload's alerts as an EKS node's container log,
// for the eks variants.
func (w *workload) writeEKS(dir string) error {
	alerts := realhost.NumberedAlerts(w.alerts)
	lines := make([]string, len(alerts))
	for i, a := range alerts {
		lines[i] = a.Line
	}
	var err error
	w.eks, err = writeEKS(filepath.Join(dir, fmt.Sprint("eks-", w.alerts)), lines)
	return err
}

// variant is one output measured: its Fluent Bit configuration, the
// plugin it loads, and how many events reach the endpoint when it is done
// (0: none; done is then read from the null output's record count).
type variant struct {
	name, group string
	plugin      string
	conf        func(ep endpoint) string
	events      int
	// plainHTTP runs the endpoint without TLS: for AWS's Go plugin, which
	// has no way to trust the test certificate.
	plainHTTP bool
}

// endpoint is where a run's outputs deliver, and its metrics port.
type endpoint struct {
	host      string // 127.0.0.1
	port      int
	url       string // https://127.0.0.1:PORT
	httpPort  int    // Fluent Bit's HTTP server, for the null output's count
	parsers   string
	inputFile string
	caFile    string // the endpoint's certificate, PEM
	// fileCacheAdvise is the tail inputs' File_Cache_Advise, On or Off
	// (bench.fileCacheAdvise).
	fileCacheAdvise string
}

func section(b *strings.Builder, name string, kv ...string) { realhost.Section(b, name, kv...) }

func service(ep endpoint, parser bool) string {
	var b strings.Builder
	section(&b, "SERVICE", "Flush", "1", "Grace", "5", "Log_Level", "warn", "HTTP_Server", "On", "HTTP_Listen", "127.0.0.1",
		"HTTP_Port", fmt.Sprint(ep.httpPort), "Parsers_File", ep.parsers)
	in := []string{"Name", "tail", "Path", ep.inputFile, "Tag", "falco.bench", "Read_from_Head", "On", "Refresh_Interval", "1",
		"File_Cache_Advise", ep.fileCacheAdvise}
	if parser {
		in = append(in, "Parser", "json")
	}
	section(&b, "INPUT", in...)
	return b.String()
}

// cOut is one of Fluent Bit's C AWS outputs to the endpoint (they always
// speak TLS): the endpoint's certificate is given as their CA
// (kinesis_firehose verifies even with tls.verify Off).
func cOut(ep endpoint, name, match string, kv ...string) string {
	var b strings.Builder
	section(&b, "OUTPUT", append([]string{"Name", name, "Match", match, "region", "eu-west-1",
		"endpoint", ep.host, "port", fmt.Sprint(ep.port), "tls.verify", "Off", "tls.ca_file", ep.caFile}, kv...)...)
	return b.String()
}

func (b *bench) variants(w *workload, full bool) []variant {
	falcocwOut := func(ep endpoint, routes ...string) string {
		var s strings.Builder
		section(&s, "OUTPUT", append([]string{"Name", "falcocw", "Match", "falco.*", "region", "eu-west-1", "endpoint", ep.url,
			"tls_skip_verify", ep.url, "log_group_name", "/falco/alerts", "log_stream_name", "bench", "workers", fmt.Sprint(b.workers)}, routes...)...)
		return s.String()
	}
	falcocw := func(ep endpoint, routes ...string) string { return service(ep, false) + falcocwOut(ep, routes...) }
	vs := []variant{
		{name: "null (the host's own cost)", group: "tail", conf: func(ep endpoint) string {
			var s strings.Builder
			section(&s, "OUTPUT", "Name", "null", "Match", "*")
			return service(ep, false) + s.String()
		}},
		{name: "C cloudwatch_logs, log_key log (pass-through)", group: "tail", events: w.alerts, conf: func(ep endpoint) string {
			return service(ep, false) + cOut(ep, "cloudwatch_logs", "falco.*", "log_group_name", "/falco/alerts", "log_stream_name", "bench", "log_key", "log")
		}},
		{name: "C parser json + cloudwatch_logs (structured)", group: "tail", events: w.alerts, conf: func(ep endpoint) string {
			return service(ep, true) + cOut(ep, "cloudwatch_logs", "falco.*", "log_group_name", "/falco/alerts", "log_stream_name", "bench")
		}},
		{name: fmt.Sprintf("falcocw, workers %d", b.workers), group: "tail", plugin: b.so, events: w.alerts, conf: func(ep endpoint) string {
			return falcocw(ep)
		}},
	}
	var compared []variant // falcocw B, run at both sizes
	if b.compare != "" {
		compared = []variant{{name: fmt.Sprintf("falcocw B, workers %d", b.workers), group: "tail", plugin: b.compare, events: w.alerts, conf: func(ep endpoint) string {
			return falcocw(ep)
		}}}
		vs = append(vs, compared...)
	}
	if b.goPlugin != "" {
		vs = append(vs, variant{name: "AWS's Go cloudwatch (plain HTTP)", group: "tail", plugin: b.goPlugin, events: w.alerts, plainHTTP: true, conf: func(ep endpoint) string {
			var s strings.Builder
			section(&s, "OUTPUT", "Name", "cloudwatch", "Match", "falco.*", "region", "eu-west-1", "endpoint", ep.url,
				"log_group_name", "/falco/alerts", "log_stream_name", "bench", "auto_create_group", "false")
			return service(ep, false) + s.String()
		}})
	}
	if !full {
		// The long run: the pass-through and falcocw, where the issue
		// saw the gap in throughput widen, and the host's own cost, which
		// says how much of a change per alert from the short run is the
		// host's.
		return append([]variant{vs[0], vs[1], vs[3]}, compared...)
	}
	vs = append(vs,
		variant{name: fmt.Sprintf("falcocw mixed, workers %d", b.workers), group: "mixed", plugin: b.so,
			events: w.alerts + w.critical + w.mitre, conf: func(ep endpoint) string {
				return falcocw(ep, "route.1", "priority>=Critical -> cloudwatch:/falco/critical:bench continue",
					"route.2", "tag=mitre_* -> firehose:falco-mitre continue")
			}},
		variant{name: "C rewrite_tag + cloudwatch_logs + kinesis_firehose", group: "mixed",
			events: w.alerts + w.cCritical + w.cMitre, conf: func(ep endpoint) string {
				var s strings.Builder
				section(&s, "FILTER", "Name", "rewrite_tag", "Match", "falco.*", "Rule", "$log "+cCriticalRE.String()+" critical.$TAG true", "Emitter_Name", "re_critical", "Emitter_Mem_Buf_Limit", "1G")
				section(&s, "FILTER", "Name", "rewrite_tag", "Match", "falco.*", "Rule", "$log "+cMitreRE.String()+" mitre.$TAG true", "Emitter_Name", "re_mitre", "Emitter_Mem_Buf_Limit", "1G")
				return service(ep, false) + s.String() +
					cOut(ep, "cloudwatch_logs", "falco.*", "log_group_name", "/falco/alerts", "log_stream_name", "bench", "log_key", "log") +
					cOut(ep, "cloudwatch_logs", "critical.*", "log_group_name", "/falco/critical", "log_stream_name", "bench", "log_key", "log") +
					cOut(ep, "kinesis_firehose", "mitre.*", "delivery_stream", "falco-mitre", "log_key", "log")
			}},
	)
	vs = append(vs,
		variant{name: "C cloudwatch_logs, the record (log + kubernetes)", group: "eks", events: w.alerts, conf: func(ep endpoint) string {
			return eksService(ep, w.eks) + cOut(ep, "cloudwatch_logs", "falco.*", "log_group_name", "/falco/alerts", "log_stream_name", "bench")
		}},
		variant{name: fmt.Sprintf("falcocw on EKS records, workers %d", b.workers), group: "eks", plugin: b.so, events: w.alerts,
			conf: func(ep endpoint) string { return eksService(ep, w.eks) + falcocwOut(ep) }},
	)
	return vs
}
