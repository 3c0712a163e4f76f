/*
 * The assembled BIOS (vmmdev/bios16.S, linked at offset 0 and copied out
 * as raw bytes: obj/vmmdev/bios16.bin) as data of the vmm program, for
 * bios_build (vmmdev/bios.c) to copy into a guest.
 *
 * Invariants: bios16_blob_end - bios16_blob is the file's size, BIOS_SIZE
 * (bios16.S pads itself to it); the file is named by BIOS16_BIN, which
 * the makefile passes (vmmdev/bios.Makefrag).
 */
	.section .rodata
	.globl	bios16_blob, bios16_blob_end
	.balign	16
bios16_blob:
	.incbin	BIOS16_BIN
bios16_blob_end:
	.section .note.GNU-stack, "", @progbits
