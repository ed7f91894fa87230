// Command falcocw-bench measures falcocw inside real Fluent Bit beside the
// outputs it replaces, on the same generated workloads, interleaved, over
// TLS to the project's endpoint on 127.0.0.1: Fluent Bit's null output
// (the host's own cost), its C cloudwatch_logs passing the line through,
// the C pipeline that produces structured events (parser json +
// cloudwatch_logs), falcocw, and AWS's Go cloudwatch plugin; then a mixed
// workload routed to CloudWatch Logs and Firehose by tag and priority,
// against the C outputs making the same split with rewrite_tag. For each it
// prints the Fluent Bit process's CPU per alert until the last event
// arrived (and the output threads' and the kernel's parts of it), the
// time to that last delivery, the peak RSS, each output's idle CPU and
// resident memory at rest (loaded, a minute with nothing to send: what a
// resting node pays) beside its peak, and the ratios (for the tail group also with the host's own
// CPU taken from both sides: the outputs' own costs set side by side);
// then the floor: what hashing, encrypting, escaping and sending an alert's
// bytes costs at this machine's measured rates.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/falcocw/falcocw/internal/realhost"
)

func main() {
	n := flag.Int("n", 200000, "alerts in the workload")
	large := flag.Int("large", 600000, "alerts in the long workload (0: skip it)")
	restOnly := flag.Bool("rest", false, "measure the outputs at rest only (the tail group's: a minute of idling each, side by side)")
	runs := flag.Int("runs", 3, "runs of each variant, interleaved; the median is reported")
	so := flag.String("plugin", "build/falcocw.so", "the falcocw .so")
	fb := flag.String("fluent-bit", "", "the fluent-bit to run (default: FLUENT_BIT's first, else ../shared/fluent-bit/v5.0.9, else the newest found)")
	goPlugin := flag.String("aws-go-plugin", "", "AWS's Go cloudwatch.so (default: ../shared/fluent-bit/aws-go-plugins/cloudwatch.so)")
	only := flag.String("only", "", "run only the variants whose \"GROUP: NAME\" matches this regular expression (groups: tail, mixed, eks)")
	workers := flag.Int("workers", 4, "workers of falcocw's output (4, as the README and conf/ have it)")
	compare := flag.String("compare", "", "another falcocw .so (a change, or the same code built otherwise) run in turns with -plugin in the tail group, at both sizes: an A/B in the same runs")
	latency := flag.Duration("latency", 0, "the endpoint answers every call after this long, as AWS does from inside a Region (e.g. 40ms for PutLogEvents); 0: at once")
	advise := flag.Bool("file-cache-advise", false, "turn the tail inputs' File_Cache_Advise on, as Fluent Bit has it by default: every read then drops the whole file from the page cache, and a file read from its head is read back from the disk ahead of each read, which is most of the host's CPU (a log being written is read from the cache)")
	flag.Parse()
	sel, err := regexp.Compile(*only)
	if err != nil {
		fail(fmt.Errorf("-only: %v", err))
	}
	bin, err := pickFluentBit(*fb)
	if err != nil {
		fail(err)
	}
	if *goPlugin == "" {
		*goPlugin = sharedPath("aws-go-plugins", "cloudwatch.so")
	}
	abs, err := filepath.Abs(*so)
	if err != nil {
		fail(err)
	}
	dir, err := os.MkdirTemp("", "falcocw-bench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	if abs, err = install(abs, dir, "falcocw.so"); err != nil {
		fail(err)
	}
	b := &bench{bin: bin, so: abs, goPlugin: *goPlugin, workers: *workers, only: sel, fileCacheAdvise: *advise, latency: *latency, restOnly: *restOnly}
	if *compare != "" {
		if b.compare, err = filepath.Abs(*compare); err == nil {
			b.compare, err = install(b.compare, dir, "falcocw-b.so")
		}
		if err != nil {
			fail(fmt.Errorf("-compare: %v", err))
		}
	}
	if err := b.run(*n, *large, max(*runs, 1)); err != nil {
		fail(err)
	}
}

