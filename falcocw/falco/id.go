package falco

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/cespare/xxhash/v2"
)

// IDKey is the key of the alert's stable identifier in the delivered
// event; Security Hub findings carry the same value as their Id.
const IDKey = "id"

// idSeeds are the seeds of the two 64-bit halves of the ID.
var idSeeds = [2]uint64{0x66616c636f637721, 0x9e3779b97f4a7c15}

// ID is the alert's stable identifier: 32 hexadecimal digits of a 128-bit
// hash (two seeded xxHash64) of its time, hostname, rule and output, and
// its uuid when it has one (a uuid names one alert by definition). The
// same alert gets the same ID however often, and by whichever instance,
// it is delivered, so a consumer can drop duplicates by it and Security
// Hub takes a finding sent again as an update of the same finding. Two
// alerts differ in ID unless they agree in all of these, to the
// nanosecond.
func (a *Alert) ID() string {
	var b [32]byte
	return string(a.AppendID(b[:0]))
}

// AppendID appends ID to b.
func (a *Alert) AppendID(b []byte) []byte {
	if a.id != "" { // a cut copy of the alert: the original's id
		return append(b, a.id...)
	}
	// The hashed bytes: the time, then each string after its length
	// (("ab","c") and ("a","bc") differ), laid out once, on the stack for
	// alerts of usual size, and hashed whole under each seed: one Write
	// of a few hundred bytes rather than ten small ones per seed. (1 KiB:
	// with 512 bytes, one alert in twenty of the samples, its output long,
	// took its layout from the heap.)
	// An alert too long for that (a command line of kilobytes) is hashed
	// a piece at a time instead: the same hash, no heap.
	var room [1024]byte
	fields := [...]string{a.Hostname, a.Rule, a.Output, a.UUID}
	var sum [16]byte
	var d xxhash.Digest
	if 8+4*len(fields)+len(a.Hostname)+len(a.Rule)+len(a.Output)+len(a.UUID) > len(room) {
		for i, seed := range idSeeds {
			d.ResetWithSeed(seed)
			_, _ = d.Write(binary.LittleEndian.AppendUint64(room[:0], uint64(a.Time.UnixNano())))
			for _, s := range fields {
				_, _ = d.Write(binary.LittleEndian.AppendUint32(room[:0], uint32(len(s))))
				_, _ = d.WriteString(s)
			}
			binary.BigEndian.PutUint64(sum[8*i:], d.Sum64())
		}
		return hex.AppendEncode(b, sum[:])
	}
	in := binary.LittleEndian.AppendUint64(room[:0], uint64(a.Time.UnixNano()))
	for _, s := range fields {
		in = binary.LittleEndian.AppendUint32(in, uint32(len(s)))
		in = append(in, s...)
	}
	for i, seed := range idSeeds {
		d.ResetWithSeed(seed)
		_, _ = d.Write(in)
		binary.BigEndian.PutUint64(sum[8*i:], d.Sum64())
	}
	return hex.AppendEncode(b, sum[:])
}
