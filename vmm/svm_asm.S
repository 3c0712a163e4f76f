/*
 * asm_svm_run: one VMRUN and the #VMEXIT that ends it (AMD64 APM Vol. 2,
 * 15.5 and 15.6).
 *
 *   void asm_svm_run(struct Trapframe *tf, physaddr_t vmcb_pa,
 *                    physaddr_t host_save_pa)
 *
 * VMRUN saves and restores only part of the host state (RAX, RSP, RIP,
 * RFLAGS, the segment registers CS/SS/DS/ES, CR0/CR3/CR4, EFER, GDTR,
 * IDTR): the guest's RAX, RSP, RIP and RFLAGS live in the VMCB (svm.c
 * copies them), every other general register is swapped here from and to
 * *tf, and VMSAVE/VMLOAD switch the hidden state that #VMEXIT does not
 * restore (FS, GS, TR, LDTR with their hidden parts, KernelGSBase,
 * STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*; 15.5.2): the host's goes to the
 * page at host_save_pa while the guest runs.
 *
 * Interrupts (15.17, 15.21.1): GIF is cleared first, so nothing is taken
 * between here and VMRUN; RFLAGS.IF is set just before VMRUN so that, with
 * V_INTR_MASKING, a physical interrupt exits the guest. #VMEXIT clears GIF
 * again; IF goes off before STGI, so the interrupt stays pending for
 * svm.c to take through trap_irq_window().
 */

#include <vmm/gprs.h>

/* Our stack after the pushes below. */
#define SAVED_VMCB 0
#define SAVED_HOST 8
#define SAVED_TF 16

	.text
	.globl asm_svm_run
	.type asm_svm_run, @function
asm_svm_run:
	PUSH_CALLEE_SAVED
	pushq	%rdi            /* tf */
	pushq	%rdx            /* host_save_pa */
	pushq	%rsi            /* vmcb_pa */

	clgi
	movq	%rdx, %rax
	vmsave                  /* the host's hidden state */
	movq	%rsi, %rax
	vmload                  /* the guest's */

	LOAD_GUEST_GPRS %rdi
	movq	TF_RDI(%rdi), %rdi

	sti
	vmrun                   /* %rax: the VMCB */
	cli

	/* #VMEXIT: RSP, RAX and the host's segments are back; GIF is 0. */
	pushq	%rdi
	movq	SAVED_TF+8(%rsp), %rdi
	SAVE_GUEST_GPRS %rdi
	popq	%rax
	movq	%rax, TF_RDI(%rdi)

	movq	SAVED_VMCB(%rsp), %rax
	vmsave                  /* the guest's hidden state */
	movq	SAVED_HOST(%rsp), %rax
	vmload                  /* the host's back */
	stgi

	addq	$24, %rsp
	POP_CALLEE_SAVED
	ret
	.size asm_svm_run, . - asm_svm_run
