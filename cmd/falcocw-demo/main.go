// Command falcocw-demo shows falcocw end to end without AWS: it starts a
// local AWS-protocol endpoint (CloudWatch Logs, Firehose, SNS, EventBridge,
// Security Hub, S3 for Security Lake), loads the
// falcocw .so the way Fluent Bit does (through a real fluent-bit when one
// is named by FLUENT_BIT or on PATH, else through the bundled host that
// calls the same entry points), feeds it the bundled Falco samples, and
// prints where each event went and one event as CloudWatch stored it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/falcocw/falcocw/falcocw/chunk"
	"github.com/falcocw/falcocw/falcocw/ocsf"
	"github.com/falcocw/falcocw/internal/fakeaws"
	"github.com/falcocw/falcocw/internal/flbhost"
	"github.com/falcocw/falcocw/internal/samples"
	"github.com/falcocw/falcocw/internal/sampletest"
)

// demoConfig is the [OUTPUT] section the demo runs, as it would appear in
// fluent-bit.conf (the endpoint is added at run time).
var demoConfig = []flbhost.Property{
	{Key: "region", Value: "eu-west-1"},
	{Key: "cluster", Value: "demo-cluster"},
	{Key: "log_group_name", Value: "/falco/alerts"},
	{Key: "log_stream_name", Value: "{hostname}"},
	{Key: "auto_create_group", Value: "true"},
	{Key: "route.1", Value: "priority>=Critical -> cloudwatch:/falco/critical:{hostname} continue"},
	{Key: "route.2", Value: "priority>=Critical -> sns:" + demoTopic + " continue"},
	{Key: "route.3", Value: "priority>=Error -> eventbridge:falco continue"},
	{Key: "route.4", Value: "priority>=Critical -> securityhub continue"},
	{Key: "route.5", Value: "priority>=Warning -> securitylake:" + demoLake + " continue"},
	{Key: "route.6", Value: "tag=mitre_* -> firehose:falco-mitre-archive"},
	{Key: "route.7", Value: "source=k8s_audit,aws_cloudtrail,okta,github -> cloudwatch:/falco/cloud:{source}"},
	{Key: "securitylake_flush_interval", Value: "5s"},
	{Key: "metrics_namespace", Value: "Falco"},
	{Key: "metrics_dimensions", Value: "cluster,priority;cluster,rule"},
}

const (
	demoTopic      = "arn:aws:sns:eu-west-1:123456789012:falco-response"
	demoLakeBucket = "aws-security-data-lake-eu-west-1-demo"
	demoLake       = demoLakeBucket + "/ext/falco/1.0"
)

