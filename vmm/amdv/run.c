/*
 * AMD-V, run: VMRUN and the #VMEXIT after it (registers in and out of
 * the VMCB, the core's events encoded as EVENTINJ and a virtual
 * interrupt, the ASID flush when a guest arrives on a CPU), and the fast
 * path (vmm/fastpath.h) as one unit, so that a fast exit compiles into
 * one function. Section numbers: AMD64 APM Vol. 2, chapter 15.
 *
 * Invariants:
 * - RIP and RAX of the guest are copied from env_tf into the VMCB before
 *   every VMRUN, RSP and RFLAGS only before the first of a guest_run (a
 *   fast exit changes neither); after each #VMEXIT RIP, RFLAGS and RAX
 *   come back, and RSP too except after a CPUID or VMMCALL exit, which
 *   leaves it in the VMCB (vc->rsp_stale) until guest_run returns.
 *   asm_svm_vmrun swaps the other general registers. The TLB flush asked
 *   for on arrival (TLB_CONTROL) is done by the first VMRUN only; fast
 *   entries skip it. VMLOAD/VMSAVE switch the hidden
 *   state (FS, GS, TR, LDTR, KernelGSBase, STAR/LSTAR/CSTAR/SFMASK,
 *   SYSENTER) once around a run of VMRUNs (svm_guest_run: the first
 *   entry and the fast path's exits), with GIF clear all along; the host
 *   has its own back (asm_svm_leave) before any other code runs.
 * - Host interrupts: VMRUN runs with GIF clear, RFLAGS.IF set and
 *   V_INTR_MASKING set (15.21.1), so a physical interrupt exits the guest
 *   whatever the guest's own IF. After #VMEXIT (GIF still clear) the host
 *   turns IF off before STGI; svm_exit_intr() (amdv/exits.c) then takes the interrupts
 *   through trap_irq_window(). CR8 writes go to V_TPR, not the host TPR.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/assert.h>

#include <kern/env.h>
#include <kern/cpu.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/fastpath.h>
#include <vmm/events.h>
#include <vmm/amdv/amdv.h>

/* asm_svm_vmrun's register offsets must match struct PushRegs. */
static_assert(offsetof(struct Trapframe, tf_regs.reg_r15) == 0);
static_assert(offsetof(struct Trapframe, tf_regs.reg_rdi) == 72);
static_assert(offsetof(struct Trapframe, tf_regs.reg_rax) == 112);

/*
 * After an emulated instruction (vmexit_skip_instruction): the interrupt
 * shadow it may have been in is over, and with RFLAGS.TF set the guest
 * gets the single-step #DB the instruction owed it (DR6.BS).
 */
static inline void svm_end_shadow(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	struct vmcb *v = vmcb_of(vc);

	v->control.int_state &= ~INT_STATE_SHADOW;
	if ((e->env_tf.tf_eflags & FL_TF) && vc->inject.type == VMM_EVENT_NONE) {
		v->save.dr6 |= DR6_BS;
		vmexit_inject_exception(e, T_DEBUG, -1);
	}
}

/* vmm_ops.skipped: the same, for the slow path's handlers. */
void svm_skipped(struct Env *e)
{
	svm_end_shadow(e);
}

/* The highest priority, so that V_TPR never holds the VINTR back. */
#define V_INTR_PRIO_MAX (0xFUL << V_INTR_PRIO_SHIFT)

/* Arm or disarm a virtual interrupt that exits as soon as the guest can
 * take it (15.21.4: V_IRQ with the VINTR intercept). */
void svm_set_vintr(struct Vcpu *vc, struct vmcb_control *c, bool on)
{
	if (vc->svm.vintr == on)
		return;
	vc->svm.vintr = on;
	if (on) {
		c->int_ctl |= V_IRQ | V_IGN_TPR | V_INTR_PRIO_MAX;
		c->intercept_misc1 |= INTERCEPT1_VINTR;
	} else {
		c->int_ctl &= ~(V_IRQ | V_IGN_TPR | V_INTR_PRIO_MAX);
		c->intercept_misc1 &= ~INTERCEPT1_VINTR;
	}
}

/* Event kinds (vmm/vcpu.h) as EVENTINJ's type encodes them (15.20).
 * AMD-V has no software-exception type: INT3/INTO go in as exceptions. */
static const uint32_t svm_event_type[] = {
	[VMM_EVENT_EXTINT] = EVENT_TYPE_INTR,
	[VMM_EVENT_NMI] = EVENT_TYPE_NMI,
	[VMM_EVENT_EXCEPTION] = EVENT_TYPE_EXCEPTION,
	[VMM_EVENT_SOFT_INT] = EVENT_TYPE_SOFT_INT,
	[VMM_EVENT_PRIV_SOFT_EXC] = EVENT_TYPE_EXCEPTION,
	[VMM_EVENT_SOFT_EXC] = EVENT_TYPE_EXCEPTION,
};

