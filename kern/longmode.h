/*
 * Shared by kern/entry.S (the boot CPU) and kern/mpentry.S (the others):
 * the switch from 32-bit protected mode to IA-32e mode on the boot page
 * tables (SDM Vol. 3A 9.8.5): PAE, CR3, EFER.LME, then CR0.PG activates
 * long mode. The CPU stays in compatibility mode until a far jump loads a
 * 64-bit code segment. Clobbers %eax, %ecx, %edx.
 */
#ifndef JOS_KERN_LONGMODE_H
#define JOS_KERN_LONGMODE_H

#include <inc/mmu.h>

.macro ENABLE_LONG_MODE pml4_phys
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$\pml4_phys, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PE | CR0_PG | CR0_WP | CR0_NE | CR0_MP), %eax
	andl	$~(CR0_EM | CR0_TS), %eax
	movl	%eax, %cr0
.endm

#endif /* !JOS_KERN_LONGMODE_H */
