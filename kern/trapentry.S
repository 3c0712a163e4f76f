/*
 * Trap entry stubs. The CPU pushes ss, rsp, rflags, cs, rip and, for some
 * exceptions, an error code; each stub makes the frame uniform (a zero
 * error code where the CPU pushes none) and adds the vector number, then
 * _alltraps saves the rest of struct Trapframe (inc/trap.h) and calls
 * trap(tf). There is a stub for each of the 256 vectors, so a stray
 * interrupt is reported instead of escalating to a double fault.
 */
#include <inc/mmu.h>
#include <inc/memlayout.h>
#include <inc/trap.h>

/* Vectors for which the CPU pushes an error code (SDM Vol. 3A 6.13). */
#define HAS_ERRCODE(n) ((n) == 8 || ((n) >= 10 && (n) <= 14) || \
			(n) == 17 || (n) == 21 || (n) == 29 || (n) == 30)

.macro TRAPSTUB n
	.p2align 4
trap_stub_\n:
	.if !HAS_ERRCODE(\n)
	pushq	$0
	.endif
	pushq	$\n
	jmp	_alltraps
.endm

	.text
.altmacro
.set vec, 0
.rept 256
	TRAPSTUB %vec
	.set vec, vec + 1
.endr

/* The stubs' addresses, indexed by vector, for trap_init(). */
.macro STUBADDR n
	.quad	trap_stub_\n
.endm
	.section .rodata
	.p2align 3
.globl trap_stubs
trap_stubs:
.set vec, 0
.rept 256
	STUBADDR %vec
	.set vec, vec + 1
.endr
.noaltmacro

	.text
_alltraps:
	/* tf_ds and tf_es (8 bytes each), then the general registers. */
	subq	$16, %rsp
	movw	%ds, 8(%rsp)
	movw	%es, (%rsp)
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rbp
	pushq	%rdi
	pushq	%rsi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movw	$GD_KD, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movq	%rsp, %rdi
	/* Frame pointer 0: backtraces stop at the trap boundary. */
	xorq	%rbp, %rbp
	call	trap
	/*
	 * trap() returns only for an interrupt taken in the VMM's window
	 * (trap_irq_window, kernel mode): back to the interrupted kernel
	 * code. Otherwise it resumes an env with trapframe_pop.
	 */
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rsi
	popq	%rdi
	popq	%rbp
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	/* tf_es, tf_ds (kernel values, unchanged), tf_trapno, tf_err. */
	addq	$32, %rsp
	iretq

/*
 * void trapframe_pop(struct Trapframe *tf): restore every register from tf
 * and return to the interrupted context with iretq.
 */
.globl trapframe_pop
trapframe_pop:
	movq	%rdi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rsi
	popq	%rdi
	popq	%rbp
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	movw	(%rsp), %es
	movw	8(%rsp), %ds
	/* Skip es, ds, trapno and the error code. */
	addq	$32, %rsp
	iretq
