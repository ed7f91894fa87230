package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/falcocw/falcocw/internal/fakeaws"
)

// measurement is one run of one variant.
type measurement struct {
	cpu time.Duration // Fluent Bit's CPU (user + system) when the last event arrived
	// sys is the system (kernel) part of cpu: for the null output more
	// than half of it, the tail input's reads; with -file-cache-advise
	// nearly all, the input reading the file back from the disk (it drops
	// what it read from the page cache, posix_fadvise DONTNEED).
	sys time.Duration
	// out is the CPU of the output's threads: Fluent Bit's output
	// workers (flb-out-*) and the Go runtime's threads (which take the
	// process's name); the rest is the engine's (inputs, filters, the
	// scheduler).
	out    time.Duration
	last   time.Duration // from the start of Fluent Bit to the last event's arrival
	rss    int64         // peak RSS (VmHWM) then
	events int64
	// At rest (measureAtRest): the resident memory, file-backed and
	// anonymous, and the CPU of the idle minute (start-up's left out).
	rssFile, rssAnon int64
	idleCPU          time.Duration
}

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat's times.
const clockTick = 100

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// measure runs one variant in a fresh Fluent Bit and a fresh endpoint
// until every event it should deliver has arrived (or, for the null
// output, every record was consumed), and reads the process's CPU and
// peak RSS at that moment.
func (b *bench) measure(v variant, w *workload) (measurement, error) {
	reads := []string{w.path}
	if v.group == "eks" && w.eks != nil {
		reads, _ = filepath.Glob(w.eks.glob)
	}
	return b.run1(v, w.path, reads, w.alerts, false)
}

// settle collects the bench's own garbage (the workload's text, the
// endpoint's requests of the run before) and gives its memory back to the
// kernel before a run, so that this process's collector and scavenger do
// not run beside the measured Fluent Bit on the machine's few cores.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// At rest a Fluent Bit with nothing to read starts (its outputs' init, a
// Go plugin's start-up trim after five quiet seconds) for restStart, then
// idles for restIdle, as the resting node of a fleet does; its memory is
// read at the end and its idle CPU is that of the restIdle.
const (
	restStart = 10 * time.Second
	restIdle  = time.Minute
)

// measureAtRest runs one variant with an empty file to tail and reads its
// resident memory after restStart and restIdle: what the output costs
// before the first alert.
func (b *bench) measureAtRest(v variant) (measurement, error) {
	empty := b.tmp("empty-" + stamp() + ".log")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		return measurement{}, err
	}
	return b.run1(v, empty, nil, 0, true)
}

