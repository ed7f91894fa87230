package securitylake

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/falcocw/falcocw/falcocw/ocsf"
)

// Bounds of one object and of the spool.
const (
	DefaultMaxRows     = 100000
	DefaultMaxBytes    = 64 << 20
	DefaultDiskLimit   = 1 << 30
	DefaultMemoryLimit = 128 << 20
)

// A spool keeps the findings that wait for their object, by target, in
// segments: one segment is one future object per day of its findings.
// On disk each segment is a file of records (a length, a CRC-32C and the
// finding as JSON; the first record names the target), written and
// synced before the findings count as accepted. A file's name is the
// segment's, and the objects' names come from it.
type spool struct {
	dir      string // "" in memory
	limit    int64
	maxRows  int
	maxBytes int64

	mu      sync.Mutex
	open    map[string]*segment // by target
	sealed  []*segment
	pending map[string]struct{} // uids of the findings waiting
	// before are the uids of the findings a run before left in the
	// spool, kept after their objects are written: a crash between the
	// spool's sync and the journal's record of the delivery makes Fluent
	// Bit send them again, and they must not land twice.
	before map[string]struct{}
	bytes  int64
}

type segment struct {
	name    string // seg-UNIXNANO-RANDOM
	target  string // BUCKET/PREFIX
	created time.Time
	rows    int
	bytes   int64
	uids    []string
	f       *os.File // on disk
	buf     []byte   // in memory
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errFull is a spool at its limit.
var errFull = errors.New("the spool is full")

func newSpool(dir string, limit int64, maxRows int, maxBytes int64) *spool {
	return &spool{dir: dir, limit: limit, maxRows: maxRows, maxBytes: maxBytes, open: map[string]*segment{}, pending: map[string]struct{}{}, before: map[string]struct{}{}}
}

// load finds the segments a run before left in dir: each is sealed, to be
// uploaded, its findings counted as waiting. A record cut short by a
// crash ends its segment (the findings before it are kept; the flush that
// wrote it had not answered, so Fluent Bit sends it again).
func (s *spool) load() (segments, findings int, err error) {
	if s.dir == "" {
		return 0, 0, nil
	}
	names, err := filepath.Glob(filepath.Join(s.dir, "seg-*.spool"))
	if err != nil {
		return 0, 0, err
	}
	sort.Strings(names)
	for _, p := range names {
		seg, err := readSegment(p)
		if err != nil {
			return segments, findings, err
		}
		if seg.rows == 0 {
			_ = os.Remove(p)
			continue
		}
		s.sealed = append(s.sealed, seg)
		for _, u := range seg.uids {
			s.pending[u] = struct{}{}
			s.before[u] = struct{}{}
		}
		s.bytes += seg.bytes
		segments++
		findings += seg.rows
	}
	return segments, findings, nil
}

type header struct {
	Target  string `json:"target"`
	Created int64  `json:"created"`
}

func readSegment(p string) (*segment, error) {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seg := &segment{name: strings.TrimSuffix(filepath.Base(p), ".spool")}
	var good int64
	first := true
	err = eachRecord(bufio.NewReader(f), func(b []byte, end int64) error {
		if first {
			var h header
			if err := json.Unmarshal(b, &h); err != nil {
				return err
			}
			seg.target, seg.created, first = h.Target, time.Unix(0, h.Created), false
		} else {
			var u struct {
				FindingInfo struct {
					UID string `json:"uid"`
				} `json:"finding_info"`
			}
			if err := json.Unmarshal(b, &u); err != nil {
				return err
			}
			seg.uids = append(seg.uids, u.FindingInfo.UID)
			seg.rows++
			seg.bytes += int64(len(b))
		}
		good = end
		return nil
	})
	if err != nil || first {
		return nil, fmt.Errorf("spool segment %s is unreadable (%v): move it away to start", p, err)
	}
	if st, _ := f.Stat(); st != nil && st.Size() > good {
		_ = f.Truncate(good) // a record cut short by a crash
	}
	return seg, nil
}

// eachRecord calls fn with each whole record of r and the offset after
// it, stopping at the first record cut short or damaged.
func eachRecord(r io.Reader, fn func(b []byte, end int64) error) error {
	var off int64
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil
		}
		n := binary.LittleEndian.Uint32(hdr[:4])
		if n > 1<<30 {
			return nil
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil || crc32.Checksum(b, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
			return nil
		}
		off += 8 + int64(n)
		if err := fn(b, off); err != nil {
			return err
		}
	}
}

func appendRecord(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(b, castagnoli))
	return append(dst, b...)
}

