/*
 * The vendor-neutral pieces of the fast path (vmm/vmm.c explains it and
 * why it may run without the big kernel lock), as inline functions so
 * that each vendor's loop (vmx_guest_run in vmx.c, svm_guest_run in
 * svm.c) compiles into one function: a fast exit costs a few dozen host
 * instructions, no indirect calls.
 */
#ifndef JOS_VMM_FASTPATH_H
#define JOS_VMM_FASTPATH_H

#include <inc/x86.h>
#include <kern/env.h>
#include <vmm/vmm.h>

/* A word another CPU may write under the lock, read here without it. */
#define VMM_PEEK(x) (*(volatile __typeof__(x) *)&(x))

/* The fast path reads the TSC once per this many exits of a streak. */
#define VMM_FAST_TSC_EVERY 64

/* Has g run a whole slice (VMM_IRQ_SLICE_US) since the host last took
 * its own interrupts? Then the slow path takes them (vmm_run_loop). */
static inline bool vmm_irqs_overdue(const struct Guest *g, uint64_t now)
{
	return now - g->irq_tsc >= vmm_irq_slice_tsc;
}

/*
 * May the exit just taken be handled on the fast path? Only while no
 * other CPU asks the run loop to look at e: destroyed (ENV_DYING), ended
 * or paused from the console, the gdb stub active; while the streak of
 * exits stays below the bound the slow path enforces; and while the
 * host's interrupts are not overdue (looked at every VMM_FAST_TSC_EVERY
 * exits: a TSC read per exit would cost a twentieth of a round trip).
 */
static inline bool vmm_fast_allowed(struct Env *e)
{
	struct Guest *g = e->env_guest;

	return VMM_PEEK(e->env_status) == ENV_RUNNING &&
	       !VMM_PEEK(g->con.kill_requested) && !VMM_PEEK(g->con.paused) &&
	       !VMM_PEEK(g->dbg.active) && g->streak + 1 < VMM_MAX_STREAK &&
	       (g->streak % VMM_FAST_TSC_EVERY ||
		!vmm_irqs_overdue(g, read_tsc()));
}

/*
 * A fast exit of reason `reason` was handled: count it (in the slot the
 * last exit used, when it is this reason's; vmm_exit_count finds the slot
 * otherwise) and lengthen the streak. Its host time is not measured: two
 * TSC reads would cost a fast exit a tenth of its round trip; the
 * monitor's `exits` says so (its average is over slow-path exits only).
 */
static inline void vmm_fast_account(struct Env *e, uint32_t reason)
{
	struct Guest *g = e->env_guest;
	struct GuestExitStat *st = g->exitstat_last;

	g->streak++;
	if (st->reason != reason || !st->count) {
		vmm_exit_count(e);
		return;
	}
	st->count++;
}

#endif /* !JOS_VMM_FASTPATH_H */