// run1 is one run: until the events arrive, or, when rest is set, for
// rest. input is the tail input's file (the eks variants have their
// own); reads are the files the run's inputs read.
func (b *bench) run1(v variant, input string, reads []string, alerts int, rest bool) (measurement, error) {
	settle()
	srv := fakeaws.NewTLS()
	if v.plainHTTP {
		srv = fakeaws.New()
	}
	srv.Light = true // read, count and acknowledge: the endpoint's cost stays out of the way
	defer srv.Close()
	if b.latency > 0 {
		srv.SetFaults(fakeaws.Faults{Slow: 1, SlowDelay: b.latency})
	}
	for _, g := range []string{"/falco/alerts", "/falco/critical"} {
		srv.CreateLogGroup(g)
	}
	srv.CreateDeliveryStream("falco-mitre")
	cert := b.tmp("endpoint-" + stamp() + ".pem")
	if c := srv.Certificate(); c != nil {
		if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644); err != nil {
			return measurement{}, err
		}
	}
	u := strings.TrimPrefix(strings.TrimPrefix(srv.URL, "https://"), "http://")
	host, portText, _ := strings.Cut(u, ":")
	port, _ := strconv.Atoi(portText)
	httpPort, err := freePort()
	if err != nil {
		return measurement{}, err
	}
	parsers := b.tmp("parsers.conf")
	if err := os.WriteFile(parsers, []byte("[PARSER]\n    Name json\n    Format json\n"), 0o644); err != nil {
		return measurement{}, err
	}
	ep := endpoint{host: host, port: port, url: srv.URL, httpPort: httpPort, parsers: parsers, inputFile: input, caFile: cert,
		fileCacheAdvise: "Off"}
	if b.fileCacheAdvise {
		ep.fileCacheAdvise = "On"
	} else if err := warm(reads); err != nil {
		return measurement{}, err
	}
	conf := b.tmp("fluent-bit-" + stamp() + ".conf")
	if err := os.WriteFile(conf, []byte(v.conf(ep)), 0o644); err != nil {
		return measurement{}, err
	}
	args := []string{"-q", "-c", conf}
	if v.plugin != "" {
		args = append([]string{"-e", v.plugin}, args...)
	}
	cmd := exec.Command(b.bin.Path, args...)
	// The test credentials. (A Go plugin inside Fluent Bit does not see
	// SSL_CERT_FILE: its Go runtime reads the system's bundle, measured
	// with strace; hence tls_skip_verify for falcocw, as tls.verify Off
	// for the C outputs.)
	cmd.Env = append(os.Environ(), fakeaws.Env()...)
	// A CA bundle the bench's machine names for the SDK (AWS_CA_BUNDLE)
	// is not the nodes': the SDK would read it at start, 0.65 MB of
	// falcocw's memory at rest that a node does not hold.
	cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, "AWS_CA_BUNDLE=") })
	if rest { // an idle run's profile would replace the measured run's
		cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, "FALCOCW_CPUPROFILE=") })
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measurement{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	pid := cmd.Process.Pid
	if rest {
		time.Sleep(restStart)
		started, err := runTime(pid)
		if err != nil {
			return measurement{}, fmt.Errorf("fluent-bit exited at rest (%v); its log:\n%s", err, tail(log.String(), 3000))
		}
		time.Sleep(restIdle)
		if !alive(pid) {
			return measurement{}, fmt.Errorf("fluent-bit exited at rest; its log:\n%s", tail(log.String(), 3000))
		}
		m := measurement{}
		if m.cpu, m.sys, _, err = procUsage(pid); err != nil {
			return m, err
		}
		ended, err := runTime(pid)
		if err != nil {
			return m, err
		}
		m.idleCPU = ended - started
		m.rss, m.rssFile, m.rssAnon, err = residentNow(pid)
		return m, err
	}
	count := func() int64 { return srv.LightCount() }
	want := int64(v.events)
	if v.events == 0 {
		want = int64(alerts)
		count = func() int64 { return nullRecords(httpPort) }
	}
	deadline := start.Add(5 * time.Minute)
	poll := 10 * time.Millisecond
	if v.events == 0 {
		poll = 100 * time.Millisecond // each look at the metrics costs the host a little
	}
	var last int64
	lastChange := start
	for {
		got := count()
		if got != last {
			last, lastChange = got, time.Now()
		}
		if time.Since(lastChange) > 30*time.Second {
			return measurement{}, fmt.Errorf("stalled at %d of %d events for 30 s; Fluent Bit's log:\n%s", got, want, tail(log.String(), 3000))
		}
		if got >= want {
			m := measurement{last: time.Since(start), events: got}
			m.cpu, m.sys, m.rss, err = procUsage(pid)
			m.out = outputThreads(pid)
			return m, err
		}
		if time.Now().After(deadline) {
			return measurement{}, fmt.Errorf("%d of %d events after %v; Fluent Bit's log:\n%s", got, want, time.Since(start), tail(log.String(), 3000))
		}
		if l := log.String(); strings.Contains(l, "cannot be retried") || strings.Contains(l, "[error]") {
			return measurement{}, fmt.Errorf("%d of %d events: Fluent Bit logs an error:\n%s", got, want, tail(l, 3000))
		}
		if cmd.ProcessState != nil || !alive(pid) {
			return measurement{}, fmt.Errorf("fluent-bit exited with %d of %d events; its log:\n%s", got, want, tail(log.String(), 3000))
		}
		time.Sleep(poll)
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// warm reads files into the page cache, where a run with
// File_Cache_Advise Off finds its input whatever the run before did.
func warm(files []string) error {
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// procUsage reads a process's CPU time (user + system), its system part,
// and its peak RSS.
func procUsage(pid int) (cpu, sys time.Duration, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest) // from field 3 (state) on
	if len(f) < 13 {
		return 0, 0, 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	cpu = time.Duration(ut+st) * time.Second / clockTick
	sys = time.Duration(st) * time.Second / clockTick
	status, err := readStatus(pid)
	return cpu, sys, status["VmHWM"], err
}

// runTime is the CPU time a process's threads have run, to the
// nanosecond (/proc/PID/task/*/schedstat; /proc/PID/stat counts in 10 ms
// ticks, too coarse for a minute of idling). A thread that has ended no
// longer counts.
func runTime(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("no threads of %d: %v", pid, err)
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			sum += ns
		}
	}
	return time.Duration(sum), nil
}

// residentNow reads a process's resident memory now: in all, file-backed
// (its binaries' and libraries' pages) and anonymous (heaps, and the
// pages the loader relocated).
func residentNow(pid int) (rss, file, anon int64, err error) {
	status, err := readStatus(pid)
	return status["VmRSS"], status["RssFile"], status["RssAnon"], err
}

// readStatus reads the sizes in /proc/PID/status, in bytes.
func readStatus(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if kb, isKB := strings.CutSuffix(strings.TrimSpace(value), " kB"); ok && isKB {
			n, _ := strconv.ParseInt(kb, 10, 64)
			sizes[key] = n << 10
		}
	}
	return sizes, nil
}

// outputThreads sums the CPU of the process's output threads: those
// named flb-out-* (an output's workers, where a Go plugin's flush runs
// too) and the Go runtime's own, which inherit the name of the process's
// main thread (the main thread itself only waits).
func outputThreads(pid int) time.Duration {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var ticks int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, t.Name()))
		if err != nil {
			continue
		}
		open, close := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
		if open < 0 || close < open {
			continue
		}
		comm := string(b[open+1 : close])
		if !strings.HasPrefix(comm, "flb-out") && comm != "fluent-bit" {
			continue
		}
		f := strings.Fields(string(b[close+2:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += ut + st
	}
	return time.Duration(ticks) * time.Second / clockTick
}

// nullRecords reads how many records Fluent Bit's null output consumed,
// from its HTTP server's metrics.
func nullRecords(port int) int64 {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/metrics", port))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var m struct {
		Output map[string]struct {
			ProcRecords int64 `json:"proc_records"`
		} `json:"output"`
	}
	if json.NewDecoder(resp.Body).Decode(&m) != nil {
		return 0
	}
	var n int64
	for _, o := range m.Output {
		n += o.ProcRecords
	}
	return n
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
