//go:build amd64 && !purego

package sha256x2

import "golang.org/x/sys/cpu"

//go:generate sh -c "go run gen.go > blocks_amd64.s"

// useSHANI says blocks2 runs here: it needs the SHA extensions (Intel
// since Ice Lake and Goldmont, AMD since Zen) and the SSE4.1 and AVX moves
// of Go's own SHA-NI code.
var useSHANI = hasSHA() && cpu.X86.HasAVX && cpu.X86.HasSSE41 && cpu.X86.HasSSSE3

// blocks2 hashes n blocks of pa into the state a and n blocks of pb into
// b, the rounds of the two interleaved (blocks_amd64.s, from gen.go).
//
//go:noescape
func blocks2(a, b *[8]uint32, pa, pb *byte, n int)

// cpuid returns CPUID's registers for leaf eax, subleaf ecx.
func cpuid(eax, ecx uint32) (a, b, c, d uint32)

// hasSHA reports CPUID.(EAX=7,ECX=0):EBX.SHA[bit 29], which x/sys/cpu
// does not export.
func hasSHA() bool {
	if leaves, _, _, _ := cpuid(0, 0); leaves < 7 {
		return false
	}
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&(1<<29) != 0
}
