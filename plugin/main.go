// Command plugin is the falcocw Fluent Bit output plugin, built with
// go build -buildmode=c-shared into falcocw.so. It holds only the cgo
// entry points Fluent Bit's Go proxy calls and the translation of Fluent
// Bit properties into the core's config; everything else lives in the
// falcocw package. No panic leaves these functions: each is recovered,
// logged and answered with a return code Fluent Bit understands.
package main

import (
	"C"
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/falcocw/falcocw/falcocw"
	"github.com/falcocw/falcocw/falcocw/arena"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/rest"
)

// PluginName is the name an [OUTPUT] section uses to load falcocw.
const PluginName = "falcocw"

var (
	nextID    atomic.Int64
	mu        sync.Mutex
	instances = map[int64]*plugin{}
)

// plugin is one [OUTPUT] section: its core instance and its log prefix.
type plugin struct {
	id       int64
	label    string // Fluent Bit's name for the instance: its Alias, or falcocw.N
	instance *falcocw.Instance
	closed   atomic.Bool
}

var levelTags = [...]string{"error", " warn", " info", "debug"}

// logLine writes a line in Fluent Bit's own format on stderr, where Fluent
// Bit writes its log, under the instance's label ("" for a line about no
// instance in particular).
func logLine(label string, level config.Level, msg string) {
	if label == "" {
		label = PluginName
	}
	fmt.Fprintf(os.Stderr, "[%s] [%s] [output:%s:%s] %s\n",
		time.Now().Format("2006/01/02 15:04:05.000"), levelTags[level], PluginName, label, msg)
}

// fallbackLabel names an instance when the host's structures cannot be
// read: falcocw.N, N counted from 0 again once every instance has exited
// (as after a hot reload), so names stay stable over reloads.
func fallbackLabel() string {
	mu.Lock()
	defer mu.Unlock()
	return fmt.Sprintf("%s.%d", PluginName, len(instances))
}

// profile is the CPU profile written when FALCOCW_CPUPROFILE names a file
// (a developer's tool: make bench uses it to show where the time goes).
var profile *os.File

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) (ret int) {
	defer recoverTo("", &ret, output.FLB_ERROR)
	if path := os.Getenv("FALCOCW_CPUPROFILE"); path != "" && profile == nil {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			profile = f
		}
	}
	ret = output.FLBPluginRegister(def, PluginName, "Falco alerts to CloudWatch Logs, Firehose, Kinesis, SNS, EventBridge and Security Hub")
	registerConfigMap(def)
	return ret
}

//export FLBPluginInit
func FLBPluginInit(p unsafe.Pointer) (ret int) {
	label, ok := instanceLabel(p)
	if !ok {
		label = fallbackLabel()
	}
	defer recoverTo(label, &ret, output.FLB_ERROR)
	cfg, err := config.Parse(func(key string) string { return output.FLBPluginConfigKey(p, key) })
	if err != nil {
		logLine(label, config.LevelError, "invalid configuration: "+err.Error())
		return output.FLB_ERROR
	}
	in, err := falcocw.New(context.Background(), cfg, func(level config.Level, msg string) { logLine(label, level, msg) })
	if err != nil {
		logLine(label, config.LevelError, "cannot start: "+err.Error())
		return output.FLB_ERROR
	}
	if err := in.OpenJournal(label); err != nil {
		logLine(label, config.LevelError, "cannot start: "+err.Error())
		in.Close(0)
		return output.FLB_ERROR
	}
	tuneGC(cfg.MemoryLimit)
	atRest().Busy()
	pl := &plugin{id: nextID.Add(1), label: label, instance: in}
	mu.Lock()
	instances[pl.id] = pl
	mu.Unlock()
	output.FLBPluginSetContext(p, pl)
	logLine(label, config.LevelInfo, fmt.Sprintf("started: %d routes, %d default destinations, non_falco %s",
		len(cfg.Routes.Rules), len(cfg.Routes.Defaults), cfg.NonFalcoPolicy()))
	return output.FLB_OK
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) (ret int) {
	pl, _ := output.FLBPluginGetContext(ctx).(*plugin)
	if pl == nil {
		logLine("", config.LevelError, "flush for an unknown instance: was FLBPluginInit successful?")
		return output.FLB_ERROR
	}
	// A panic is a bug in falcocw, not in the data: retry, so nothing is
	// lost, and let Fluent Bit's retry limit end it.
	defer recoverTo(pl.label, &ret, output.FLB_RETRY)
	if panicTag != "" && C.GoString(tag) == panicTag {
		panic("FALCOCW_PANIC_ON_TAG: a panic on purpose, to test that Fluent Bit survives it")
	}
	atRest().Busy()
	var buf []byte
	if length > 0 && data != nil {
		buf = unsafe.Slice((*byte)(data), int(length)) // valid until we return
	}
	res := pl.instance.Flush(context.Background(), C.GoString(tag), buf)
	switch res.Status {
	case falcocw.OK:
		if pl.instance.Config().LogLevel >= config.LevelDebug {
			logLine(pl.label, config.LevelDebug, res.Summary())
		}
		return output.FLB_OK
	case falcocw.Retry:
		if res.Quiet() { // a destination down, said once when it went down
			if pl.instance.Config().LogLevel >= config.LevelDebug {
				logLine(pl.label, config.LevelDebug, res.Summary()+"; Fluent Bit will schedule the chunk again")
			}
			return output.FLB_RETRY
		}
		logLine(pl.label, config.LevelWarn, res.Summary()+"; Fluent Bit will schedule the chunk again")
		return output.FLB_RETRY
	default:
		logLine(pl.label, config.LevelError, res.Summary())
		return output.FLB_ERROR
	}
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) (ret int) {
	defer recoverTo("", &ret, output.FLB_OK)
	if pl, _ := output.FLBPluginGetContext(ctx).(*plugin); pl != nil {
		closePlugin(pl)
	}
	mu.Lock()
	last := len(instances) == 0
	mu.Unlock()
	if last { // Fluent Bit calls the per-instance exit only: the last one ends the profile
		stopProfile()
	}
	return output.FLB_OK
}

