/*
 * asm_vmrun: one VM entry and the VM exit that ends it (SDM Vol. 3C 26,
 * 27). VMX saves and loads only RSP, RIP and RFLAGS of the guest (and
 * system state); every other general register is swapped here, from and to
 * the guest env's trapframe.
 *
 *   int asm_vmrun(struct Trapframe *tf, int launched)
 *
 * Writes HOST_RSP (the host resumes on this very stack frame after the
 * exit; HOST_RIP, set by vmx.c, is vmx_exit_entry below), loads the guest
 * registers, then VMLAUNCH (launched == 0) or VMRESUME. Returns
 * VMRUN_EXITED after a VM exit with the guest registers saved in *tf, or
 * VMRUN_FAIL_INVALID / VMRUN_FAIL_VALID when the instruction itself failed
 * (SDM Vol. 3C 31.2: CF or ZF set, the guest never ran).
 */
#include <vmm/vmx.h>

/* Offsets of struct PushRegs in struct Trapframe (inc/trap.h); vmx.c
 * checks them with static_assert. */
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

	.text
	.globl asm_vmrun
	.type asm_vmrun, @function
asm_vmrun:
	/* The callee-saved registers the guest will clobber. */
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	/* tf, found again at 0(%rsp) after the exit. */
	pushq	%rdi

	movq	$VMCS_HOST_RSP_ENCODING, %rax
	vmwrite	%rsp, %rax
	jna	fail

	/* Flags for the launch/resume choice; the moves below keep them. */
	testl	%esi, %esi

	movq	TF_RAX(%rdi), %rax
	movq	TF_RBX(%rdi), %rbx
	movq	TF_RCX(%rdi), %rcx
	movq	TF_RDX(%rdi), %rdx
	movq	TF_RBP(%rdi), %rbp
	movq	TF_RSI(%rdi), %rsi
	movq	TF_R8(%rdi), %r8
	movq	TF_R9(%rdi), %r9
	movq	TF_R10(%rdi), %r10
	movq	TF_R11(%rdi), %r11
	movq	TF_R12(%rdi), %r12
	movq	TF_R13(%rdi), %r13
	movq	TF_R14(%rdi), %r14
	movq	TF_R15(%rdi), %r15
	movq	TF_RDI(%rdi), %rdi

	jnz	1f
	vmlaunch
	jmp	fail
1:	vmresume
	/* Only a failed VMLAUNCH/VMRESUME gets here. */
fail:
	jc	2f
	movl	$VMRUN_FAIL_VALID, %eax
	jmp	out
2:	movl	$VMRUN_FAIL_INVALID, %eax
	jmp	out

	/* VM exit: RSP is HOST_RSP, i.e. pointing at the saved tf. */
	.globl vmx_exit_entry
vmx_exit_entry:
	pushq	%rdi
	movq	8(%rsp), %rdi
	movq	%rax, TF_RAX(%rdi)
	movq	%rbx, TF_RBX(%rdi)
	movq	%rcx, TF_RCX(%rdi)
	movq	%rdx, TF_RDX(%rdi)
	movq	%rbp, TF_RBP(%rdi)
	movq	%rsi, TF_RSI(%rdi)
	movq	%r8, TF_R8(%rdi)
	movq	%r9, TF_R9(%rdi)
	movq	%r10, TF_R10(%rdi)
	movq	%r11, TF_R11(%rdi)
	movq	%r12, TF_R12(%rdi)
	movq	%r13, TF_R13(%rdi)
	movq	%r14, TF_R14(%rdi)
	movq	%r15, TF_R15(%rdi)
	popq	%rax
	movq	%rax, TF_RDI(%rdi)
	movl	$VMRUN_EXITED, %eax

out:
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size asm_vmrun, . - asm_vmrun
