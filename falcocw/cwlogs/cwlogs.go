// Package cwlogs delivers events to Amazon CloudWatch Logs with
// PutLogEvents, in batches that respect every limit of that API, and
// creates log groups and streams when allowed.
package cwlogs

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/awserr"
	"github.com/falcocw/falcocw/falcocw/batch"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
)

// PutLogEvents limits, from the CloudWatch Logs API reference.
const (
	MaxBatchEvents = 10000
	MaxBatchBytes  = 1048576 // sum of messages plus EventOverhead per event
	EventOverhead  = 26
	MaxEventBytes  = 256 * 1024 // one event, message plus EventOverhead
	// MaxMessageBytes is the longest message one event may carry.
	MaxMessageBytes = MaxEventBytes - EventOverhead
	MaxBatchSpan    = 24 * time.Hour
	// MaxAge and MaxAhead bound the timestamps CloudWatch accepts.
	MaxAge   = 14 * 24 * time.Hour
	MaxAhead = 2 * time.Hour
)

// IAMActions are the IAM actions this package calls; the example IAM
// policy is checked against them.
var IAMActions = []string{"logs:PutLogEvents", "logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:TagResource"}

// Event is one log event. ID is the caller's, reported back in Result.
type Event struct {
	ID   int
	Time time.Time
	// Message is the message; nil when Quoted holds it.
	Message []byte
	// Quoted is the message already written as a JSON string, as the body
	// carries it (copied, not escaped again), and QuotedLen its length
	// unescaped, what CloudWatch's limits count.
	Quoted    []byte
	QuotedLen int
}

// Len is the length of the message, unescaped.
func (e Event) Len() int {
	if e.Quoted != nil {
		return e.QuotedLen
	}
	return len(e.Message)
}

// ClampTime returns the timestamp to send for an event of time t: t itself
// when CloudWatch accepts it, else now (the event's own time stays in its
// message). clamped reports the change. A small margin keeps an event that
// is just inside the window from falling out of it in transit.
func ClampTime(t, now time.Time) (ts time.Time, clamped bool) {
	const margin = 5 * time.Minute
	if t.Before(now.Add(-MaxAge+margin)) || t.After(now.Add(MaxAhead-margin)) {
		return now, true
	}
	return t, false
}

// Batches sorts events by timestamp, as PutLogEvents requires, and among
// events of the same millisecond by ID, and cuts them into batches of at
// most MaxBatchEvents events and MaxBatchBytes bytes spanning at most
// MaxBatchSpan. Every message must already be at most MaxMessageBytes
// long (Len).
func Batches(events []Event) [][]Event {
	if !inOrder(events) { // the usual case: Fluent Bit keeps records in order
		sortByTime(events)
	}
	return batch.Cut(events, MaxBatchEvents, MaxBatchBytes,
		func(e Event) int { return e.Len() + EventOverhead },
		func(first, next Event) bool { return next.Time.Sub(first.Time) >= MaxBatchSpan })
}

// inOrder reports whether events are in PutLogEvents' order: by
// timestamp, in milliseconds, and within one by ID.
func inOrder(events []Event) bool {
	for i := 1; i < len(events); i++ {
		a, b := events[i-1].Time.UnixMilli(), events[i].Time.UnixMilli()
		if a > b || a == b && events[i-1].ID > events[i].ID {
			return false
		}
	}
	return true
}

// sortByTime puts events in PutLogEvents' order. It sorts small keys (the
// millisecond, the ID, the position) rather than the events themselves:
// each comparison then reads two integers instead of converting two
// times, and each move is 24 bytes instead of 80 (BenchmarkBatches, a
// flush's 2,380 events shuffled: 153 -> 104 ns per event). The events then
// move to their places in place, cycle by cycle, and the keys go back to
// a pool: the sort allocates nothing (it allocated 270 KB a flush: a copy
// of the events and the keys; 104 -> 87 ns per event).
//
// Events out of order mostly come as a few runs in order: the alerts of
// several Falco sensors, each in order, interleaved by a log router, or a
// replay after newer ones. The keys are sorted by merging those runs
// (mergeRuns), which costs a pass per halving of their number, where a
// general sort costs about log2(n) passes whatever the order.
func sortByTime(events []Event) {
	kp, bp := sortKeys.Get().(*[]sortKey), sortKeys.Get().(*[]sortKey)
	defer sortKeys.Put(kp)
	defer sortKeys.Put(bp)
	keys := (*kp)[:0]
	for i, e := range events {
		keys = append(keys, sortKey{e.Time.UnixMilli(), e.ID, i})
	}
	*kp = keys
	*bp = slices.Grow((*bp)[:0], len(keys))[:len(keys)]
	keys = mergeRuns(keys, *bp)
	// Place j takes the event at keys[j].pos: follow each cycle of that
	// permutation once, marking the places filled.
	for i := range keys {
		if keys[i].pos < 0 || keys[i].pos == i {
			continue
		}
		first, j := events[i], i
		for {
			from := keys[j].pos
			keys[j].pos = -1
			if from == i {
				events[j] = first
				break
			}
			events[j] = events[from]
			j = from
		}
	}
}

