// Package journal remembers on disk, across restarts of Fluent Bit, which
// records each destination accepted, so that a record Fluent Bit replays
// from its filesystem storage is not delivered again where it already
// arrived.
//
// Why: when Fluent Bit stops while a flush is in flight (AWS answering
// slowly, say), its engine ends before the flush returns, so the chunk stays
// in storage.path and is replayed at the next start, although AWS accepted
// its events. Every Fluent Bit output resends such a chunk in full. The
// replayed records are byte for byte those of the first flush, but not
// always in the same chunk (the storage_backlog input may join chunks), so
// the journal keys each delivery by a hash of the destination and the
// record's own bytes, not by chunk.
//
// The journal is two append-only files of 8-byte keys in a directory:
// NAME.journal, written by this run, and NAME.journal.old, the one before.
// When the current file reaches half of the bound, it becomes the old one
// (the older is removed), so at most Max keys are kept, the newest. Keys
// written are in the page cache at once and survive a stop or a crash of
// the process; they are not synced, so a power loss may lose the last
// ones, and then at worst those records are delivered twice, as without a
// journal.
package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// DefaultMax is the default bound on the keys kept: far more than the
// records of the flushes in flight at a stop (a chunk holds at most a few
// thousand alerts).
const DefaultMax = 200000

// Key identifies the delivery of one record to one destination.
type Key uint64

// RecordHash hashes a record's bytes, once per record.
func RecordHash(raw []byte) uint64 { return xxhash.Sum64(raw) }

// DestHash hashes a destination name, once per destination.
func DestHash(dest string) uint64 { return xxhash.Sum64String(dest) }

// KeyOf combines the hashes of a destination and a record.
func KeyOf(dest, record uint64) Key {
	// splitmix64's finaliser over the pair: order matters, and a
	// destination's key never equals another's for the same record.
	x := record ^ (dest * 0x9E3779B97F4A7C15)
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return Key(x)
}

// Journal is one instance's journal, safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	path    string
	max     int
	f       *os.File
	written int // keys in the current file
	// earlier holds the keys of earlier runs (and of this run before a
	// hot reload): what a replay is checked against.
	earlier map[Key]struct{}
	buf     []byte
}

// Open opens (creating dir when needed) the journal NAME in dir, keeping
// at most max keys, and loads the keys earlier runs wrote.
func Open(dir, name string, max int) (*Journal, error) {
	if max < 2 {
		max = DefaultMax
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: creating %s: %w (set journal_path to a writable directory, e.g. beside Fluent Bit's storage.path)", dir, err)
	}
	j := &Journal{path: filepath.Join(dir, safeName(name)+".journal"), max: max, earlier: map[Key]struct{}{}}
	var loaded []Key // oldest first
	for _, p := range []string{j.path + ".old", j.path} {
		var err error
		if loaded, err = load(p, loaded); err != nil {
			return nil, err
		}
	}
	if len(loaded) > max/2 {
		loaded = loaded[len(loaded)-max/2:] // the newest
	}
	for _, k := range loaded {
		j.earlier[k] = struct{}{}
	}
	// The keys loaded become the old file; this run writes a new one.
	if err := j.start(loaded); err != nil {
		return nil, err
	}
	return j, nil
}

// safeName keeps a file name out of other directories.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == 0 || r == '\\' {
			return '_'
		}
		return r
	}, s)
	if s == "" || s == "." || s == ".." {
		s = "falcocw"
	}
	return s
}

// load appends the keys of the file at path to keys.
func load(path string, keys []Key) ([]Key, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return keys, nil
	}
	if err != nil {
		return keys, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var b [8]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return keys, nil // the end, or a key cut short by a stop mid-write
		}
		keys = append(keys, Key(binary.LittleEndian.Uint64(b[:])))
	}
}

// start writes the keys kept from earlier runs as the old file (through a
// temporary file, so a stop never leaves it half written) and opens a new
// current file.
func (j *Journal) start(kept []Key) error {
	tmp := j.path + ".tmp"
	buf := make([]byte, 0, 8*len(kept))
	for _, k := range kept {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(k))
	}
	if err := os.WriteFile(tmp, buf, 0o600); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := os.Rename(tmp, j.path+".old"); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return j.openCurrent()
}

func (j *Journal) openCurrent() error {
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.f, j.written = f, 0
	return nil
}

// rotate makes the current file the old one (removing the older) and
// starts a new one.
func (j *Journal) rotate() error {
	j.f.Close()
	j.f = nil
	if err := os.Rename(j.path, j.path+".old"); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return j.openCurrent()
}

// Replaying reports whether earlier runs left keys to check deliveries
// against; while it is false, Seen need not be asked.
func (j *Journal) Replaying() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.earlier) > 0
}

// Seen reports whether an earlier run recorded the delivery k.
func (j *Journal) Seen(k Key) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, ok := j.earlier[k]
	return ok
}

// Record appends deliveries, in one write.
func (j *Journal) Record(keys []Key) error {
	if len(keys) == 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("journal: closed")
	}
	j.buf = j.buf[:0]
	for _, k := range keys {
		j.buf = binary.LittleEndian.AppendUint64(j.buf, uint64(k))
	}
	if _, err := j.f.Write(j.buf); err != nil {
		return fmt.Errorf("journal: writing %s: %w", j.path, err)
	}
	j.written += len(keys)
	if j.written >= j.max/2 {
		return j.rotate()
	}
	return nil
}

// Close closes the journal's file; its keys stay for the next run.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// Path is the journal's current file.
func (j *Journal) Path() string { return j.path }