// add keeps findings for target, skipping those already waiting (a
// flush sent again after a crash, before its delivery was journaled). It
// returns once they are written and synced. A segment that reaches
// maxRows or maxBytes is sealed and the rest go to a new one.
func (s *spool) add(target string, rows []ocsf.Finding, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	type rec struct {
		uid string
		b   []byte
	}
	var recs []rec
	var n int64
	batch := make(map[string]bool, len(rows))
	for i := range rows {
		uid := rows[i].FindingInfo.UID
		_, earlier := s.before[uid]
		if _, dup := s.pending[uid]; dup || earlier || batch[uid] {
			continue
		}
		batch[uid] = true
		b, err := json.Marshal(&rows[i])
		if err != nil {
			return err
		}
		recs = append(recs, rec{uid, b})
		n += int64(len(b))
	}
	if len(recs) == 0 {
		return nil
	}
	if s.bytes+n > s.limit && s.bytes > 0 {
		return fmt.Errorf("%w: %d bytes of findings wait for S3, the limit is %d", errFull, s.bytes, s.limit)
	}
	for len(recs) > 0 {
		seg := s.open[target]
		if seg == nil {
			var err error
			if seg, err = s.newSegment(target, now); err != nil {
				return err
			}
			s.open[target] = seg
		}
		var buf []byte
		var uids []string
		var size int64
		for len(recs) > 0 && seg.rows+len(uids) < s.maxRows && seg.bytes+size < s.maxBytes {
			buf = appendRecord(buf, recs[0].b)
			uids = append(uids, recs[0].uid)
			size += int64(len(recs[0].b))
			recs = recs[1:]
		}
		if seg.f != nil {
			if _, err := seg.f.Write(buf); err != nil {
				return fmt.Errorf("writing %s: %v", seg.f.Name(), err)
			}
			if err := seg.f.Sync(); err != nil {
				return fmt.Errorf("syncing %s: %v", seg.f.Name(), err)
			}
		} else {
			seg.buf = append(seg.buf, buf...)
		}
		for _, u := range uids {
			s.pending[u] = struct{}{}
		}
		seg.uids = append(seg.uids, uids...)
		seg.rows += len(uids)
		seg.bytes += size
		s.bytes += size
		if seg.rows >= s.maxRows || seg.bytes >= s.maxBytes {
			s.seal(seg)
		}
	}
	return nil
}

func (s *spool) newSegment(target string, now time.Time) (*segment, error) {
	var r [6]byte
	_, _ = rand.Read(r[:])
	seg := &segment{name: fmt.Sprintf("seg-%019d-%s", now.UnixNano(), hex.EncodeToString(r[:])), target: target, created: now}
	h, _ := json.Marshal(header{Target: target, Created: now.UnixNano()})
	if s.dir == "" {
		seg.buf = appendRecord(nil, h)
		return seg, nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the Security Lake spool %s: %v", s.dir, err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, seg.name+".spool"), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating a Security Lake spool segment: %v", err)
	}
	if _, err := f.Write(appendRecord(nil, h)); err != nil {
		f.Close()
		return nil, err
	}
	seg.f = f
	return seg, nil
}

// seal ends a segment: no finding is added to it any more. s.mu is held.
func (s *spool) seal(seg *segment) {
	delete(s.open, seg.target)
	if seg.f != nil {
		_ = seg.f.Close()
		seg.f = nil
	}
	s.sealed = append(s.sealed, seg)
}

// sealDue seals the open segments older than age (all with age 0), and
// returns the sealed segments waiting, oldest first.
func (s *spool) sealDue(now time.Time, age time.Duration) []*segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.open {
		if age <= 0 || now.Sub(seg.created) >= age {
			s.seal(seg)
		}
	}
	sort.Slice(s.sealed, func(i, j int) bool { return s.sealed[i].name < s.sealed[j].name })
	return append([]*segment(nil), s.sealed...)
}

// findings reads a sealed segment's findings back.
func (s *spool) findings(seg *segment) ([]ocsf.Finding, error) {
	var r io.Reader
	if s.dir == "" {
		r = bytes.NewReader(seg.buf)
	} else {
		f, err := os.Open(filepath.Join(s.dir, seg.name+".spool"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = bufio.NewReader(f)
	}
	rows := make([]ocsf.Finding, 0, seg.rows)
	first := true
	err := eachRecord(r, func(b []byte, _ int64) error {
		if first {
			first = false
			return nil
		}
		var f ocsf.Finding
		if err := json.Unmarshal(b, &f); err != nil {
			return err
		}
		rows = append(rows, f)
		return nil
	})
	return rows, err
}

// done forgets a segment whose objects are all written.
func (s *spool) done(seg *segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.sealed {
		if x == seg {
			s.sealed = append(s.sealed[:i], s.sealed[i+1:]...)
			break
		}
	}
	for _, u := range seg.uids {
		delete(s.pending, u)
	}
	s.bytes -= seg.bytes
	if s.dir != "" {
		_ = os.Remove(filepath.Join(s.dir, seg.name+".spool"))
	}
	seg.buf = nil
}

// waiting counts the findings not yet in an object.
func (s *spool) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}
