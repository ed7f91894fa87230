// Package falcocw is the core of the falcocw Fluent Bit output plugin: one
// Instance per [OUTPUT] section takes the chunks Fluent Bit flushes,
// recognises the Falco alerts in them, routes each to its destinations
// (CloudWatch Logs, Firehose, Kinesis, SNS, EventBridge, Security Hub:
// each a dest.Sender, registered by its package) and delivers them,
// and answers with a Result
// that the cgo glue in plugin/ turns into FLB_OK, FLB_RETRY or FLB_ERROR.
//
// The core never touches cgo, so the whole pipeline is tested in plain Go.
// An Instance is safe for concurrent flushes, as Fluent Bit makes them when
// the output sets "workers".
package falcocw

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/dest"
	_ "github.com/falcocw/falcocw/falcocw/destinations" // every kind of destination, registered
	"github.com/falcocw/falcocw/falcocw/health"
	"github.com/falcocw/falcocw/falcocw/journal"
	"github.com/falcocw/falcocw/falcocw/ledger"
	"github.com/falcocw/falcocw/falcocw/route"
	"github.com/falcocw/falcocw/falcocw/storm"
)

// maxLedgerChunks bounds how many chunks waiting for Fluent Bit's retry
// the instance remembers the delivery progress of.
const maxLedgerChunks = 10000

// ShutdownGrace is how long Close lets in-flight flushes finish before
// abandoning their requests.
const ShutdownGrace = 5 * time.Second

// Logger writes one log line at a level. The plugin writes them in Fluent
// Bit's format on stderr; tests capture them.
type Logger func(level config.Level, msg string)

// Instance is one configured falcocw output.
type Instance struct {
	cfg *config.Config
	// senders deliver to each kind of destination; the flush knows no
	// service but through them. A list (sender finds one): a few kinds,
	// mostly of different lengths, compare faster than a map hashes, and
	// the flush asks twice per alert.
	senders []kindSender
	storm   *storm.Gate
	// health is each destination's state: its slots and its breaker.
	health *health.Board
	log    Logger
	now    func() time.Time
	stats  Stats
	ledger *ledger.Ledger
	// journal, when journal_path is set, remembers deliveries across
	// restarts (see package journal).
	journal *journal.Journal

	// shutdown is cancelled when Close gives up waiting; flushes abandon
	// their requests then.

	// warnedTime, warnedCut, warnedFragment, warnedPiece and warnedJournal make
	// warnings appear once per instance.
	warnedTime, warnedCut, warnedFragment, warnedPiece, warnedJournal atomic.Bool

	shutdown context.Context
	abandon  context.CancelFunc
	// memory is what flushes in progress hold, estimated from their
	// chunk sizes; with the ledger it is kept under memory_limit.
	memory   atomic.Int64
	mu       sync.Mutex
	closing  bool
	inflight sync.WaitGroup
}

// Stats are an instance's running totals.
type Stats struct {
	Flushes   atomic.Int64
	Records   atomic.Int64
	Alerts    atomic.Int64
	NonFalco  atomic.Int64
	Dropped   atomic.Int64
	Malformed atomic.Int64
	Fragments atomic.Int64 // non-Falco records holding part of an alert
	Delivered atomic.Int64
	Retries   atomic.Int64 // flushes answered Retry
	Failed    atomic.Int64 // flushes answered Error
}

// New builds an instance from a validated configuration. It loads the AWS
// configuration but makes no AWS call.
func New(ctx context.Context, cfg *config.Config, log Logger) (*Instance, error) {
	a, err := awsclient.New(ctx, awsclient.Options{Region: cfg.Region, RoleARN: cfg.RoleARN, ExternalID: cfg.ExternalID,
		STSEndpoint: cfg.STSEndpoint, TLSSkipVerify: cfg.TLSSkipVerify})
	if err != nil {
		return nil, err
	}
	if a.Region == "" {
		return nil, &config.Error{Property: config.PropRegion, Value: "", Allowed: "no region set: set region (e.g. eu-west-1) or the AWS_REGION environment variable"}
	}
	in := &Instance{cfg: cfg, log: log, now: time.Now, ledger: ledger.New(maxLedgerChunks), storm: storm.NewGate(), health: health.NewBoard(cfg.MaxConcurrency, cfg.ProbeInterval)}
	in.shutdown, in.abandon = context.WithCancel(context.Background())
	// One sender per kind of destination, as its package registered it.
	warn := func(format string, args ...any) { in.logf(config.LevelWarn, format, args...) }
	errorf := func(format string, args ...any) { in.logf(config.LevelError, format, args...) }
	for _, k := range dest.Kinds() {
		kind := k.Route.Kind
		in.senders = append(in.senders, kindSender{kind, k.New(dest.Env{AWS: a, Endpoint: cfg.Endpoints[kind], Options: cfg.KindOptions[kind], Warn: warn, Error: errorf})})
	}
	for _, e := range cfg.TLSSkipVerify {
		in.logf(config.LevelWarn, "TLS certificate verification is OFF for %s (tls_skip_verify): anyone on the network path can impersonate it and read what falcocw sends there", e)
	}
	return in, nil
}

