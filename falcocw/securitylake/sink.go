package securitylake

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/dest"
	"github.com/falcocw/falcocw/falcocw/falco"
	"github.com/falcocw/falcocw/falcocw/jsonstr"
	"github.com/falcocw/falcocw/falcocw/ocsf"
	"github.com/falcocw/falcocw/falcocw/route"
)

// rowsPerRequest is how many findings one Send keeps: one write and one
// sync of the spool.
const rowsPerRequest = 1000

// uploadTimeout bounds one object's PutObject, its retries included.
const uploadTimeout = 2 * time.Minute

// The Sink is the dest.Sender of securitylake targets, and a
// dest.Keeper: it keeps what it accepts in its spool until the objects
// are written.
type Sink struct {
	dest.KeepsNothing
	opts   Options
	region string
	s3     *s3.Client
	sts    *sts.Client
	env    dest.Env
	now    func() time.Time

	mu      sync.Mutex
	sp      *spool
	running bool
	stop    context.CancelFunc
	done    chan struct{}
	account string

	// Objects and Rows count what was written; Failures the PutObject
	// rounds that failed.
	Objects, Rows, Failures atomic.Int64
}

var (
	_ dest.Sender = (*Sink)(nil)
	_ dest.Keeper = (*Sink)(nil)
)

// New builds the sink of one instance.
func New(env dest.Env, o Options) *Sink {
	a := env.AWS
	s := &Sink{opts: o, region: a.Region, sts: a.STS(), env: env, now: time.Now}
	if o.RoleARN != "" {
		a = a.AssumeRole(o.RoleARN, o.ExternalID)
	}
	s.s3 = awsclient.Client(a, env.Endpoint, func(cfg aws.Config, fns ...func(*s3.Options)) *s3.Client {
		// An endpoint set (securitylake_endpoint: a VPC endpoint, a
		// test's S3) is addressed path-style, bucket in the path.
		return s3.NewFromConfig(cfg, append(fns, func(o *s3.Options) { o.UsePathStyle = env.Endpoint != "" })...)
	})
	if s.opts.MaxRows <= 0 {
		s.opts.MaxRows = DefaultMaxRows
	}
	if s.opts.MaxBytes <= 0 {
		s.opts.MaxBytes = DefaultMaxBytes
	}
	return s
}

// SetClock replaces the sink's clock (segments' age), for tests.
func (s *Sink) SetClock(now func() time.Time) { s.now = now }

// Takes says an event may be large: the finding carries it whole as
// raw_data, and a Parquet row has no limit that an alert reaches.
func (s *Sink) Takes() dest.Takes { return dest.Takes{MaxPayload: 64 << 20} }

type row struct {
	id int
	f  ocsf.Finding
}

// Batches makes each item's finding. An item without an alert (a record
// that is not a Falco alert, sent here by non_falco) becomes an
// Informational finding whose message is the record. The account is set
// when the findings are written to S3 (uploadSegment), where it is known.
func (s *Sink) Batches(_ dest.Flush, _ route.Target, items []dest.Item) []dest.Request {
	c := ocsf.Context{Region: s.region}
	var reqs []dest.Request
	for len(items) > 0 {
		n := min(len(items), rowsPerRequest)
		rows := make([]row, n)
		for i, it := range items[:n] {
			a := it.Alert
			if a == nil {
				a = &falco.Alert{Time: it.Time, Rule: "Record that is not a Falco alert", Priority: falco.PriorityInformational,
					Output: jsonstr.Truncate(string(it.Payload), 64<<10)}
			}
			rows[i] = row{it.ID, ocsf.NewFinding(a, it.Payload, c)}
		}
		reqs = append(reqs, rows)
		items = items[n:]
	}
	return reqs
}

// Send keeps one batch of findings in the spool: accepted once written
// (and, on disk, synced). A full spool, or a disk that refuses, fails the
// batch, and the flush answers FLB_RETRY.
func (s *Sink) Send(_ context.Context, t route.Target, req dest.Request) dest.Outcome {
	rows := req.([]row)
	ids := make([]int, len(rows))
	fs := make([]ocsf.Finding, len(rows))
	for i, r := range rows {
		ids[i], fs[i] = r.id, r.f
	}
	if err := s.spool().add(t.Name, fs, s.now()); err != nil {
		return dest.Outcome{Failed: ids, Err: fmt.Errorf("securitylake: keeping %d findings for s3://%s: %v", len(rows), t.Name, err)}
	}
	return dest.Outcome{Accepted: ids}
}

// Keep opens the spool in dir (journal_path's directory for the
// instance), finding what a run before left there, and starts the
// uploads; dir "" keeps the findings in memory.
func (s *Sink) Keep(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sp != nil {
		return nil
	}
	sp := newSpool(dir, s.limit(dir), s.opts.MaxRows, s.opts.MaxBytes)
	segs, n, err := sp.load()
	if err != nil {
		return err
	}
	s.sp = sp
	if segs > 0 {
		s.env.Warn("Security Lake: %d findings of the run before, in %d spool segments, wait in %s; uploading them now", n, segs, dir)
		s.startLocked()
	}
	return nil
}

