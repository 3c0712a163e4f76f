/*
 * The hostile-guest harness (attack.c): a guest kernel whose command line
 * is "attack NAME" runs that attack on the VMM at CPL 0, at the point of
 * its boot the attack's stage names. Only the guest kernel (VMM_GUEST)
 * has it: kern/init.c runs attack_stage(), kern/trap.c asks attack_trap().
 */
#ifndef JOS_TESTPAYLOAD_ATTACK_H
#define JOS_TESTPAYLOAD_ATTACK_H

#include <inc/types.h>
#include <inc/trap.h>

/* Where in i386_init (kern/init.c) an attack runs. */
enum attack_stage {
	/* After the CPUID check: the guest has its IDT and its memory, but
	 * no LAPIC, PIC or timer of its own, and no env. The default. */
	ATTACK_AFTER_CPUID = 0,
	/* Right after the console: no IDT of the guest's own yet (IDTR as
	 * the boot left it), no page allocator; only cprintf and vmcall. */
	ATTACK_BEFORE_IDT,
};

struct attack {
	const char *name;
	const char *class;      /* instr, msr, io, cr, mem, exc, irq, ... */
	void (*run)(void);
};

/* The command-line word that selects the harness. */
#define ATTACK_CMDLINE "attack "

/* If cmdline names an attack of this stage, run it (never returns);
 * otherwise return. At ATTACK_AFTER_CPUID, the last stage, an unknown
 * name lists the attacks and ends the VM. */
void attack_stage(const char *cmdline, enum attack_stage stage);
bool attack_trap(struct Trapframe *tf);

#endif /* !JOS_TESTPAYLOAD_ATTACK_H */