type sortKey struct {
	ms      int64
	id, pos int
}

func (a sortKey) less(b sortKey) bool { return a.ms < b.ms || a.ms == b.ms && a.id < b.id }

// mergeRuns sorts keys by merging its runs in order, two by two, back and
// forth between keys and buf (of the same length); it returns whichever
// holds the result.
func mergeRuns(keys, buf []sortKey) []sortKey {
	src, dst := keys, buf
	for {
		runs := 0
		for i := 0; i < len(src); runs++ {
			j := runEnd(src, i)
			if j == len(src) { // a last run without a partner
				copy(dst[i:], src[i:])
				i = j
				continue
			}
			k := runEnd(src, j)
			merge(dst[i:k], src[i:j], src[j:k])
			i = k
		}
		src, dst = dst, src
		if runs <= 1 {
			return src
		}
	}
}

// runEnd returns the end of the run in order that starts at i.
func runEnd(keys []sortKey, i int) int {
	for i++; i < len(keys) && !keys[i].less(keys[i-1]); i++ {
	}
	return i
}

// merge merges the runs a and b into dst, a's first among equals.
func merge(dst, a, b []sortKey) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if b[j].less(a[i]) {
			dst[k] = b[j]
			j++
		} else {
			dst[k] = a[i]
			i++
		}
		k++
	}
	k += copy(dst[k:], a[i:])
	copy(dst[k:], b[j:])
}

var sortKeys = sync.Pool{New: func() any { return new([]sortKey) }}

// Logger receives the sink's warnings.
type Logger func(format string, args ...any)

// Sink puts events into CloudWatch Logs. It is safe for concurrent use.
type Sink struct {
	client           *cloudwatchlogs.Client
	autoCreateGroup  bool
	autoCreateStream bool
	retentionDays    int32
	group            GroupOptions
	warn             Logger
	streams          streamSet
}

// streamSet holds the streams this sink has made sure of: created, or
// found existing, before their first PutLogEvents.
type streamSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

// maxStreamsSeen bounds the set: past it (streams named by a record's
// field, over a long run) it starts again, which costs each stream one
// CreateLogStream more.
const maxStreamsSeen = 10000

// first reports whether group/stream is new to the set, and adds it.
func (ss *streamSet) first(group, stream string) bool {
	key := group + "\x00" + stream
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.seen[key] {
		return false
	}
	if ss.seen == nil || len(ss.seen) >= maxStreamsSeen {
		ss.seen = map[string]bool{}
	}
	ss.seen[key] = true
	return true
}

// Options are CloudWatch Logs' own options: what falcocw may create, and
// what it sets on the groups it creates (groups that exist are left as
// they are).
type Options struct {
	AutoCreateGroup, AutoCreateStream bool
	// RetentionDays is the retention set after creating a group (0: none).
	RetentionDays int32
	// Group are CreateLogGroup's options.
	Group GroupOptions
}

// New returns a sink using client.
func New(client *cloudwatchlogs.Client, o Options, warn Logger) *Sink {
	return &Sink{client: client, autoCreateGroup: o.AutoCreateGroup, autoCreateStream: o.AutoCreateStream,
		retentionDays: o.RetentionDays, group: o.Group, warn: warn}
}

// bodySize estimates the length of the batch's body, escapes included.
func bodySize(group, stream string, batch []Event) int {
	n := 96 + len(group) + len(stream)
	for _, e := range batch {
		n += 48 + len(e.Message) + len(e.Message)/4 + len(e.Quoted)
	}
	return n
}

