//go:build !amd64 || purego

package sha256x2

// useSHANI is false: blocks2 is amd64 assembly (blocks_amd64.s). Sum2
// calls crypto/sha256 twice.
var useSHANI = false

func blocks2(a, b *[8]uint32, pa, pb *byte, n int) {
	panic("sha256x2: blocks2 without useSHANI")
}
