/*
 * The AMD-V entry stubs: VMRUN and the #VMEXIT that ends it (AMD64 APM
 * Vol. 2, 15.5 and 15.6), in three parts so that the fast path (vmm/vmm.c,
 * svm_guest_run in amdv/run.c) can run the guest many times in a row without
 * switching the hidden state each time:
 *
 *   void asm_svm_enter(physaddr_t vmcb_pa, physaddr_t host_save_pa)
 *   void asm_svm_vmrun(struct Trapframe *tf, physaddr_t vmcb_pa)
 *   void asm_svm_leave(physaddr_t vmcb_pa, physaddr_t host_save_pa)
 *
 * asm_svm_enter clears GIF, then VMSAVE/VMLOAD switch to the guest the
 * hidden state that VMRUN and #VMEXIT do not (FS, GS, TR, LDTR with their
 * hidden parts, KernelGSBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*;
 * 15.5.2): the host's goes to the page at host_save_pa. asm_svm_leave
 * switches back (the guest's into its VMCB) and sets GIF again.
 *
 * In between, asm_svm_vmrun is one VMRUN of the VMCB at vmcb_pa, with
 * every general register but RAX and RSP (those live in the VMCB; amdv/run.c
 * copies them) swapped from and to *tf. VMRUN saves and
 * restores the rest of the host state itself (RSP, RIP, RFLAGS, CS/SS/
 * DS/ES, CR0/CR3/CR4, EFER, GDTR, IDTR).
 *
 * Why the host may run between two asm_svm_vmrun calls with the guest's
 * hidden state loaded: GIF stays clear from asm_svm_enter to
 * asm_svm_leave, so no interrupt, NMI or SMI is taken (15.17), and the
 * code that runs there (the fast path's handlers) uses none of that state:
 * the kernel never loads anything through FS or GS, never executes
 * SWAPGS, SYSCALL, SYSRET, SYSENTER or SYSEXIT, and its IDT gates use no
 * IST, so even an exception there would not read the TSS. Everything
 * else (the slow path, other envs, interrupts) runs after asm_svm_leave.
 *
 * Interrupts (15.17, 15.21.1): RFLAGS.IF is set just before VMRUN so that,
 * with V_INTR_MASKING, a physical interrupt exits the guest; it is
 * cleared right after, so the interrupt stays pending until amdv/exits.c takes
 * it through trap_irq_window(), after asm_svm_leave.
 */

#include <vmm/gprs.h>

	.text
	.globl asm_svm_enter
	.type asm_svm_enter, @function
asm_svm_enter:
	clgi
	movq	%rsi, %rax
	vmsave                  /* the host's hidden state */
	movq	%rdi, %rax
	vmload                  /* the guest's */
	ret
	.size asm_svm_enter, . - asm_svm_enter

	.globl asm_svm_leave
	.type asm_svm_leave, @function
asm_svm_leave:
	movq	%rdi, %rax
	vmsave                  /* the guest's hidden state */
	movq	%rsi, %rax
	vmload                  /* the host's back */
	stgi
	ret
	.size asm_svm_leave, . - asm_svm_leave

/* Our stack after the pushes below: tf, then the VMCB's address. */
#define SAVED_VMCB 0
#define SAVED_TF 8

	.globl asm_svm_vmrun
	.type asm_svm_vmrun, @function
asm_svm_vmrun:
	PUSH_CALLEE_SAVED
	pushq	%rdi            /* tf */
	pushq	%rsi            /* vmcb_pa */

	LOAD_GUEST_GPRS %rdi
	movq	TF_RDI(%rdi), %rdi
	movq	SAVED_VMCB(%rsp), %rax

	sti
	vmrun                   /* %rax: the VMCB */
	cli

	/* #VMEXIT: RSP, RAX and the host's segments are back; GIF is 0. */
	pushq	%rdi
	movq	SAVED_TF+8(%rsp), %rdi
	SAVE_GUEST_GPRS %rdi
	popq	%rax
	movq	%rax, TF_RDI(%rdi)

	addq	$16, %rsp
	POP_CALLEE_SAVED
	ret
	.size asm_svm_vmrun, . - asm_svm_vmrun
