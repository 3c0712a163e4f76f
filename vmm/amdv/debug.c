/*
 * AMD-V, debugging: what the gdb stub (vmm/gdbstub.c) and the monitor
 * see of a guest's VMCB, the intercepts for breakpoints and single
 * steps, and the exits they cause. Section numbers: AMD64 APM Vol. 2.
 *
 * Invariant: the INTn intercept is on exactly while breakpoints are
 * armed (svm_dbg_intercepts).
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>

#include <kern/env.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/gdbstub.h>
#include <vmm/gva.h>
#include <vmm/amdv/amdv.h>

/* The VMCB is memory: readable whatever CPU last ran the guest. */
int svm_dbg_read(struct Env *e, struct guest_dbgstate *s)
{
	struct vmcb_save *v;

	if (!e->env_vcpu->svm.vmcb)
		return -E_INVAL;
	v = &vmcb_of(e->env_vcpu)->save;
	s->cs = v->cs.selector;
	s->ss = v->ss.selector;
	s->ds = v->ds.selector;
	s->es = v->es.selector;
	s->fs = v->fs.selector;
	s->gs = v->gs.selector;
	s->fs_base = v->fs.base;
	s->gs_base = v->gs.base;
	s->cr0 = v->cr0;
	s->cr2 = v->cr2;
	s->cr3 = v->cr3;
	s->cr4 = v->cr4;
	/* SVME is ours (the EFER intercept hides it). */
	s->efer = v->efer & ~(uint64_t)EFER_SVME;
	s->cs_base = v->cs.base;
	s->cs_l = v->cs.attrib & SEG_ATTR_L;
	s->cs_db = v->cs.attrib & SEG_ATTR_DB;
	return 0;
}

/* Intercept vector 3 bit 21: INTn (15.9, Table B-1). QEMU's TCG checks
 * this intercept, not the #BP exception intercept, for INT3. */
#define INTERCEPT1_INTN (1U << 21)
#define OPCODE_INT3 0xCC
#define OPCODE_INTN 0xCD
#define INSN_LEN_INTN 2

/* Exception intercepts (15.12): #BP for breakpoints, #DB for a step by
 * RFLAGS.TF; INTn too while breakpoints are armed (see above). */
int svm_dbg_intercepts(struct Env *e, bool bp, bool step)
{
	struct vmcb_control *c = &vmcb_of(e->env_vcpu)->control;

	c->intercept_exceptions =
		(bp ? 1U << T_BRKPT : 0) | (step ? 1U << T_DEBUG : 0);
	if (bp)
		c->intercept_misc1 |= INTERCEPT1_INTN;
	else
		c->intercept_misc1 &= ~INTERCEPT1_INTN;
	return 0;
}

/*
 * An intercepted INTn: an INT3 is a breakpoint; an INT n (the guest's
 * system calls) is delivered by the redelivery path (vmm/events.h),
 * with RIP past it. It goes in as an interrupt: EVENTINJ refuses an
 * exception type above vector 31 (15.20), and an injected event is taken
 * whatever RFLAGS.IF says. Unlike a real INT n the gate's DPL is not
 * checked: only while a debugger has breakpoints armed.
 */
enum vmexit_action svm_exit_intn(struct Env *e)
{
	struct guest_dbgstate s;
	uint8_t insn[INSN_LEN_INTN];

	if (svm_dbg_read(e, &s) < 0 ||
	    guest_gva_copy(e, &s, e->env_tf.tf_rip, insn, sizeof(insn),
			   false) != sizeof(insn))
		return vmexit_unhandled(e, "software interrupt");
	if (insn[0] == OPCODE_INT3)
		return gdbstub_trap(e, GDB_TRAP_BREAKPOINT);
	if (insn[0] != OPCODE_INTN)
		return vmexit_unhandled(e, "software interrupt");
	e->env_tf.tf_rip += INSN_LEN_INTN;
	e->env_vcpu->exit.redeliver = (struct vmm_event){
		.type = VMM_EVENT_EXTINT,
		.vector = insn[1],
	};
	return VMEXIT_RESUME;
}

enum vmexit_action svm_exit_bp(struct Env *e)
{
	return gdbstub_trap(e, GDB_TRAP_BREAKPOINT);
}

enum vmexit_action svm_exit_db(struct Env *e)
{
	return gdbstub_trap(e, GDB_TRAP_STEP);
}
