/*
 * The entry point of every user program, linked first (user/user.ld puts
 * .text.entry at UTEXT).
 *
 * Start-up contract: a program the kernel creates (env_create) starts at
 * _start with %rsp == USTACKTOP and nothing on its stack. A program started
 * with arguments (spawn, later) starts with argc at 0(%rsp) and argv at
 * 8(%rsp). Either way we call libmain(argc, argv), which never returns.
 */
#include <inc/mmu.h>
#include <inc/memlayout.h>

/*
 * Absolute symbols for the recursive page-table views, for the debugger
 * and for assembly. C code uses the constant pointers of the same names
 * in inc/memlayout.h instead: -mcmodel=small cannot address a symbol this
 * high. (envs and pages are pointer variables: lib/libmain.c.)
 */
	.globl uvpt
	.set uvpt, UVPT_INDEX << PML4XSHIFT
	.globl uvpd
	.set uvpd, uvpt + (UVPT_INDEX << PDPXSHIFT)
	.globl uvpde
	.set uvpde, uvpd + (UVPT_INDEX << PDXSHIFT)
	.globl uvpml4e
	.set uvpml4e, uvpde + (UVPT_INDEX << PTXSHIFT)

	.section .text.entry, "ax"
	.globl _start
_start:
	/* No arguments on the stack: argc = 0, argv = NULL. */
	movq $0, %rdi
	movq $0, %rsi
	movabsq $USTACKTOP, %rax
	cmpq %rax, %rsp
	je 1f
	movq 0(%rsp), %rdi
	movq 8(%rsp), %rsi
1:
	/* A zero frame pointer ends backtraces here; the SysV ABI wants
	 * %rsp 16-byte aligned at the call, and USTACKTOP is. */
	movq $0, %rbp
	andq $-16, %rsp
	call libmain
	/* libmain calls exit(); should it ever return, fault loudly. */
2:	ud2
	jmp 2b
