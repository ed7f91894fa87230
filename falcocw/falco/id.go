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
	var sum [16]byte
	var ts [8]byte
	binary.LittleEndian.PutUint64(ts[:], uint64(a.Time.UnixNano()))
	var d xxhash.Digest
	for i, seed := range idSeeds {
		d.ResetWithSeed(seed)
		_, _ = d.Write(ts[:])
		for _, s := range [...]string{a.Hostname, a.Rule, a.Output, a.UUID} {
			var n [4]byte // each length first: ("ab","c") and ("a","bc") differ
			binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
			_, _ = d.Write(n[:])
			_, _ = d.WriteString(s)
		}
		binary.BigEndian.PutUint64(sum[8*i:], d.Sum64())
	}
	return hex.AppendEncode(b, sum[:])
}
