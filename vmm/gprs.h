/*
 * For the VM entry stubs (vtx/entry.S, amdv/entry.S): where struct PushRegs
 * keeps each general register in struct Trapframe (inc/trap.h; vtx/run.c and
 * amdv/run.c check the offsets with static_assert), and macros that move the
 * guest's registers between a trapframe and the CPU. RAX and RDI are left
 * to each stub: RAX because AMD-V keeps it in the VMCB, RDI because it
 * holds the trapframe's address while the others move.
 */
#ifndef JOS_VMM_GPRS_H
#define JOS_VMM_GPRS_H

#define TF_R15 0
#define TF_R14 8
#define TF_R13 16
#define TF_R12 24
#define TF_R11 32
#define TF_R10 40
#define TF_R9 48
#define TF_R8 56
#define TF_RSI 64
#define TF_RDI 72
#define TF_RBP 80
#define TF_RDX 88
#define TF_RCX 96
#define TF_RBX 104
#define TF_RAX 112

#ifdef __ASSEMBLER__
/* The host's callee-saved registers, which the guest will clobber. */
.macro PUSH_CALLEE_SAVED
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
.endm

.macro POP_CALLEE_SAVED
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
.endm

/* Every register but RAX and RDI from the trapframe at \tf ... */
.macro LOAD_GUEST_GPRS tf
	movq	TF_RBX(\tf), %rbx
	movq	TF_RCX(\tf), %rcx
	movq	TF_RDX(\tf), %rdx
	movq	TF_RBP(\tf), %rbp
	movq	TF_RSI(\tf), %rsi
	movq	TF_R8(\tf), %r8
	movq	TF_R9(\tf), %r9
	movq	TF_R10(\tf), %r10
	movq	TF_R11(\tf), %r11
	movq	TF_R12(\tf), %r12
	movq	TF_R13(\tf), %r13
	movq	TF_R14(\tf), %r14
	movq	TF_R15(\tf), %r15
.endm

/* ... and back into it. */
.macro SAVE_GUEST_GPRS tf
	movq	%rbx, TF_RBX(\tf)
	movq	%rcx, TF_RCX(\tf)
	movq	%rdx, TF_RDX(\tf)
	movq	%rbp, TF_RBP(\tf)
	movq	%rsi, TF_RSI(\tf)
	movq	%r8, TF_R8(\tf)
	movq	%r9, TF_R9(\tf)
	movq	%r10, TF_R10(\tf)
	movq	%r11, TF_R11(\tf)
	movq	%r12, TF_R12(\tf)
	movq	%r13, TF_R13(\tf)
	movq	%r14, TF_R14(\tf)
	movq	%r15, TF_R15(\tf)
.endm
#endif /* __ASSEMBLER__ */

#endif /* !JOS_VMM_GPRS_H */
