// Package sha256x2 computes the SHA-256 of two messages at once.
//
// SigV4 signs the SHA-256 of every request body, and at full load falcocw
// hashes a megabyte of CloudWatch events per PutLogEvents call: 12 to 15%
// of the Fluent Bit process's CPU. The SHA extensions (SHA-NI) compute a
// round in a few cycles, but each round waits for the one before, so one
// message keeps the unit half idle: Go's crypto/sha256, like OpenSSL, runs
// at about 2 GB/s on this project's machines. Two messages whose rounds
// alternate fill it: about 3 GB/s together.
package sha256x2

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
)

// Sum2 returns the SHA-256 of a and of b, as sha256.Sum256 would.
func Sum2(a, b []byte) (sa, sb [32]byte) {
	n := min(len(a), len(b)) / 64 // blocks hashed side by side
	if !useSHANI || n == 0 {
		return sha256.Sum256(a), sha256.Sum256(b)
	}
	ha, hb := iv, iv
	blocks2(&ha, &hb, &a[0], &b[0], n)
	return finish(&ha, a[n*64:], n*64), finish(&hb, b[n*64:], n*64)
}

// iv is SHA-256's initial state.
var iv = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// finish hashes rest, the message's bytes after its first done (a whole
// number of blocks, whose state h holds), with crypto/sha256: its digest
// takes a state in its marshalled form, a format Go keeps stable.
func finish(h *[8]uint32, rest []byte, done int) [32]byte {
	var st [4 + 32 + 64 + 8]byte // magic, state, the partial block (none), length
	copy(st[:], "sha\x03")
	for i, v := range h {
		binary.BigEndian.PutUint32(st[4+4*i:], v)
	}
	binary.BigEndian.PutUint64(st[4+32+64:], uint64(done))
	d := sha256.New()
	if err := d.(encoding.BinaryUnmarshaler).UnmarshalBinary(st[:]); err != nil {
		panic("sha256x2: crypto/sha256 refused a marshalled state: " + err.Error())
	}
	d.Write(rest)
	var sum [32]byte
	d.Sum(sum[:0])
	return sum
}
