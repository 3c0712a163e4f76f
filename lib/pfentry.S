/*
 * _pgfault_upcall: where the kernel sends an env after a page fault.
 *
 * The kernel (kern/trap.c page_fault_handler) has pushed a struct
 * UTrapframe on the user exception stack and entered here with %rsp
 * pointing at it. If the fault happened on the exception stack itself
 * (a fault inside the handler), the new frame lies just below the
 * trap-time %rsp, with one empty 8-byte word in between.
 *
 * We call the C handler, then return to the trap-time state exactly:
 * every general register, rflags, %rsp and %rip. iretq is privileged
 * enough to do this in one go but not available to ring 3 (it would need
 * the kernel's help), so we do it by hand:
 *
 *   1. Store the trap-time %rip in the word just below the trap-time
 *      %rsp. On the normal stack that word is free (user code is built
 *      with -mno-red-zone, so nothing lives below %rsp); on the exception
 *      stack it is the empty word the kernel left.
 *   2. Record trap-time %rsp - 8 in the frame as the %rsp to restore.
 *   3. Pop the general registers, then rflags (after which no
 *      flag-changing instruction may run), then %rsp.
 *   4. ret: pops the trap-time %rip and leaves %rsp at its trap-time
 *      value.
 */
#include <inc/mmu.h>
#include <inc/memlayout.h>
#include <lib/pfentry.h>

	.text
	.globl _pgfault_upcall
_pgfault_upcall:
	/* The C handler expects the SysV ABI: the direction flag clear
	 * (the faulting code may have set it; popfq restores it) and %rsp
	 * 16-byte aligned at the call. A nested frame can sit at any 8-byte
	 * boundary, so remember the frame in callee-saved %rbx and align. */
	cld
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	movq _pgfault_handler(%rip), %rax
	call *%rax
	movq %rbx, %rsp

	/* Steps 1 and 2: the handler may have changed the frame, so read
	 * rip and rsp only now. */
	movq UTF_RSP(%rsp), %rax
	subq $8, %rax
	movq UTF_RIP(%rsp), %rcx
	movq %rcx, (%rax)
	movq %rax, UTF_RSP(%rsp)

	/* Step 3: general registers in struct PushRegs order. */
	addq $UTF_REGS, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rsi
	popq %rdi
	popq %rbp
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	/* Skip utf_rip (already copied); lea changes no flags. */
	leaq 8(%rsp), %rsp
	popfq
	popq %rsp

	/* Step 4. */
	ret