/*
 * EXITINTINFO (15.7.2) into the vendor-neutral event the next entry
 * delivers again (vmm/events.h). Interrupts, NMIs and hardware
 * exceptions, yes. INTn, INT3 and INTO are not: RIP still points at the
 * instruction, which executes again, and injecting it would deliver it
 * twice.
 */
static void __attribute__((noinline))
svm_decode_redeliver(struct Vcpu *vc, uint64_t ei)
{
	struct vmm_event *ev = &vc->exit.redeliver;
	uint32_t type = EVENT_TYPE(ei), vec = EVENT_VECTOR(ei);

	ev->type = VMM_EVENT_NONE;
	if (!(ei & EVENT_VALID) || type == EVENT_TYPE_SOFT_INT)
		return;
	if (type == EVENT_TYPE_EXCEPTION && (vec == T_BRKPT || vec == T_OFLOW))
		return;
	if (type == EVENT_TYPE_INTR)
		ev->type = VMM_EVENT_EXTINT;
	else if (type == EVENT_TYPE_NMI)
		ev->type = VMM_EVENT_NMI;
	else if (type == EVENT_TYPE_EXCEPTION)
		ev->type = VMM_EVENT_EXCEPTION;
	ev->vector = vec;
	ev->has_error = ei & EVENT_ERROR_VALID;
	ev->error = (uint32_t)(ei >> EVENT_ERROR_SHIFT);
}

/* Is the guest in an STI or MOV-SS shadow? For vmm_events_next. */
static bool svm_shadowed(struct Env *e)
{
	return vmcb_of(e->env_vcpu)->control.int_state & INT_STATE_SHADOW;
}

/*
 * Event injection before VMRUN (15.20): the core decides
 * (vmm_events_next); here it becomes EVENTINJ, with its error code, and
 * a virtual interrupt request (svm_set_vintr) that brings the guest back
 * as soon as it can take an interrupt.
 */
static void __attribute__((noinline))
svm_inject_events(struct Env *e, struct vmcb_control *c)
{
	struct vmm_entry_events n;
	const struct vmm_event *ev = &n.ev;

	vmm_events_next(e, svm_shadowed, &n);
	c->eventinj = 0;
	if (ev->type != VMM_EVENT_NONE) {
		c->eventinj = ev->vector |
			      svm_event_type[ev->type] << EVENT_TYPE_SHIFT |
			      EVENT_VALID;
		if (ev->has_error)
			c->eventinj |= EVENT_ERROR_VALID |
				       (uint64_t)ev->error << EVENT_ERROR_SHIFT;
	}
	svm_set_vintr(e->env_vcpu, c, n.window);
}

/*
 * Copy what #VMEXIT left in the VMCB into vc->exit and env_tf (15.6):
 * what every exit needs. EXITINFO1/2 wait for svm_handle_exit (the slow
 * path); the fast path reads them for a nested page fault only
 * (svm_fast_npf).
 *
 * CPUID and VMMCALL exits (the fast path's) read less still: an
 * intercepted instruction never interrupts an event's delivery, so
 * EXITINTINFO is not valid for them (15.7.2), and their handlers never
 * read RSP, so it stays in the VMCB (vc->rsp_stale) until vmm_rsp_fetch,
 * before guest_run returns.
 */
static inline void svm_read_exit(struct Env *e, struct vmcb *v)
{
	struct Vcpu *vc = e->env_vcpu;
	uint32_t code = (uint32_t)v->control.exitcode;

	vc->exit.reason = code;
	vc->exit.inst_len = 0;
	e->env_tf.tf_rip = v->save.rip;
	e->env_tf.tf_eflags = v->save.rflags;
	e->env_tf.tf_regs.reg_rax = v->save.rax;
	if (code == SVM_EXIT_CPUID || code == SVM_EXIT_VMMCALL) {
		vc->exit.redeliver.type = VMM_EVENT_NONE;
		vc->rsp_stale = true;
		return;
	}
	svm_decode_redeliver(vc, v->control.exitintinfo);
	e->env_tf.tf_rsp = v->save.rsp;
	vc->rsp_stale = false;
}

/* The guest's RSP from the VMCB, for vmm_rsp_fetch. */
static uint64_t svm_read_rsp(struct Env *e)
{
	return vmcb_of(e->env_vcpu)->save.rsp;
}

/* This CPU is about to run e: flush e's ASID here if e ran elsewhere (or
 * anything else ran here) since. Returns the CPU. */
static int svm_arrive(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	int cpu = cpunum();

	if (vc->svm.cpu != cpu) {
		vmcb_of(vc)->control.tlb_control = svm.flush_by_asid
							  ? TLB_CONTROL_FLUSH_ASID
							  : TLB_CONTROL_FLUSH_ALL;
		vmm_count_arrival(vc, cpu);
		vc->svm.cpu = cpu;
	}
	return cpu;
}

/* A VMRUN that failed (asm_svm_leave done): say why. */
static void svm_report_invalid(struct Env *e)
{
	vmm_guest_stop(e, "VMRUN failed: VMEXIT_INVALID (the VMCB's guest "
		       "state is inconsistent, APM 15.5.1)");
}