// AppendBody appends the JSON body of PutLogEvents for a batch, as the
// CloudWatch Logs API (JSON 1.1) defines it.
func AppendBody(b []byte, group, stream string, batch []Event) []byte {
	b = append(b, `{"logGroupName":`...)
	b = jsonstr.Append(b, group)
	b = append(b, `,"logStreamName":`...)
	b = jsonstr.Append(b, stream)
	b = append(b, `,"logEvents":[`...)
	for i, e := range batch {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"timestamp":`...)
		b = strconv.AppendInt(b, e.Time.UnixMilli(), 10)
		b = append(b, `,"message":`...)
		if e.Quoted != nil {
			b = append(b, e.Quoted...)
		} else {
			b = jsonstr.AppendBytes(b, e.Message)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// Result says what happened to the events of one PutBatch, by ID.
type Result struct {
	Accepted []int
	// Rejected are the events CloudWatch refused (too old, too new,
	// expired), which no retry can deliver.
	Rejected []Event
}

// PutBatch sends one batch (as Batches cut it) to group/stream. A stream
// is created before its first batch, as Fluent Bit's cloudwatch_logs
// does, when auto_create_stream allows (a stream that exists is found so
// at no cost but that call); a group or stream missing later (deleted) is
// created, as far as auto_create_group and auto_create_stream allow, and
// the batch sent again. On error nothing of
// the batch was accepted: PutLogEvents takes a batch whole or not at all.
func (s *Sink) PutBatch(ctx context.Context, group, stream string, batch []Event) (Result, error) {
	body := newBody(group, stream, batch)
	defer body.Release() // once the calls below returned, nothing reads it
	return s.put(ctx, group, stream, batch, body)
}

// newBody returns the batch's PutLogEvents body (AppendBody), written.
func newBody(group, stream string, batch []Event) *awsclient.Body {
	body := awsclient.NewBody(bodySize(group, stream, batch))
	body.Append(func(b []byte) []byte { return AppendBody(b, group, stream, batch) })
	return body
}

// put is PutBatch with the batch's body (AppendBody) written.
func (s *Sink) put(ctx context.Context, group, stream string, batch []Event, body *awsclient.Body) (Result, error) {
	// The SDK validates and serialises this minimal input; the events go
	// in the body written before (see awsclient.WithBody).
	in := &cloudwatchlogs.PutLogEventsInput{
		LogGroupName:  aws.String(group),
		LogStreamName: aws.String(stream),
		LogEvents:     []types.InputLogEvent{},
	}
	withBody := func(o *cloudwatchlogs.Options) { o.APIOptions = append(o.APIOptions, awsclient.WithBody(body)) }
	if s.autoCreateStream && s.streams.first(group, stream) {
		// A new node's stream does not exist yet: creating it first spares
		// the account's PutLogEvents quota a call that would fail, which at
		// a fleet's start (every node's first call in the same second)
		// set off throttling. A failure here (no logs:CreateLogStream, the
		// group missing without auto_create_group) is left to the put.
		_ = s.create(ctx, group, stream)
	}
	out, err := s.client.PutLogEvents(ctx, in, withBody)
	if err != nil && awserr.Is(err, "ResourceNotFoundException") {
		if cerr := s.create(ctx, group, stream); cerr != nil {
			return Result{}, fmt.Errorf("%w (and creating it failed: %v)", err, cerr)
		}
		out, err = s.client.PutLogEvents(ctx, in, withBody)
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{Accepted: make([]int, 0, len(batch))}
	var rejected map[int]bool // made only when CloudWatch refused some
	if info := out.RejectedLogEventsInfo; info != nil {
		rejected = map[int]bool{}
		mark := func(from, to int) { // [from, to)
			for i := max(from, 0); i < to && i < len(batch); i++ {
				rejected[i] = true
			}
		}
		if info.TooOldLogEventEndIndex != nil {
			mark(0, int(*info.TooOldLogEventEndIndex))
		}
		if info.ExpiredLogEventEndIndex != nil {
			mark(0, int(*info.ExpiredLogEventEndIndex))
		}
		if info.TooNewLogEventStartIndex != nil {
			mark(int(*info.TooNewLogEventStartIndex), len(batch))
		}
	}
	for i, e := range batch {
		if rejected[i] {
			res.Rejected = append(res.Rejected, e)
		} else {
			res.Accepted = append(res.Accepted, e.ID)
		}
	}
	return res, nil
}

// create makes the stream, and the group first when it is missing too,
// as far as auto_create_group and auto_create_stream allow.
func (s *Sink) create(ctx context.Context, group, stream string) error {
	if !s.autoCreateStream {
		return fmt.Errorf("log stream %s in group %s does not exist and auto_create_stream is off: create it or set auto_create_stream true", stream, group)
	}
	_, err := s.client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	if err == nil || awserr.Is(err, "ResourceAlreadyExistsException") {
		return nil
	}
	if !awserr.Is(err, "ResourceNotFoundException") {
		return err
	}
	if !s.autoCreateGroup {
		return fmt.Errorf("log group %s does not exist and auto_create_group is off: create it or set auto_create_group true (if it is set, check its spelling: Fluent Bit before 5.1.1 ignores a misspelt property; falcocw check names it)", group)
	}
	_, err = s.client.CreateLogGroup(ctx, s.group.input(group))
	if err != nil && !awserr.Is(err, "ResourceAlreadyExistsException") {
		return err
	}
	if err == nil && s.retentionDays > 0 {
		if _, rerr := s.client.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
			LogGroupName: aws.String(group), RetentionInDays: aws.Int32(s.retentionDays)}); rerr != nil {
			s.warn("could not set retention of log group %s to %d days: %v", group, s.retentionDays, rerr)
		}
	}
	_, err = s.client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	if err != nil && !awserr.Is(err, "ResourceAlreadyExistsException") {
		return err
	}
	return nil
}
