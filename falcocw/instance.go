// Package falcocw is the core of the falcocw Fluent Bit output plugin: one
// Instance per [OUTPUT] section takes the chunks Fluent Bit flushes,
// recognises the Falco alerts in them, routes each to its CloudWatch Logs
// and Firehose destinations and delivers them, and answers with a Result
// that the cgo glue in plugin/ turns into FLB_OK, FLB_RETRY or FLB_ERROR.
//
// The core never touches cgo, so the whole pipeline is tested in plain Go.
// An Instance is safe for concurrent flushes, as Fluent Bit makes them when
// the output sets "workers".
package falcocw

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/config"
	"github.com/falcocw/falcocw/falcocw/cwlogs"
	"github.com/falcocw/falcocw/falcocw/firehose"
)

// Logger writes one log line at a level. The plugin writes them in Fluent
// Bit's format on stderr; tests capture them.
type Logger func(level config.Level, msg string)

// Instance is one configured falcocw output.
type Instance struct {
	cfg   *config.Config
	cw    *cwlogs.Sink
	fh    *firehose.Sink
	log   Logger
	now   func() time.Time
	stats Stats
}

// Stats are an instance's running totals.
type Stats struct {
	Flushes   atomic.Int64
	Records   atomic.Int64
	Alerts    atomic.Int64
	NonFalco  atomic.Int64
	Dropped   atomic.Int64
	Malformed atomic.Int64
	Delivered atomic.Int64
	Failed    atomic.Int64
}

// New builds an instance from a validated configuration. It loads the AWS
// configuration but makes no AWS call.
func New(ctx context.Context, cfg *config.Config, log Logger) (*Instance, error) {
	clients, err := awsclient.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	in := &Instance{cfg: cfg, log: log, now: time.Now}
	in.cw = cwlogs.New(clients.CloudWatch, cfg.AutoCreateGroup, cfg.AutoCreateStream, cfg.LogRetentionDays,
		func(format string, args ...any) { in.logf(config.LevelWarn, format, args...) })
	in.fh = firehose.New(clients.Firehose)
	return in, nil
}

// Config returns the instance's configuration.
func (in *Instance) Config() *config.Config { return in.cfg }

// Stats returns the instance's running totals.
func (in *Instance) Stats() *Stats { return &in.stats }

func (in *Instance) logf(level config.Level, format string, args ...any) {
	if in.log != nil && level <= in.cfg.LogLevel {
		in.log(level, fmt.Sprintf(format, args...))
	}
}

// Close logs the instance's totals. Flushes have returned by the time
// Fluent Bit calls exit, so nothing is in flight.
func (in *Instance) Close() {
	s := &in.stats
	in.logf(config.LevelInfo, "exit: %d flushes, %d records, %d Falco alerts, %d delivered, %d failed, %d non-Falco, %d dropped by routes, %d malformed",
		s.Flushes.Load(), s.Records.Load(), s.Alerts.Load(), s.Delivered.Load(), s.Failed.Load(),
		s.NonFalco.Load(), s.Dropped.Load(), s.Malformed.Load())
}
