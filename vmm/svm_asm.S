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

/* Offsets of struct PushRegs in struct Trapframe (inc/trap.h); svm.c
 * checks them with static_assert. RAX is in the VMCB. */
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

/* Our stack after the pushes below. */
#define SAVED_VMCB 0
#define SAVED_HOST 8
#define SAVED_TF 16

	.text
	.globl asm_svm_run
	.type asm_svm_run, @function
asm_svm_run:
	/* The callee-saved registers the guest will clobber. */
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi            /* tf */
	pushq	%rdx            /* host_save_pa */
	pushq	%rsi            /* vmcb_pa */

	clgi
	movq	%rdx, %rax
	vmsave                  /* the host's hidden state */
	movq	%rsi, %rax
	vmload                  /* the guest's */

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

	sti
	vmrun                   /* %rax: the VMCB */
	cli

	/* #VMEXIT: RSP, RAX and the host's segments are back; GIF is 0. */
	pushq	%rdi
	movq	SAVED_TF+8(%rsp), %rdi
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

	movq	SAVED_VMCB(%rsp), %rax
	vmsave                  /* the guest's hidden state */
	movq	SAVED_HOST(%rsp), %rax
	vmload                  /* the host's back */
	stgi

	addq	$24, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size asm_svm_run, . - asm_svm_run
