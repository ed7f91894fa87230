// Package flbhost drives a Fluent Bit Go output plugin the way Fluent Bit
// does, without Fluent Bit: it builds the falcocw .so and a small C host
// program (csrc/flbhost.c) that dlopens it and calls its entry points
// through the same structures as Fluent Bit's Go proxy. A Go process cannot
// safely load a second Go runtime, so the host is C, as Fluent Bit is, and
// this package talks to it over a pipe.
package flbhost

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Return codes of Fluent Bit's output API.
const (
	FLBError = 0
	FLBOK    = 1
	FLBRetry = 2
)

//go:embed csrc/flbhost.c
var hostSource []byte

// ModuleRoot returns the directory holding falcocw's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the falcocw module")
	}
	return filepath.Dir(mod), nil
}

// BuildPlugin builds falcocw.so into dir with go build -buildmode=c-shared.
func BuildPlugin(dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	so := filepath.Join(dir, "falcocw.so")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", so, "./plugin")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the plugin: %v\n%s", err, out)
	}
	return so, nil
}

// BuildHost compiles the C host into dir with gcc.
func BuildHost(dir string) (string, error) {
	src := filepath.Join(dir, "flbhost.c")
	if err := os.WriteFile(src, hostSource, 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "flbhost")
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if out, err := exec.Command(cc, "-O2", "-Wall", "-o", bin, src, "-ldl", "-lpthread").CombinedOutput(); err != nil {
		return "", fmt.Errorf("compiling the host: %v\n%s", err, out)
	}
	return bin, nil
}

// Host is a running host process with the plugin loaded.
type Host struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	mu     sync.Mutex
	stderr *os.File
	// Name is the plugin name FLBPluginRegister gave.
	Name string
}

// Start runs the host binary on the plugin. env is added to the process
// environment (AWS credentials, for example). The plugin's log (stderr) goes
// to a file that Log reads: the host writes it directly, so a line logged
// during a call is there when the call returns.
func Start(hostBin, plugin string, env []string) (*Host, error) {
	cmd := exec.Command(hostBin, plugin)
	cmd.Env = append(os.Environ(), env...)
	logFile, err := os.CreateTemp("", "flbhost-log")
	if err != nil {
		return nil, err
	}
	os.Remove(logFile.Name()) // lives as long as the open file
	h := &Host{cmd: cmd, stderr: logFile}
	cmd.Stderr = logFile
	if h.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	h.out = bufio.NewReader(stdout)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := h.readLine()
	if err != nil {
		return nil, fmt.Errorf("host did not register the plugin: %v; log:\n%s", err, h.Log())
	}
	h.Name = strings.TrimPrefix(line, "registered ")
	return h, nil
}

// Log returns everything the plugin has logged so far.
func (h *Host) Log() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", h.stderr.Fd()))
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b)
}

func (h *Host) readLine() (string, error) {
	line, err := h.out.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading from host: %w (log: %s)", err, h.Log())
	}
	return strings.TrimSpace(line), nil
}

func (h *Host) call(req []byte, want string) ([]int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.in.Write(req); err != nil {
		return nil, fmt.Errorf("writing to host: %w (log: %s)", err, h.Log())
	}
	line, err := h.readLine()
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != want {
		return nil, fmt.Errorf("host answered %q to %s", line, want)
	}
	nums := make([]int, len(f)-1)
	for i, s := range f[1:] {
		if nums[i], err = strconv.Atoi(s); err != nil {
			return nil, fmt.Errorf("host answered %q", line)
		}
	}
	return nums, nil
}

// Property is one [OUTPUT] property.
type Property struct{ Key, Value string }

// Init calls FLBPluginInit for a new instance with the given properties
// and returns the instance's id and the plugin's return code.
func (h *Host) Init(props []Property) (id, ret int, err error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "init %d\n", len(props))
	for _, p := range props {
		if strings.ContainsAny(p.Key+p.Value, "\n") || strings.Contains(p.Key, "=") {
			return 0, 0, fmt.Errorf("property %q: newlines and = in keys are not supported", p.Key)
		}
		fmt.Fprintf(&b, "%s=%s\n", p.Key, p.Value)
	}
	r, err := h.call(b.Bytes(), "init")
	if err != nil {
		return 0, 0, err
	}
	if len(r) != 2 {
		return 0, 0, fmt.Errorf("bad init answer")
	}
	return r[0], r[1], nil
}

// Flush calls FLBPluginFlushCtx with one chunk and returns its code.
func (h *Host) Flush(id int, tag string, chunk []byte) (int, error) {
	if strings.ContainsAny(tag, " \n") || tag == "" {
		return 0, fmt.Errorf("tag %q: want a non-empty tag without spaces", tag)
	}
	req := append([]byte(fmt.Sprintf("flush %d %s %d\n", id, tag, len(chunk))), chunk...)
	r, err := h.call(req, "flush")
	if err != nil {
		return 0, err
	}
	return r[0], nil
}

// FlushParallel flushes chunks from threads C threads at once, as Fluent
// Bit does for an output with "workers threads", and returns each chunk's
// return code.
func (h *Host) FlushParallel(id int, tag string, threads int, chunks [][]byte) ([]int, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "pflush %d %s %d %d\n", id, tag, threads, len(chunks))
	for _, c := range chunks {
		fmt.Fprintf(&b, "%d\n", len(c))
		b.Write(c)
	}
	return h.call(b.Bytes(), "pflush")
}

// ExitCtx calls FLBPluginExitCtx for one instance.
func (h *Host) ExitCtx(id int) (int, error) {
	r, err := h.call([]byte(fmt.Sprintf("exitctx %d\n", id)), "exitctx")
	if err != nil {
		return 0, err
	}
	return r[0], nil
}

// Exit calls FLBPluginExit and waits for the host to end.
func (h *Host) Exit() (int, error) {
	r, err := h.call([]byte("exit\n"), "exit")
	_ = h.in.Close()
	werr := h.cmd.Wait()
	if err != nil {
		return 0, err
	}
	if werr != nil {
		return r[0], fmt.Errorf("host exited: %v", werr)
	}
	return r[0], nil
}

// PeakRSS returns the host process's peak resident set size in bytes, from
// /proc (VmHWM). Call it before Exit. (The rusage of a child that Go
// starts through vfork can report the parent's memory, hence /proc.)
func (h *Host) PeakRSS() int64 { return PeakRSSOf(h.cmd.Process.Pid) }

// PeakRSSOf returns a running process's peak resident set size in bytes
// (VmHWM), 0 when it cannot be read.
func PeakRSSOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Usage returns the resource usage of the host process once it has
// ended (after Exit): its CPU time and peak RSS.
func (h *Host) Usage() *syscall.Rusage {
	if h.cmd.ProcessState == nil {
		return &syscall.Rusage{}
	}
	ru, _ := h.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return &syscall.Rusage{}
	}
	return ru
}

// Kill ends the host process without calling exit.
func (h *Host) Kill() {
	_ = h.in.Close()
	_ = h.cmd.Process.Kill()
	_ = h.cmd.Wait()
}
