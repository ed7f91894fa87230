//go:build amd64 && !purego

#include "textflag.h"

// func escapeBlocks(dst []byte, src string) (read, written int)
// Requires: AVX512BW, AVX512VL, AVX512VBMI2, BMI2, POPCNT (useBlocks).
TEXT ·escapeBlocks(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), R8
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), R9
	XORQ AX, AX // read
	XORQ BX, BX // written
	MOVQ $0x5555555555555555, R10 // the even bits: each input byte's first slot
	MOVQ $0xaaaaaaaaaaaaaaaa, R11 // the odd bits: its second slot, if escaped
	MOVL $0x22, CX
	VPBROADCASTB CX, Y1 // '"'
	MOVL $0x5c, CX
	VPBROADCASTB CX, Y2 // '\\'
	VPBROADCASTB CX, Z4 // the backslashes the escaped bytes are spread over
	MOVL $0x20, CX
	VPBROADCASTB CX, Y3 // below it, as signed bytes: control or not ASCII

loop:
	LEAQ 32(AX), CX
	CMPQ CX, R9
	JA   done
	LEAQ 64(BX), CX
	CMPQ CX, R8
	JA   done
	VMOVDQU (SI)(AX*1), Y0
	VPCMPB  $1, Y3, Y0, K3 // Y0 < 0x20, signed
	KORTESTD K3, K3
	JNZ     done
	VPCMPEQB Y1, Y0, K1
	VPCMPEQB Y2, Y0, K2
	KORD    K1, K2, K1
	KMOVD   K1, DX
	TESTL   DX, DX
	JNZ     escape
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ    $32, AX
	ADDQ    $32, BX
	JMP     loop

escape:
	// Each input byte i has two output slots, bits 2i and 2i+1 of a word:
	// a plain byte takes slot 2i (and 2i+1 is dropped), an escaped one puts
	// its backslash in 2i and itself in 2i+1. T marks the slots that take an
	// input byte, K the slots kept; PEXT(T, K) is the output's mask of input
	// bytes, the rest of its 32+popcount(q) bytes being backslashes.
	MOVL  DX, R12
	NOTL  R12
	PDEPQ R10, R12, R12 // the plain bytes' even slots
	PDEPQ R11, DX, R13  // the escaped bytes' odd slots
	ORQ   R13, R12      // T
	ORQ   R10, R13      // K
	PEXTQ R13, R12, R12
	KMOVQ R12, K1
	VMOVDQU64 Z4, Z5
	VPEXPANDB Z0, K1, Z5
	VMOVDQU64 Z5, (DI)(BX*1)
	POPCNTL DX, DX
	ADDQ    $32, AX
	LEAQ    32(BX)(DX*1), BX
	JMP     loop

done:
	VZEROUPPER
	MOVQ AX, read+40(FP)
	MOVQ BX, written+48(FP)
	RET

// func specialBits(bits []uint64, s string) (ascii bool)
// Requires: AVX512BW (useBlocks).
TEXT ·specialBits(SB), NOSPLIT, $0-41
	MOVQ bits_base+0(FP), DI
	MOVQ s_base+24(FP), SI
	MOVQ s_len+32(FP), CX
	MOVL $0x22, AX
	VPBROADCASTB AX, Z1 // '"'
	MOVL $0x5c, AX
	VPBROADCASTB AX, Z2 // '\\'
	MOVL $0x20, AX
	VPBROADCASTB AX, Z3 // below it, unsigned: a control character
	VPXORQ Z6, Z6, Z6   // every byte ORed: its high bit says "not ASCII"

	TESTQ CX, CX
	JZ    end

block:
	MOVQ  $-1, AX // a whole block
	CMPQ  CX, $64
	JAE   load
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX // the last block: the CX low bits, the bytes left

load:
	KMOVQ      AX, K4
	VMOVDQU8.Z (SI), K4, Z0 // past the end: read as zero, and not at all
	VPORQ      Z0, Z6, Z6
	VPCMPEQB   Z1, Z0, K1
	VPCMPEQB   Z2, Z0, K2
	VPCMPUB    $1, Z3, Z0, K3
	KORQ       K1, K2, K1
	KORQ       K1, K3, K1
	KANDQ      K1, K4, K1 // the zeros past the end are not control characters
	KMOVQ      K1, AX
	MOVQ       AX, (DI)
	ADDQ       $64, SI
	ADDQ       $8, DI
	SUBQ       $64, CX
	JG         block

end:
	VPMOVB2M Z6, K5
	KORTESTQ K5, K5
	SETEQ    ascii+40(FP)
	VZEROUPPER
	RET