// OpenJournal opens the instance's journal in journal_path, under the
// instance's name (Fluent Bit's Alias, or falcocw.N), when journal_path is
// set. The plugin calls it once, after New.
func (in *Instance) OpenJournal(name string) error {
	if err := in.keep(name); err != nil {
		return err
	}
	if in.cfg.JournalPath == "" {
		return nil
	}
	j, err := journal.Open(in.cfg.JournalPath, name, journal.DefaultMax)
	if err != nil {
		return err
	}
	in.journal = j
	if j.Replaying() {
		in.logf(config.LevelInfo, "journal %s: deliveries of the run before are loaded; records Fluent Bit replays from its storage are not sent again where they arrived", j.Path())
	}
	return nil
}

// keep gives each sender that keeps what it accepts (dest.Keeper) its
// directory under journal_path, NAME-KIND, or memory without one.
func (in *Instance) keep(name string) error {
	for _, ks := range in.senders {
		k, ok := ks.sender.(dest.Keeper)
		if !ok {
			continue
		}
		dir := ""
		if in.cfg.JournalPath != "" {
			dir = filepath.Join(in.cfg.JournalPath, name+"-"+string(ks.kind))
		}
		if err := k.Keep(dir); err != nil {
			return fmt.Errorf("%s: %v", ks.kind, err)
		}
	}
	return nil
}

// SetClock replaces the clock the instance judges time by (storm windows,
// CloudWatch's timestamp window): for tests and simulations, which then
// need not sleep. Call it before the first flush.
func (in *Instance) SetClock(now func() time.Time) { in.now = now }

// Config returns the instance's configuration.
func (in *Instance) Config() *config.Config { return in.cfg }

// Stats returns the instance's running totals.
func (in *Instance) Stats() *Stats { return &in.stats }

func (in *Instance) logf(level config.Level, format string, args ...any) {
	if in.log != nil && level <= in.cfg.LogLevel {
		in.log(level, fmt.Sprintf(format, args...))
	}
}

// enter registers a flush; it fails once Close has begun.
func (in *Instance) enter() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closing {
		return false
	}
	in.inflight.Add(1)
	return true
}

func (in *Instance) leave() { in.inflight.Done() }

// flushMemory estimates what a flush of a chunk of n bytes holds at its
// peak: the decoded records, the encoded events and the request bodies.
func flushMemory(n int) int64 { return int64(n)*6 + 64<<10 }

// reserve takes room for a flush under memory_limit. A flush always runs
// when nothing else holds memory, so a single large chunk cannot be
// refused for ever.
func (in *Instance) reserve(n int64) bool {
	for {
		cur := in.memory.Load()
		if cur > 0 && cur+n+int64(in.ledger.Bytes()) > in.cfg.MemoryLimit {
			return false
		}
		if in.memory.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// Close waits up to grace for in-flight flushes to finish, then abandons
// their requests (they answer Retry, and log what they did not deliver),
// and logs the instance's totals. Flushes that arrive after Close answer
// Retry at once.
func (in *Instance) Close(grace time.Duration) {
	if in.storm.Open() > 0 || in.storm.Waiting() > 0 {
		// Windows still open or summaries waiting: send them all now.
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		ctx = awsclient.WithStartBy(ctx, time.Now().Add(grace))
		res := in.closeStorms(ctx)
		cancel()
		if left := in.storm.Take(in.now().Add(100 * 365 * 24 * time.Hour)); len(left) > 0 {
			in.logf(config.LevelError, "exit: %d storm summaries (counts of collapsed alerts) could not be delivered: %s", len(left), res.Summary())
		}
	}
	in.mu.Lock()
	in.closing = true
	in.mu.Unlock()
	done := make(chan struct{})
	go func() { in.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		in.logf(config.LevelWarn, "exit: flushes still running after %s; abandoning their requests (Fluent Bit keeps those chunks if its storage does)", grace)
		in.abandon()
		<-done
	}
	in.abandon()
	for _, ks := range in.senders {
		if k, ok := ks.sender.(dest.Keeper); ok {
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			k.Stop(ctx)
			cancel()
		}
	}
	if in.journal != nil {
		in.journal.Close()
	}
	s := &in.stats
	in.logf(config.LevelInfo, "exit: %d flushes (%d answered retry, %d error); chunks done held %d records: %d Falco alerts, %d non-Falco (%d fragments of alerts), %d dropped by routes, %d malformed; %d events delivered; %d chunks were waiting for a retry",
		s.Flushes.Load(), s.Retries.Load(), s.Failed.Load(), s.Records.Load(), s.Alerts.Load(),
		s.NonFalco.Load(), s.Fragments.Load(), s.Dropped.Load(), s.Malformed.Load(), s.Delivered.Load(), in.ledger.Len())
}

type kindSender struct {
	kind   route.Kind
	sender dest.Sender
}

// sender returns the sender of a kind of destination (nil for none).
func (in *Instance) sender(k route.Kind) dest.Sender {
	for _, ks := range in.senders {
		if ks.kind == k {
			return ks.sender
		}
	}
	return nil
}
