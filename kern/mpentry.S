/*
 * Application processor start-up. boot_aps() copies the code between
 * mpentry_start and mpentry_end to MPENTRY_PADDR (page-aligned, below
 * 1 MiB), and a STARTUP IPI starts the AP there in real mode with
 * CS:IP = (MPENTRY_PADDR >> 4):0. The code cannot use its link addresses
 * until paging is on, so MPBOOTPHYS() computes where each symbol lands.
 *
 * Path: real mode -> 32-bit protected mode -> long mode on the boot page
 * tables of kern/entry.S (they map low memory 1:1, which we still run in)
 * -> jump to mpentry_high at its link address -> kernel page tables, this
 * CPU's stack (mpentry_kstack) -> mp_main().
 */
#include <inc/mmu.h>
#include <inc/memlayout.h>
#include <kern/longmode.h>

#define RELOC(x) ((x) - KERNLINK)
#define MPBOOTPHYS(s) ((s) - mpentry_start + MPENTRY_PADDR)

.set AP_CODE32, 0x08
.set AP_DATA, 0x10
.set AP_CODE64, 0x18

	.text
	.code16
.globl mpentry_start
mpentry_start:
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	lgdtl	MPBOOTPHYS(ap_gdtdesc)
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$AP_CODE32, $MPBOOTPHYS(ap_start32)

	.code32
ap_start32:
	movw	$AP_DATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	ENABLE_LONG_MODE RELOC(boot_pml4)
	ljmpl	$AP_CODE64, $MPBOOTPHYS(ap_start64)

	.code64
ap_start64:
	movabsq	$mpentry_high, %rax
	jmp	*%rax

	.p2align 3
ap_gdt:
	SEG_NULL
	SEG32(STA_X | STA_R, 0x0, 0xffffffff)   /* AP_CODE32 */
	SEG32(STA_W, 0x0, 0xffffffff)           /* AP_DATA */
	SEG_CODE64                              /* AP_CODE64 */
ap_gdtdesc:
	.word	ap_gdtdesc - ap_gdt - 1
	.long	MPBOOTPHYS(ap_gdt)
.globl mpentry_end
mpentry_end:

/* From here on the code runs at its link address. */
mpentry_high:
	movq	kern_cr3(%rip), %rax
	movq	%rax, %cr3
	movq	mpentry_kstack(%rip), %rsp
	movq	$0, %rbp
	movabsq	$mp_main, %rax
	call	*%rax
1:	hlt
	jmp	1b
