//go:build amd64 && !purego

package jsonstr

import "golang.org/x/sys/cpu"

// useBlocks says escapeBlocks runs here: it needs AVX-512 (byte compares
// into mask registers, VBMI2's byte expansion) and BMI2 (PDEP, PEXT), as
// Intel's CPUs since Ice Lake and AMD's since Zen 4 have.
var useBlocks = cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VBMI2 &&
	cpu.X86.HasBMI2 && cpu.X86.HasPOPCNT

// escapeBlocks escapes src into dst 32 bytes at a time, as Append escapes
// text: a backslash before each '"' and '\\', the other bytes as they are.
// It stops at the first block holding a control character or a byte that
// is not ASCII (Append's own loop handles those), when fewer than 32 bytes
// of src are left, or when dst has room for less than 64 more bytes. read
// and written say how far it got in src and dst.
//
// Each block's quotes and backslashes are found by two compares into a
// mask; a block without any is stored as it is, and one with some is
// spread out to its escaped width in one instruction (VPEXPANDB over a
// register of backslashes, by a mask that PDEP and PEXT compute from the
// quotes' mask). Its cost is per block, not per escape: JSON text carried
// in a string has a quote every eight bytes or so.
//
//go:noescape
func escapeBlocks(dst []byte, src string) (read, written int)

// specialBits sets bit i%64 of bits[i/64] for each byte s[i] that ends or
// escapes a JSON string or may not appear in one ('"', '\\', a control
// character), 64 bytes at a time, and clears the others; bits must have
// room for len(s) bits. ascii says whether every byte of s is ASCII.
//
//go:noescape
func specialBits(bits []uint64, s string) (ascii bool)
