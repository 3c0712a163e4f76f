/*
 * The fast path (vmm/vmm.c explains it and why it may run without the
 * big kernel lock), written once: the loop (vmm_fast_run), what it may
 * handle (vmm_fast_handle), when it may (vmm_fast_allowed), its
 * accounting, and the bookkeeping every backend's entry/exit code shares
 * (stale RSP, migrations). Inline functions, so that each backend's
 * guest_run (vmm/vtx/run.c, vmm/amdv/run.c), which passes its own
 * static functions for the vendor steps, compiles into one function: a
 * fast exit costs a few dozen host instructions, no indirect calls.
 *
 * Invariant: nothing here takes a lock or touches anything but e, its
 * Guest and this CPU (the rules at the top of vmm/vmm.c).
 */
#ifndef JOS_VMM_FASTPATH_H
#define JOS_VMM_FASTPATH_H

#include <inc/x86.h>
#include <kern/env.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>
#include <vmm/devexit.h>

/* A word another CPU may write under the lock, read here without it. */
#define VMM_PEEK(x) (*(volatile __typeof__(x) *)&(x))

/* The fast path reads the TSC once per this many exits of a streak. */
#define VMM_FAST_TSC_EVERY 64

/* Has vc run a whole slice (VMM_IRQ_SLICE_US) since the host last took
 * its own interrupts? Then the slow path takes them (vmm_run_loop). */
static inline bool vmm_irqs_overdue(const struct Vcpu *vc, uint64_t now)
{
	return now - vc->irq_tsc >= vmm_irq_slice_tsc;
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
	struct Vcpu *vc = e->env_vcpu;

	struct Vm *vm = vc->vm;

	return VMM_PEEK(e->env_status) == ENV_RUNNING &&
	       !VMM_PEEK(vm->kill_requested) && !VMM_PEEK(vm->paused) &&
	       !VMM_PEEK(vm->dbg.active) && vc->streak + 1 < VMM_MAX_STREAK &&
	       (vc->streak % VMM_FAST_TSC_EVERY ||
		!vmm_irqs_overdue(vc, read_tsc()));
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
	struct Vcpu *vc = e->env_vcpu;
	struct GuestExitStat *st = vc->exitstat_last;

	vc->streak++;
	if (st->reason != reason || !st->count) {
		vmm_exit_count(e);
		return;
	}
	st->count++;
}

/* What a fast-path exit is, as each backend classifies its exit. */
enum vmm_fast_kind {
	VMM_FAST_NONE,       /* not the fast path's: the slow path handles it */
	VMM_FAST_CPUID,
	VMM_FAST_HYPERCALL,  /* VMCALL / VMMCALL */
	VMM_FAST_PAUSE,      /* AMD-V only (VT-x does not exit on PAUSE) */
	VMM_FAST_MMIO,       /* a data read outside RAM, exit.info2 its
			      * guest-physical address (devexit_mmio_fast) */
};

/*
 * Handle a fast exit of kind k in e's registers. True if it was one
 * (the caller moves RIP past the instruction); false, with nothing
 * changed, for the slow path (a hypercall vmexit_hypercall_fast does not
 * answer, an MMIO read the kernel does not answer from the LAPIC read
 * shadow without a walk, or VMM_FAST_NONE). Handlers write RIP (the
 * caller) and general registers but RSP only: the fast entries write
 * back nothing else.
 */
static inline bool vmm_fast_handle(struct Env *e, enum vmm_fast_kind k)
{
	struct PushRegs *r = &e->env_tf.tf_regs;

	switch (k) {
	case VMM_FAST_CPUID:
		vmexit_cpuid_regs(e->env_vcpu->vm, r);
		return true;
	case VMM_FAST_HYPERCALL:
		return vmexit_hypercall_fast(r);
	case VMM_FAST_PAUSE:
		return true;
	case VMM_FAST_MMIO:
		return devexit_mmio_fast(e, e->env_vcpu->exit.info2);
	default:
		return false;
	}
}

/*
 * The fast path's loop, after the first entry of a guest_run (whose
 * result is r): while the exit is of the fast path and may be handled
 * there, handle it, move RIP past the instruction (vc->exit.inst_len,
 * which kind() sets when the backend must compute it), let the backend
 * end the interrupt shadow and deliver a single-step trap (skipped),
 * count it, and enter again (reenter). Returns the result of the entry
 * whose exit the slow path must handle. The function arguments are the
 * backend's static functions: always inlined, they compile to direct
 * code.
 */
static inline __attribute__((always_inline)) int
vmm_fast_run(struct Env *e, int r, enum vmm_fast_kind (*kind)(struct Env *),
	     void (*skipped)(struct Env *), int (*reenter)(struct Env *))
{
	struct Vcpu *vc = e->env_vcpu;

	while (r >= 0 && vmm_fast_allowed(e) && vmm_fast_handle(e, kind(e))) {
		e->env_tf.tf_rip += vc->exit.inst_len;
		skipped(e);
		vmm_fast_account(e, vc->exit.reason);
		r = reenter(e);
	}
	return r;
}

/*
 * The guest's RSP into env_tf if the last exit left it in the control
 * structure (vc->rsp_stale): read_rsp(e) reads it there. Every guest_run
 * does this before it returns, so the slow path, the gdb stub and the
 * monitor never see a stale RSP.
 */
static inline __attribute__((always_inline)) void
vmm_rsp_fetch(struct Env *e, uint64_t (*read_rsp)(struct Env *))
{
	struct Vcpu *vc = e->env_vcpu;

	if (vc->rsp_stale) {
		e->env_tf.tf_rsp = read_rsp(e);
		vc->rsp_stale = false;
	}
}

/* The vCPU vc starts running on this CPU after it ran on another one (or
 * this CPU ran something else): count a migration when the CPU changed. */
static inline void vmm_count_arrival(struct Vcpu *vc, int cpu)
{
	if (vc->last_cpu >= 0 && vc->last_cpu != cpu)
		vc->nmigrations++;
	vc->last_cpu = cpu;
}

#endif /* !JOS_VMM_FASTPATH_H */