func main() {
	so := flag.String("plugin", "build/falcocw.so", "the falcocw .so (built when missing)")
	useFluentBit := flag.Bool("fluent-bit", true, "use a real fluent-bit when one is on PATH")
	flag.Parse()
	if err := run(*so, *useFluentBit); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(so string, useFluentBit bool) error {
	tmp, err := os.MkdirTemp("", "falcocw-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := os.Stat(so); err != nil {
		fmt.Println("building the plugin ...")
		if so, err = flbhost.BuildPlugin(tmp); err != nil {
			return err
		}
	}
	srv := fakeaws.New()
	defer srv.Close()
	srv.CreateDeliveryStream("falco-mitre-archive")
	srv.CreateTopic(demoTopic)
	srv.CreateEventBus("falco")
	fmt.Printf("local AWS endpoint (CloudWatch Logs, Firehose, SNS, EventBridge, Security Hub and S3 protocols): %s\n", srv.URL)
	fmt.Println("[OUTPUT] section:")
	for _, p := range demoConfig {
		fmt.Printf("    %-18s %s\n", p.Key, p.Value)
	}
	// The Security Lake spool on disk, as a deployment keeps it.
	props := append([]flbhost.Property{{Key: "endpoint", Value: srv.URL}, {Key: "journal_path", Value: filepath.Join(tmp, "journal")}}, demoConfig...)
	srv.VerifySignatures(fakeaws.AccessKey, fakeaws.SecretKey) // as AWS would
	env := fakeaws.Env()
	recs := samples.Records()

	if fb := findFluentBit(); fb != "" && useFluentBit {
		fmt.Printf("\nfeeding %d sample records through %s ...\n", len(recs), fb)
		if err := runFluentBit(fb, so, tmp, props, env, recs, srv); err != nil {
			return err
		}
	} else {
		fmt.Printf("\nno fluent-bit on PATH: feeding %d sample records through the .so with the bundled host,\n"+
			"which calls FLBPluginRegister/Init/FlushCtx/Exit as Fluent Bit's Go proxy does ...\n", len(recs))
		if err := runHost(so, tmp, props, env, recs); err != nil {
			return err
		}
	}
	return report(srv, recs)
}

// findFluentBit returns the fluent-bit to run: FLUENT_BIT (the first, when
// it lists several), else fluent-bit on PATH, else "".
func findFluentBit() string {
	if env := strings.FieldsFunc(os.Getenv("FLUENT_BIT"), func(r rune) bool { return r == ':' || r == ',' || r == ' ' }); len(env) > 0 {
		return env[0]
	}
	if fb, err := exec.LookPath("fluent-bit"); err == nil {
		return fb
	}
	return ""
}

func runHost(so, tmp string, props []flbhost.Property, env []string, recs []samples.Record) error {
	hostBin, err := flbhost.BuildHost(tmp)
	if err != nil {
		return err
	}
	h, err := flbhost.Start(hostBin, so, env)
	if err != nil {
		return err
	}
	defer h.Kill()
	id, ret, err := h.Init(props)
	if err != nil || ret != flbhost.FLBOK {
		return fmt.Errorf("init returned %d (%v):\n%s", ret, err, h.Log())
	}
	var c []byte
	flushes := 0
	flush := func() error {
		ret, err := h.Flush(id, "falco.stdout", c)
		if err != nil || ret != flbhost.FLBOK {
			return fmt.Errorf("flush returned %d (%v):\n%s", ret, err, h.Log())
		}
		c = c[:0]
		flushes++
		return nil
	}
	for i, r := range recs {
		if c, err = chunk.Append(c, chunk.FormatV2, time.Now().Add(time.Duration(i)*time.Millisecond), r.Body); err != nil {
			return err
		}
		if len(c) > 32*1024 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(c) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	if _, err := h.Exit(); err != nil {
		return err
	}
	fmt.Printf("%d flushes returned FLB_OK. The plugin's log:\n%s", flushes, indent(h.Log()))
	return nil
}

func runFluentBit(fb, so, tmp string, props []flbhost.Property, env []string, recs []samples.Record, srv *fakeaws.Server) error {
	var in bytes.Buffer
	for _, r := range recs {
		b, _ := json.Marshal(r.Body)
		in.Write(b)
		in.WriteByte('\n')
	}
	input := filepath.Join(tmp, "falco.log")
	if err := os.WriteFile(input, in.Bytes(), 0o644); err != nil {
		return err
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, "[SERVICE]\n    Flush 1\n    Parsers_File %s\n\n", filepath.Join(tmp, "parsers.conf"))
	fmt.Fprintf(&conf, "[INPUT]\n    Name tail\n    Path %s\n    Tag falco.stdout\n    Read_from_Head On\n    Parser json\n\n", input)
	fmt.Fprintf(&conf, "[OUTPUT]\n    Name falcocw\n    Match falco.*\n")
	for _, p := range props {
		fmt.Fprintf(&conf, "    %s %s\n", p.Key, p.Value)
	}
	os.WriteFile(filepath.Join(tmp, "parsers.conf"), []byte("[PARSER]\n    Name json\n    Format json\n"), 0o644)
	confPath := filepath.Join(tmp, "fluent-bit.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(fb, "-e", so, "-c", confPath)
	cmd.Env = append(os.Environ(), env...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return err
	}
	want := 0
	for _, r := range recs {
		if a := sampletest.AlertOf(r); a != nil {
			want++
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && archived(srv) < want {
		time.Sleep(200 * time.Millisecond)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	fmt.Printf("fluent-bit's log:\n%s", indent(log.String()))
	if got := archived(srv); got < want {
		return fmt.Errorf("%s delivered %d events of the %d alerts in 30 s: see its log above", fb, got, want)
	}
	return nil
}

// archived counts the CloudWatch log events and Firehose records: every
// alert of the demo's routes lands in at least one of them, so once there
// are as many as alerts, Fluent Bit has flushed every chunk.
func archived(srv *fakeaws.Server) int {
	n := 0
	for _, c := range srv.LogStreams() {
		n += c
	}
	for _, c := range srv.DeliveryStreams() {
		n += c
	}
	return n
}

func report(srv *fakeaws.Server, recs []samples.Record) error {
	got, err := sampletest.Delivered(srv)
	if err != nil {
		return err
	}
	fmt.Println("\nwhere the events went:")
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DESTINATION\tEVENTS\tPRIORITIES")
	dests := make([]string, 0, len(got))
	for d := range got {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	alerts := 0
	for _, d := range dests {
		if strings.HasPrefix(d, "cloudwatch:/falco/metrics:") {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", d, len(got[d]), "EMF metric records (below)")
			continue
		}
		prios := map[string]int{}
		for _, e := range got[d] {
			prios[fmt.Sprint(e["priority"])]++
		}
		var parts []string
		for _, p := range []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"} {
			if prios[p] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", p, prios[p]))
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", d, len(got[d]), strings.Join(parts, ", "))
	}
	tw.Flush()
	for _, r := range recs {
		if sampletest.AlertOf(r) != nil {
			alerts++
		}
	}
	fmt.Printf("\n%d sample records: %d Falco alerts, %d other lines (dropped: non_falco drop)\n", len(recs), alerts, len(recs)-alerts)
	if v := srv.Violations(); len(v) > 0 {
		return fmt.Errorf("requests broke AWS API limits: %v", v)
	}

	// One event exactly as CloudWatch stored it: a FireLens alert, with
	// its ECS metadata and the context falcocw adds.
	streams := srv.LogStreams()
	for _, key := range fakeaws.SortedKeys(streams) {
		g, st, _ := strings.Cut(key, ":")
		for _, e := range srv.Events(g, st) {
			if strings.Contains(e.Message, `"ecs_cluster"`) {
				fmt.Printf("\none event as stored in CloudWatch Logs, group %s, stream %s (timestamp %s):\n%s\n",
					g, st, time.UnixMilli(e.Timestamp).UTC().Format(time.RFC3339Nano), pretty(e.Message))
				goto sns
			}
		}
	}
sns:
	if msgs := srv.Messages(demoTopic); len(msgs) > 0 {
		m := msgs[0]
		fmt.Printf("\none message as published to SNS topic %s, with the attributes subscription filter policies match on:\n", demoTopic)
		for _, name := range []string{"priority", "rule", "source", "hostname", "tags"} {
			if a, ok := m.Attributes[name]; ok {
				fmt.Printf("    attribute %-9s %-13s %s\n", name, a[0], a[1])
			}
		}
		fmt.Printf("    message   %.160s...\n", m.Body)
	}
	if evs := srv.BusEvents("falco"); len(evs) > 0 {
		e := evs[0]
		b, _ := json.Marshal(map[string]any{"Source": e.Source, "DetailType": e.DetailType, "Time": e.Time, "Resources": e.Resources, "Detail": e.Detail})
		fmt.Printf("\none event as put on EventBridge bus falco (what a rule's pattern matches on: source, detail-type, detail.priority...):\n%s\n", pretty(string(b)))
	}
	if f := firstFinding(srv); f != nil {
		b, _ := json.Marshal(f)
		fmt.Printf("\none finding as imported into Security Hub (ASFF, BatchImportFindings):\n%s\n", pretty(string(b)))
	}
	if err := lakeReport(srv); err != nil {
		return err
	}
	if ev := srv.Events("/falco/metrics", "falcocw"); len(ev) > 0 {
		fmt.Printf("\none CloudWatch Embedded Metric Format record (group /falco/metrics: CloudWatch turns it into the metric Falco/Alerts):\n%s\n", pretty(ev[0].Message))
	}
	return nil
}

// lakeReport prints the Security Lake objects and one row as written,
// read back from its Parquet object.
func lakeReport(srv *fakeaws.Server) error {
	objs := srv.Objects(demoLakeBucket)
	keys := srv.ObjectKeys(demoLakeBucket)
	if len(keys) == 0 {
		return nil
	}
	var first ocsf.Finding
	rows := 0
	// The row to show: one that has every part of the mapping (attacks,
	// the host, the container).
	whole := func(f ocsf.Finding) bool {
		return f.Device != nil && f.Device.Container != nil && len(f.FindingInfo.Attacks) > 0
	}
	for _, k := range keys {
		b := objs[k]
		r := parquet.NewGenericReader[ocsf.Finding](bytes.NewReader(b))
		all := make([]ocsf.Finding, r.NumRows())
		n, err := r.Read(all)
		if err != nil && n != len(all) {
			return fmt.Errorf("reading the Parquet object %s: %v", k, err)
		}
		r.Close()
		rows += n
		for _, f := range all[:n] {
			if first.Time == 0 || !whole(first) && whole(f) {
				first = f
			}
		}
	}
	fmt.Printf("\nSecurity Lake custom source s3://%s: %d findings in %d Parquet objects (OCSF 1.1.0 Detection Findings):\n", demoLake, rows, len(keys))
	for _, k := range keys {
		fmt.Printf("    %s (%d bytes)\n", k, len(objs[k]))
	}
	first.RawData = fmt.Sprintf("(%d bytes: the event as delivered elsewhere)", len(first.RawData))
	b, _ := json.Marshal(first)
	fmt.Printf("\none row as written to Security Lake, read back from its Parquet object (raw_data shortened here):\n%s\n", pretty(string(b)))
	return nil
}

// firstFinding is the finding of the earliest alert, for a stable demo.
func firstFinding(srv *fakeaws.Server) map[string]any {
	var first map[string]any
	for _, f := range srv.Findings() {
		if first == nil || fmt.Sprint(f.Finding["CreatedAt"], f.Finding["Id"]) < fmt.Sprint(first["CreatedAt"], first["Id"]) {
			first = f.Finding
		}
	}
	return first
}

func pretty(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}