// install copies the .so at path into dir as name, as a node gets it
// from an image layer's extraction: a file the linker has just written
// sits in the page cache in large folios, which the kernel maps whole
// when a page of one is touched (2.6 MB more of the plugin's code
// resident at rest, measured, than the same file copied), and no node
// runs the linker's output.
func install(path, dir, name string) (string, error) {
	src, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%v (make build first)", err)
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return "", err
	}
	return dst.Name(), dst.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// sharedPath is a file of ../shared/fluent-bit beside the module, "" when
// it is not there.
func sharedPath(parts ...string) string {
	bins, _, _ := realhost.Find()
	for _, b := range bins {
		p := filepath.Join(append([]string{filepath.Dir(filepath.Dir(b.Path))}, parts...)...)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// pickFluentBit returns the Fluent Bit to measure in: the one named, else
// 5.0.9 (what aws-for-fluent-bit 3.4 ships, the reference) when
// found, else the newest found.
func pickFluentBit(path string) (realhost.Binary, error) {
	if path != "" {
		v, err := realhost.VersionOf(path)
		abs, _ := filepath.Abs(path)
		return realhost.Binary{Path: abs, Version: v}, err
	}
	bins, where, err := realhost.Find()
	if err != nil {
		return realhost.Binary{}, err
	}
	if len(bins) == 0 {
		return realhost.Binary{}, fmt.Errorf("no real Fluent Bit at %s: set FLUENT_BIT to a fluent-bit binary (make bench measures in the real host)", where)
	}
	if os.Getenv("FLUENT_BIT") == "" {
		for _, b := range bins {
			if b.Version == "5.0.9" {
				return b, nil
			}
		}
	}
	if os.Getenv("FLUENT_BIT") != "" {
		return bins[0], nil
	}
	return bins[len(bins)-1], nil
}

type bench struct {
	bin      realhost.Binary
	so       string
	goPlugin string
	// compare is a second falcocw .so run beside so ("" for none).
	compare string
	workers int
	only    *regexp.Regexp
	dir     string
	// fileCacheAdvise keeps Fluent Bit's default File_Cache_Advise On in
	// the tail inputs; off, each run reads its input from the page cache
	// (warmed before it), as a log being written is read.
	fileCacheAdvise bool
	// latency delays every answer of the endpoint.
	latency time.Duration
	// restOnly skips the workloads: the outputs at rest only.
	restOnly bool
}

func (b *bench) run(n, large, runs int) error {
	dir, err := os.MkdirTemp("", "falcocw-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b.dir = dir
	fmt.Printf("Fluent Bit %s (%s); falcocw %s (workers %d); AWS's Go plugin %s\n", b.bin.Version, b.bin.Path, b.so, b.workers, orNone(b.goPlugin))
	if b.latency > 0 {
		fmt.Printf("the endpoint answers every call after %s\n", b.latency)
	}
	if b.compare != "" {
		fmt.Printf("falcocw B, compared in turns: %s\n", b.compare)
	}
	if b.fileCacheAdvise {
		fmt.Printf("tail inputs: File_Cache_Advise On (Fluent Bit's default): the input drops the file from the page cache at each read and reads it back from the disk\n")
	} else {
		fmt.Printf("tail inputs: File_Cache_Advise Off, the input file in the page cache at the start of each run, as a log being written is (-file-cache-advise for Fluent Bit's default)\n")
	}
	sizes := []int{n}
	if large > 0 {
		sizes = append(sizes, large)
	}
	var all []summary
	for _, size := range sizes {
		w, err := newWorkload(dir, size)
		if err != nil {
			return err
		}
		fmt.Printf("\nworkload: %d numbered Falco alerts, %d bytes each on average (%d MB), one per line, read by the tail input from the start\n",
			size, w.avgLine, w.bytes>>20)
		variants := b.variants(w, size == n)
		var picked []variant
		for _, v := range variants {
			if b.only.MatchString(v.group + ": " + v.name) {
				picked = append(picked, v)
			}
		}
		if b.restOnly {
			return b.atRest(picked, runs, nil)
		}
		for _, v := range picked {
			if v.group == "eks" {
				if err := w.writeEKS(dir); err != nil {
					return err
				}
				fmt.Printf("and the same alerts as an EKS node's CRI container log, read by the tail input with the cri multiline parser, the kubernetes filter adding the pod's metadata\n")
				break
			}
		}
		results := map[string][]measurement{}
		for r := 1; r <= runs; r++ {
			for _, v := range picked { // interleaved: a slow spell of the machine hits every variant
				m, err := b.measure(v, w)
				if err != nil {
					return fmt.Errorf("%s: %v", v.name, err)
				}
				fmt.Printf("  run %d %-44s CPU %6.2f s (output threads %5.2f)  last delivery %6.2f s  peak RSS %4d MB  events %d\n",
					r, v.name, m.cpu.Seconds(), m.out.Seconds(), m.last.Seconds(), m.rss>>20, m.events)
				results[v.name] = append(results[v.name], m)
			}
		}
		var table []summary
		for _, v := range picked {
			table = append(table, summarize(v, results[v.name], size))
		}
		printTable(size, runs, table)
		all = append(all, table...)
		if size == n {
			if err := b.atRest(picked, runs, table); err != nil {
				return err
			}
		}
	}
	printRatios(all)
	printFloor()
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(not found: its line is skipped)"
	}
	return s
}

// summary is a variant's median run.
type summary struct {
	name, group      string
	alerts           int
	cpuMin, cpuMax   float64
	cpu, last, rssMB float64
	lastMin, lastMax float64
	out              float64 // CPU of the output's threads
	sys              float64 // the kernel's part of cpu
}

// spread returns the least, the median and the greatest of f over runs.
func spread(runs []measurement, f func(measurement) float64) (lo, mid, hi float64) {
	xs := make([]float64, len(runs))
	for i, m := range runs {
		xs[i] = f(m)
	}
	sort.Float64s(xs)
	return xs[0], xs[len(xs)/2], xs[len(xs)-1]
}

func summarize(v variant, ms []measurement, alerts int) summary {
	s := summary{name: v.name, group: v.group, alerts: alerts}
	s.cpuMin, s.cpu, s.cpuMax = spread(ms, func(m measurement) float64 { return m.cpu.Seconds() })
	s.lastMin, s.last, s.lastMax = spread(ms, func(m measurement) float64 { return m.last.Seconds() })
	_, s.rssMB, _ = spread(ms, func(m measurement) float64 { return float64(m.rss) / (1 << 20) })
	_, s.out, _ = spread(ms, func(m measurement) float64 { return m.out.Seconds() })
	_, s.sys, _ = spread(ms, func(m measurement) float64 { return m.sys.Seconds() })
	return s
}

func printTable(n, runs int, rows []summary) {
	fmt.Printf("\n%d alerts, median of %d runs (min to max):\n\n", n, runs)
	fmt.Printf("| output | CPU s | CPU µs/alert | of which output threads µs/alert | of which kernel µs/alert | time to last delivery s | alerts/s | peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		rate := ""
		if r.last > 0 {
			rate = fmt.Sprintf("%.0f", float64(r.alerts)/r.last)
		}
		fmt.Printf("| %s | %.2f (%.2f to %.2f) | %.2f | %.2f | %.2f | %.2f (%.2f to %.2f) | %s | %.0f |\n", r.name, r.cpu, r.cpuMin, r.cpuMax,
			r.cpu/float64(r.alerts)*1e6, r.out/float64(r.alerts)*1e6, r.sys/float64(r.alerts)*1e6, r.last, r.lastMin, r.lastMax, rate, r.rssMB)
	}
}

// printRatios sets falcocw beside each other output of its group and
// size, as the Performance issue states its targets.
func printRatios(all []summary) {
	fmt.Printf("\nratios (falcocw / other, medians; the issue's targets: CPU at most 0.5 of the C pass-through, time to the last delivery and peak RSS at most 1.0 of it; mixed at most 0.5 of the C outputs):\n")
	for _, f := range all {
		if !strings.HasPrefix(f.name, "falcocw") {
			continue
		}
		for _, o := range all {
			if o.group != f.group || o.alerts != f.alerts || o.name == f.name || strings.HasPrefix(o.name, "null") {
				continue
			}
			outRatio := 0.0
			if o.out > 0 {
				outRatio = f.out / o.out
			}
			beyond := ""
			if r, ok := ownRatio(all, f, o); ok {
				beyond = fmt.Sprintf(" (beyond the host's own %.2f)", r)
			}
			fmt.Printf("  %7d alerts, %-26s vs %-52s CPU %.2f%s (output threads %.2f)  time %.2f  RSS %.2f\n", f.alerts, f.name, o.name, f.cpu/o.cpu, beyond, outRatio, f.last/o.last, f.rssMB/o.rssMB)
		}
	}
}

// ownRatio is f's CPU to o's, each less the host's own (the null output's
// in a run of the same size): what the two outputs themselves cost. ok is
// false outside the tail group, whose runs alone share the null output's
// input and engine, or without a null line.
func ownRatio(all []summary, f, o summary) (r float64, ok bool) {
	if o.group != "tail" || f.group != "tail" || o.alerts != f.alerts {
		return 0, false
	}
	for _, h := range all {
		if strings.HasPrefix(h.name, "null") && h.alerts == f.alerts && o.cpu > h.cpu {
			return (f.cpu - h.cpu) / (o.cpu - h.cpu), true
		}
	}
	return 0, false
}

// atRest measures the tail group's outputs loaded with nothing to send,
// side by side, and prints their resident memory beside their peak in the
// run (peaks): how much of an output's peak it holds before the first
// alert.
func (b *bench) atRest(picked []variant, runs int, peaks []summary) error {
	var vs []variant
	for _, v := range picked {
		if v.group == "tail" {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return nil
	}
	// The variants of a run rest side by side: a resting Fluent Bit
	// hardly uses a core, and a minute each in turn would be long.
	ms := map[string][]measurement{}
	for r := 0; r < runs; r++ {
		got := make([]measurement, len(vs))
		errs := make([]error, len(vs))
		var wg sync.WaitGroup
		for i, v := range vs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = b.measureAtRest(v)
			}()
		}
		wg.Wait()
		for i, v := range vs {
			if errs[i] != nil {
				return fmt.Errorf("%s at rest: %v", v.name, errs[i])
			}
			ms[v.name] = append(ms[v.name], got[i])
		}
	}
	fmt.Printf("\nat rest: each output loaded, an empty file to tail, read after %v of start and %v of idling (median of %d runs, the outputs side by side): the CPU of the idle minute, its memory beside its peak above:\n\n", restStart, restIdle, runs)
	fmt.Printf("| output | idle CPU ms a minute | RSS MB | file-backed MB | anonymous MB | peak RSS MB | peak less rest MB |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, v := range vs {
		med := func(f func(measurement) int64) float64 {
			_, mid, _ := spread(ms[v.name], func(m measurement) float64 { return float64(f(m)) / (1 << 20) })
			return mid
		}
		rss := med(func(m measurement) int64 { return m.rss })
		peak := 0.0
		for _, p := range peaks {
			if p.name == v.name {
				peak = p.rssMB
			}
		}
		_, cpu, _ := spread(ms[v.name], func(m measurement) float64 {
			return m.idleCPU.Seconds() * 1000 * float64(time.Minute) / float64(restIdle)
		})
		peaks := "– | –"
		if peak > 0 {
			peaks = fmt.Sprintf("%.0f | %.0f", peak, peak-rss)
		}
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %.1f | %s |\n", v.name, cpu, rss,
			med(func(m measurement) int64 { return m.rssFile }), med(func(m measurement) int64 { return m.rssAnon }), peaks)
	}
	return nil
}

func (b *bench) tmp(name string) string { return filepath.Join(b.dir, name) }

// stamp is a unique suffix for one run's files.
func stamp() string { return fmt.Sprint(time.Now().UnixNano()) }