/*
 * The VMRUN after a fast exit, and the #VMEXIT after it: what a fast
 * exit can have changed goes into the VMCB. The handler moved RIP and
 * wrote general registers only (RAX among them): RSP and RFLAGS in the
 * VMCB are still the guest's (svm_vmrun_once writes those, then comes
 * here), and TLB_CONTROL is already TLB_CONTROL_NOTHING (svm_vmrun_once
 * cleared it after the first VMRUN). Returns -1 if VMRUN found the guest
 * state invalid (VMEXIT_INVALID, 15.5.1).
 */
static inline __attribute__((always_inline)) int
svm_fast_vmrun(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	struct vmcb *v = vmcb_of(vc);

	v->save.rip = e->env_tf.tf_rip;
	v->save.rax = e->env_tf.tf_regs.reg_rax;
	if (vmm_events_waiting(vc, vc->svm.vintr))
		svm_inject_events(e, &v->control);
	else
		v->control.eventinj = 0;

	asm_svm_vmrun(&e->env_tf, vc->svm.vmcb_pa);

	vc->nexits++;
	svm_read_exit(e, v);
	return vc->exit.reason == SVM_EXIT_INVALID ? -1 : 0;
}

/*
 * One VMRUN, between asm_svm_enter and asm_svm_leave (GIF clear, the
 * guest's hidden state loaded); then the exit's information into vc->exit
 * and env_tf. -1 if VMRUN found the guest state invalid (reported by the
 * caller, once the host's state is back).
 */
static int svm_vmrun_once(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	struct vmcb *v = vmcb_of(vc);
	int r;

	v->save.rsp = e->env_tf.tf_rsp;
	v->save.rflags = e->env_tf.tf_eflags;
	r = svm_fast_vmrun(e);
	/* The flush asked for on arrival is done: not again. */
	v->control.tlb_control = TLB_CONTROL_NOTHING;
	return r;
}

/*
 * A nested page fault as the fast path sees it: a data read (EXITINFO1
 * is a page-fault error code, 15.25.6) may be an MMIO read it answers,
 * EXITINFO2 its guest-physical address (into exit.info2). The handler
 * sets the instruction's length: the decoder knows it.
 */
static enum vmm_fast_kind svm_fast_npf(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	struct vmcb *v = vmcb_of(vc);

	if (v->control.exitinfo1 & (NPF_WRITE | NPF_FETCH))
		return VMM_FAST_NONE;
	vc->exit.info2 = v->control.exitinfo2;
	return VMM_FAST_MMIO;
}

/*
 * The exit as the fast path sees it: CPUID, VMMCALL and PAUSE may be
 * its, and a nested page fault (svm_fast_npf), unless the exit
 * interrupted an event's delivery (never so for these intercepted
 * instructions, 15.7.2). Sets the instruction's length: from NRIP save
 * where the CPU has it (15.7.1), else known.
 */
static enum vmm_fast_kind svm_fast_kind(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	enum vmm_fast_kind k;
	uint32_t len;

	if (vc->exit.redeliver.type != VMM_EVENT_NONE)
		return VMM_FAST_NONE;
	switch (vc->exit.reason) {
	case SVM_EXIT_CPUID:
		k = VMM_FAST_CPUID;
		len = INSN_LEN_CPUID;
		break;
	case SVM_EXIT_VMMCALL:
		k = VMM_FAST_HYPERCALL;
		len = INSN_LEN_VMMCALL;
		break;
	case SVM_EXIT_PAUSE:
		k = VMM_FAST_PAUSE;
		len = INSN_LEN_PAUSE;
		break;
	case SVM_EXIT_NPF:
		return svm_fast_npf(e);
	default:
		return VMM_FAST_NONE;
	}
	if (svm.nrips)
		len = vmcb_of(vc)->control.next_rip - e->env_tf.tf_rip;
	vc->exit.inst_len = len;
	return k;
}

/*
 * vmm_ops.guest_run: the VMRUN, then the fast path's exits
 * (vmm_fast_run). The guest stays on this CPU throughout, its TLB
 * entries with it, and so does its hidden state (asm_svm_enter to
 * asm_svm_leave, GIF clear: see amdv/entry.S for why the fast path may
 * run so).
 */
int svm_guest_run(struct Env *e, uint64_t *tsc_exit)
{
	struct Vcpu *vc = e->env_vcpu;
	physaddr_t host = svm_cpu[svm_arrive(e)].host_vmcb_pa;
	int r;

	asm_svm_enter(vc->svm.vmcb_pa, host);
	r = svm_vmrun_once(e);
	r = vmm_fast_run(e, r, svm_fast_kind, svm_end_shadow, svm_fast_vmrun);
	/* The slow path's exit is timed from here (vmm_exit_account). */
	*tsc_exit = read_tsc();
	vmm_rsp_fetch(e, svm_read_rsp);
	asm_svm_leave(vc->svm.vmcb_pa, host);
	if (r < 0)
		svm_report_invalid(e);
	return r;
}