// stopProfile writes the CPU profile, when one is being taken.
func stopProfile() {
	if profile != nil {
		pprof.StopCPUProfile()
		profile.Close()
		profile = nil
	}
}

//export FLBPluginExit
func FLBPluginExit() (ret int) {
	defer recoverTo("", &ret, output.FLB_OK)
	mu.Lock()
	all := make([]*plugin, 0, len(instances))
	for _, pl := range instances {
		all = append(all, pl)
	}
	mu.Unlock()
	for _, pl := range all {
		closePlugin(pl)
	}
	stopProfile()
	return output.FLB_OK
}

// panicTag, from FALCOCW_PANIC_ON_TAG, makes a flush of that tag panic: the
// plugin host test uses it to prove that no panic reaches Fluent Bit.
var panicTag = os.Getenv("FALCOCW_PANIC_ON_TAG")

// FALCOCW_ARENA_POISON makes every flush overwrite its event buffers once
// its requests are answered (arena.Poison): the plugin host tests set it,
// so that an event read after its flush would reach their checks as
// garbage rather than pass unseen.
func init() { arena.Poison = os.Getenv("FALCOCW_ARENA_POISON") != "" }

var gcLimit int64

// tuneGC makes memory_limit a soft limit on this .so's Go heap (every
// c-shared library has its own runtime), so that the collector works
// harder rather than pass what the user allowed. The collector's pace
// stays Go's default (GOGC 100): since a flush takes its per-alert objects
// from a reused scratch, collecting half as often (GOGC 200, the setting
// before) saved no CPU measurably and held 13 MB more at the peak.
// GOGC and GOMEMLIMIT in the environment win.
func tuneGC(limit int64) {
	mu.Lock()
	defer mu.Unlock()
	if os.Getenv("GOMEMLIMIT") == "" && limit > gcLimit {
		gcLimit = limit
		debug.SetMemoryLimit(limit)
	}
}

var (
	keeperOnce sync.Once
	keeper     *rest.Keeper
)

// atRest is the process's rest keeper, started with the first instance:
// it hands start-up's memory back once every instance has started, and
// the flushes' after a long spell with none (package rest says what and
// why). It lives as long as the process: the .so stays loaded over hot
// reloads.
func atRest() *rest.Keeper {
	keeperOnce.Do(func() {
		var said atomic.Bool // the first trim is logged, the later ones are alike
		keeper = rest.NewKeeper(rest.StartQuiet, rest.RestQuiet, func() {
			defer func() { // the keeper's goroutine is no flush: a panic here would end Fluent Bit
				if r := recover(); r != nil {
					logLine("", config.LevelError, fmt.Sprintf("internal error at rest (please report it): %v\n%s", r, debug.Stack()))
				}
			}()
			n, err := rest.Trim()
			if said.Swap(true) {
				return
			}
			if err != nil {
				logLine("", config.LevelInfo, "at rest: the plugin's pages stay mapped: "+err.Error())
				return
			}
			logLine("", config.LevelInfo, fmt.Sprintf("at rest: %.1f MB of the plugin's code and data unmapped, the Go heap's free pages returned", float64(n)/(1<<20)))
		})
	})
	return keeper
}

func closePlugin(pl *plugin) {
	if pl.closed.Swap(true) {
		return
	}
	pl.instance.Close(falcocw.ShutdownGrace)
	mu.Lock()
	delete(instances, pl.id)
	mu.Unlock()
}

// recoverTo turns a panic into a log line and the return code code.
func recoverTo(label string, ret *int, code int) {
	if r := recover(); r != nil {
		logLine(label, config.LevelError, fmt.Sprintf("internal error (please report it): %v\n%s", r, debug.Stack()))
		*ret = code
	}
}

func main() {}
