//go:build !amd64 || purego

package jsonstr

// useBlocks is false: escapeBlocks is amd64 assembly (blocks_amd64.s).
var useBlocks = false

func escapeBlocks(dst []byte, src string) (read, written int) { return 0, 0 }

func specialBits(bits []uint64, s string) (ascii bool) {
	panic("jsonstr: specialBits without useBlocks")
}
