/*
 * The application processors' way into C (smpap.c): a real-mode
 * trampoline that smp_boot() copies to SMP_TRAMP_PA (its page number is
 * the STARTUP vector), and the 32-bit code it jumps to in place.
 *
 * The trampoline loads the boot CPU's own GDT (smp_boot puts its GDTR in
 * tr_gdtr), sets CR0.PE and far-jumps through tr_jump (ap_pm32 and the
 * boot CPU's code selector). ap_pm32 loads the boot CPU's data selector,
 * takes the next of SMP_AP_MAX stacks with a locked xadd (several APs
 * may start at once: an all-but-self STARTUP), and calls ap_main(slot).
 *
 * Invariants:
 * - Until ap_pm32 nothing but the trampoline's own copy is addressed
 *   (DS = CS = the copy's segment): it runs wherever it is copied.
 * - An AP beyond SMP_AP_MAX slots never touches a stack: it spins.
 * - Interrupts stay off until ap_main decides.
 */
#include "smpap.h"

#define CR0_PE 0x1

	.text
	.code16
	.globl	ap_tramp, ap_tramp_end, tr_gdtr, tr_jump
ap_tramp:
	cli
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	tr_gdtr - ap_tramp
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	*(tr_jump - ap_tramp)
	.p2align 2
tr_gdtr:			/* the boot CPU's GDTR (sgdt) */
	.word	0
	.long	0
	.p2align 2
tr_jump:			/* ap_pm32 and the boot CPU's CS */
	.long	0
	.word	0
ap_tramp_end:

	.code32
	.globl	ap_pm32
ap_pm32:
	movw	%cs:ap_ds, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movl	$1, %ecx
	lock xaddl %ecx, ap_next_slot
	cmpl	$SMP_AP_MAX, %ecx
	jae	2f
	movl	%ecx, %eax
	incl	%eax
	shll	$SMP_AP_STACK_SHIFT, %eax
	leal	ap_stacks(%eax), %esp
	pushl	%ecx
	call	ap_main
2:	pause			/* no stack of its own: spin, never HLT */
	jmp	2b
