/*
 * The hostile-guest harness (kern/attack.c): a guest kernel whose command
 * line is "attack NAME" runs that attack on the VMM at CPL 0.
 */
#ifndef JOS_KERN_ATTACK_H
#define JOS_KERN_ATTACK_H

#include <inc/types.h>
#include <inc/trap.h>

struct attack {
	const char *name;
	const char *class;      /* instr, msr, io, cr, mem, exc, irq, ... */
	void (*run)(void);
};

/* The command-line word that selects the harness. */
#define ATTACK_CMDLINE "attack "

void attack_run(const char *name) __attribute__((noreturn));
bool attack_trap(struct Trapframe *tf);

#endif /* !JOS_KERN_ATTACK_H */
