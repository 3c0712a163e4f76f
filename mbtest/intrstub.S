/*
 * The 256 interrupt entry points of the multiboot test kernel (intr.h):
 * each pushes a dummy error code where the CPU pushes none (SDM vol. 3
 * 6.13: vectors 8, 10-14, 17, 21, 29 and 30 push one), then its vector,
 * and jumps to the common path, which calls intr_dispatch(vector, eip)
 * with every general register saved.
 *
 * Invariants:
 * - intr_stubs[] holds the 256 entry addresses, in vector order, for
 *   intr_init to put in the IDT.
 */
	.text
	.code32
	.p2align 4
intr_common:
	pushal
	/* After pushal (32 bytes): the vector at 32(%esp), the error
	 * code at 36, the faulting EIP at 40. */
	pushl	40(%esp)
	pushl	36(%esp)     /* the vector: 32 + the 4 just pushed */
	call	intr_dispatch
	addl	$8, %esp
	popal
	addl	$8, %esp     /* vector and error code */
	iret

	.pushsection .rodata
	.p2align 2
	.globl	intr_stubs
intr_stubs:
	.popsection

	.set	vec, 0
	.rept	256
	.p2align 4
1:
	.if !((vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30))
	pushl	$0
	.endif
	pushl	$vec
	jmp	intr_common
	.pushsection .rodata
	.long	1b
	.popsection
	.set	vec, vec + 1
	.endr
