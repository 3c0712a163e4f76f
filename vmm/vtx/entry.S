/*
 * asm_vmrun: one VM entry and the VM exit that ends it (SDM Vol. 3C 26,
 * 27). VMX saves and loads only RSP, RIP and RFLAGS of the guest (and
 * system state); every other general register is swapped here, from and to
 * the guest env's trapframe.
 *
 *   int asm_vmrun(struct Trapframe *tf, int launched)
 *
 * Writes HOST_RSP (the host resumes on this very stack frame after the
 * exit; HOST_RIP, set by vtx/setup.c, is vmx_exit_entry below), loads the guest
 * registers, then VMLAUNCH (launched == 0) or VMRESUME. Returns
 * VMRUN_EXITED after a VM exit with the guest registers saved in *tf, or
 * VMRUN_FAIL_INVALID / VMRUN_FAIL_VALID when the instruction itself failed
 * (SDM Vol. 3C 31.2: CF or ZF set, the guest never ran).
 */
#include <vmm/vtx/vmcs.h>

#include <vmm/gprs.h>

	.text
	.globl asm_vmrun
	.type asm_vmrun, @function
asm_vmrun:
	PUSH_CALLEE_SAVED
	/* tf, found again at 0(%rsp) after the exit. */
	pushq	%rdi

	movq	$VMCS_HOST_RSP_ENCODING, %rax
	vmwrite	%rsp, %rax
	jna	fail

	/* Flags for the launch/resume choice; the moves below keep them. */
	testl	%esi, %esi

	movq	TF_RAX(%rdi), %rax
	LOAD_GUEST_GPRS %rdi
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
	SAVE_GUEST_GPRS %rdi
	popq	%rax
	movq	%rax, TF_RDI(%rdi)
	movl	$VMRUN_EXITED, %eax

out:
	addq	$8, %rsp
	POP_CALLEE_SAVED
	ret
	.size asm_vmrun, . - asm_vmrun