func (s *Sink) limit(dir string) int64 {
	switch {
	case s.opts.SpoolLimit > 0:
		return s.opts.SpoolLimit
	case dir == "":
		return DefaultMemoryLimit
	}
	return DefaultDiskLimit
}

// spool returns the spool, in memory when Keep was never called, and
// starts the uploads.
func (s *Sink) spool() *spool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sp == nil {
		s.sp = newSpool("", s.limit(""), s.opts.MaxRows, s.opts.MaxBytes)
	}
	if !s.running && s.sp.dir == "" {
		s.env.Warn("Security Lake: findings gather in memory for %s before each object is written; a stop writes them, a crash loses them. Set journal_path to keep them on disk", s.opts.FlushInterval)
	}
	s.startLocked()
	return s.sp
}

func (s *Sink) startLocked() {
	if s.running {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.running, s.stop, s.done = true, cancel, make(chan struct{})
	go s.run(ctx)
}

// run writes the objects of segments as they come due, every tick; an
// upload that fails is tried again, backing off up to a minute.
func (s *Sink) run(ctx context.Context) {
	defer close(s.done)
	tick := min(time.Second, max(s.opts.FlushInterval/4, 50*time.Millisecond))
	wait, failing := tick, false
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.upload(ctx, s.opts.FlushInterval)
		switch {
		case err != nil && ctx.Err() == nil:
			s.Failures.Add(1)
			if !failing {
				s.env.Warn("Security Lake: %v; %d findings wait in the spool, trying again", err, s.sp.waiting())
			}
			failing, wait = true, min(max(2*wait, time.Second), time.Minute)
		case err == nil:
			if failing {
				s.env.Warn("Security Lake: objects are written again; %d findings wait", s.sp.waiting())
			}
			failing, wait = false, tick
		}
		t.Reset(wait)
	}
}

// upload writes the objects of the segments older than age (all, with
// age 0), oldest first, and stops at the first failure.
func (s *Sink) upload(ctx context.Context, age time.Duration) error {
	for _, seg := range s.sp.sealDue(s.now(), age) {
		if err := s.uploadSegment(ctx, seg); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sink) uploadSegment(ctx context.Context, seg *segment) error {
	account, err := s.accountID(ctx)
	if err != nil {
		return err
	}
	bucket, prefix, err := Split(seg.target)
	if err != nil {
		return err
	}
	rows, err := s.sp.findings(seg)
	if err != nil {
		return fmt.Errorf("reading spool segment %s: %v", seg.name, err)
	}
	for i := range rows {
		rows[i].SetAccount(account)
	}
	objs, err := Objects(prefix, s.region, account, seg.name, rows)
	if err != nil {
		return err
	}
	for _, o := range objs {
		octx, cancel := context.WithTimeout(ctx, uploadTimeout)
		_, err := s.s3.PutObject(octx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.Key),
			Body: bytes.NewReader(o.Body), ContentLength: aws.Int64(int64(len(o.Body))), ContentType: aws.String("application/vnd.apache.parquet")},
			// A few tries here; the loop tries again, backing off, and
			// says so once.
			func(o *s3.Options) { o.RetryMaxAttempts = 3 })
		cancel()
		if err != nil {
			return fmt.Errorf("writing s3://%s/%s (%d findings): %v", bucket, o.Key, o.Rows, err)
		}
		s.Objects.Add(1)
		s.Rows.Add(int64(o.Rows))
	}
	s.sp.done(seg)
	return nil
}

// accountID is the objects' account: securitylake_account_id, else the
// credentials' account from STS, asked once.
func (s *Sink) accountID(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.account == "" {
		s.account = s.opts.AccountID
	}
	account := s.account
	s.mu.Unlock()
	if account != "" {
		return account, nil
	}
	out, err := s.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) { o.RetryMaxAttempts = 3 })
	if err != nil {
		return "", fmt.Errorf("asking STS for the account of the objects' keys (or set %s): %v", PropAccountID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account = aws.ToString(out.Account)
	return s.account, nil
}

// Stop ends the uploads and writes what waits, all of it, before ctx
// ends. What cannot be written stays on disk for the next start, or, in
// memory, is lost: both are said.
func (s *Sink) Stop(ctx context.Context) {
	s.mu.Lock()
	sp, running := s.sp, s.running
	s.running = false
	s.mu.Unlock()
	if running {
		s.stop()
		<-s.done
	}
	if sp == nil {
		return
	}
	err := s.upload(ctx, 0)
	if n := sp.waiting(); n > 0 {
		if sp.dir != "" {
			s.env.Warn("Security Lake: %d findings wait in %s for the next start (%v)", n, sp.dir, err)
		} else {
			s.env.Error("Security Lake: %d findings are lost: they were kept in memory, and writing them at exit failed (%v); set journal_path to keep them on disk", n, err)
		}
	}
}
