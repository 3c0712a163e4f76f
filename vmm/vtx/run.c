/*
 * Intel VT-x, run: one VM entry and the exit after it (registers in and
 * out of the VMCS, the core's events encoded for the entry), and the
 * fast path (vmm/fastpath.h) as one unit, so that a fast exit compiles
 * into one function. Section numbers: Intel SDM Vol. 3C.
 *
 * Invariants:
 * - vc->vmx.launched is true iff VMLAUNCH succeeded since the last VMCLEAR
 *   (26.1: VMLAUNCH needs a clear VMCS, VMRESUME a launched one).
 * - The guest's RIP, RSP and RFLAGS are copied from the VMCS into env_tf
 *   after each exit and back before each entry (RSP and RFLAGS only when
 *   they changed: vc->vmx.rsp and .rflags are the VMCS's copies while
 *   launched); asm_vmrun swaps the other general registers. After a
 *   CPUID or VMCALL exit RSP is left in the VMCS (vc->rsp_stale) until
 *   guest_run returns; entries on the fast path write RIP only.
 * - vc->exit.reason is the basic exit reason (bits 15:0); a failed entry
 *   (bit 31) never reaches a handler.
 * - The guest's CR2 is in the CPU from the first entry of a guest_run to
 *   its return (the fast path takes no host page fault); vc->vmx.cr2
 *   holds it otherwise.
 * - vc->exit.qual and vc->vmx.exit_intr_info are read only on the slow path
 *   (vmx_handle_exit, failed entries); the fast path reads the exit
 *   qualification and guest-physical address of an EPT violation only
 *   (vmx_fast_ept), into locals and exit.info2.
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
#include <vmm/vtx/vtx.h>
#include <vmm/vtx/insn.h>
#include <vmm/vtx/preempt.h>

/* asm_vmrun's register offsets must match struct PushRegs. */
static_assert(offsetof(struct Trapframe, tf_regs.reg_r15) == 0);
static_assert(offsetof(struct Trapframe, tf_regs.reg_rdi) == 72);
static_assert(offsetof(struct Trapframe, tf_regs.reg_rax) == 112);

/*
 * After an emulated instruction (vmexit_skip_instruction): it ended any
 * STI or MOV-SS blocking, and with RFLAGS.TF set the guest owes itself a
 * single-step trap, which the entry delivers as a pending debug
 * exception (25.4.2; the entry checks of 26.3.1.5 require BS then).
 */
static inline void vmx_end_shadow(struct Env *e)
{
	uint64_t intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);

	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   intr & ~(INTERRUPTIBILITY_STI |
				    INTERRUPTIBILITY_MOV_SS));
	if (e->env_tf.tf_eflags & FL_TF)
		vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
}

/* vmm_ops.skipped: the same, for the slow path's handlers. */
void vmx_skipped(struct Env *e)
{
	vmx_end_shadow(e);
}

/* Event kinds (vmm/vcpu.h) as the interruption-type field encodes them
 * (Table 24-15, 25.8.3). */
static const uint32_t vmx_event_type[] = {
	[VMM_EVENT_EXTINT] = INTR_TYPE_EXT_INTR,
	[VMM_EVENT_NMI] = INTR_TYPE_NMI,
	[VMM_EVENT_EXCEPTION] = INTR_TYPE_HW_EXC,
	[VMM_EVENT_SOFT_INT] = INTR_TYPE_SOFT_INTR,
	[VMM_EVENT_PRIV_SOFT_EXC] = INTR_TYPE_PRIV_SOFT_EXC,
	[VMM_EVENT_SOFT_EXC] = INTR_TYPE_SOFT_EXC,
};

/* IDT-vectoring information (27.2.4) into the vendor-neutral event the
 * next entry delivers again (vmm/events.h), with its error code and, for
 * software events, the instruction's length. */
static void __attribute__((noinline))
vmx_decode_redeliver(struct Vcpu *vc, uint32_t info)
{
	struct vmm_event *ev = &vc->exit.redeliver;
	uint32_t type = INTR_INFO_TYPE(info);
	size_t k;

	ev->type = VMM_EVENT_NONE;
	if (!(info & INTR_INFO_VALID))
		return;
	for (k = VMM_EVENT_EXTINT; k < ARRAY_SIZE(vmx_event_type); k++)
		if (vmx_event_type[k] == type)
			ev->type = k;
	ev->vector = INTR_INFO_VECTOR(info);
	ev->has_error = info & INTR_INFO_ERROR_VALID;
	if (ev->has_error)
		ev->error = vmcs_read(IDT_VECTORING_ERROR_CODE);
	ev->insn_len = vc->exit.inst_len;
}

/*
 * Copy what the exit left in the VMCS into vc->exit and env_tf (27.2):
 * what every exit needs. The rest, which only some handlers read, waits
 * for vmx_read_exit_details: a VMREAD is not free, and the fast path
 * (CPUID, hypercalls) never needs it. Returns the full exit reason
 * (bit 31: the entry failed, 27.8).
 *
 * CPUID and VMCALL exits (the fast path's) read less still. Their
 * IDT-vectoring information is never valid: they are instruction exits,
 * not exits during an event's delivery through the IDT (27.2.4). Their
 * handlers never read RSP, so it stays in the VMCS and vc->rsp_stale
 * says so; vmm_rsp_fetch brings it into env_tf before anything else
 * (the slow path, the gdb stub, the monitor) can look.
 */
static inline __attribute__((always_inline)) uint32_t
vmx_read_exit(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	uint32_t full = vmcs_read(VM_EXIT_REASON);
	uint32_t basic = EXIT_REASON_BASIC(full);

	vc->exit.reason = basic;
	vc->exit.inst_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	e->env_tf.tf_rip = vmcs_read(GUEST_RIP);
	e->env_tf.tf_eflags = vc->vmx.rflags = vmcs_read(GUEST_RFLAGS);
	if (basic == EXIT_REASON_CPUID || basic == EXIT_REASON_VMCALL) {
		vc->exit.redeliver.type = VMM_EVENT_NONE;
		vc->rsp_stale = true;
		return full;
	}
	vmx_decode_redeliver(vc, vmcs_read(IDT_VECTORING_INFO_FIELD));
	e->env_tf.tf_rsp = vc->vmx.rsp = vmcs_read(GUEST_RSP);
	vc->rsp_stale = false;
	return full;
}

/* The guest's RSP from the VMCS, for vmm_rsp_fetch. */
static uint64_t vmx_read_rsp(struct Env *e)
{
	return e->env_vcpu->vmx.rsp = vmcs_read(GUEST_RSP);
}

/* The exit qualification and interruption information (27.2.1, 27.2.2),
 * for the handlers and reports that read them (the slow path). */
void vmx_read_exit_details(struct Vcpu *vc)
{
	vc->exit.qual = vmcs_read(EXIT_QUALIFICATION);
	vc->vmx.exit_intr_info = vmcs_read(VM_EXIT_INTR_INFO);
}

/*
 * Before an entry: RIP, RSP and RFLAGS from env_tf into the VMCS. RSP
 * and RFLAGS only when a handler changed them (or the VMCS was cleared
 * since: then everything), RIP always (most handlers move it).
 */
static void vmx_write_guest_regs(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	bool all = !vc->vmx.launched;

	vmcs_write(GUEST_RIP, e->env_tf.tf_rip);
	if (all || e->env_tf.tf_rsp != vc->vmx.rsp)
		vmcs_write(GUEST_RSP, e->env_tf.tf_rsp);
	if (all || e->env_tf.tf_eflags != vc->vmx.rflags)
		vmcs_write(GUEST_RFLAGS, e->env_tf.tf_eflags);
}

/* Turn interrupt-window exiting on or off; a VMWRITE only on a change
 * (this runs before every entry). */
static void vmx_set_intr_window(struct Vcpu *vc, bool on)
{
	if (vc->vmx.intr_window == on)
		return;
	vc->vmx.intr_window = on;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL,
		   on ? vmx.cpu | CPU_INTR_WINDOW_EXITING : vmx.cpu);
}

/* Is the guest in an STI or MOV-SS shadow (25.4.2)? For vmm_events_next. */
static bool vmx_shadowed(struct Env *e)
{
	return vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
	       (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
}

/*
 * Event injection before an entry (26.6): the core decides
 * (vmm_events_next); here it becomes the VM-entry interruption fields
 * (25.8.3: with the error code and, for software events, the
 * instruction length) and interrupt-window exiting (25.6.2), which
 * brings the guest back as soon as it can take an interrupt. The valid
 * bit of the interruption field is cleared by every VM exit (27.2.5), so
 * nothing injected stays armed.
 */
static void __attribute__((noinline)) vmx_inject_events(struct Env *e)
{
	struct vmm_entry_events n;
	const struct vmm_event *ev = &n.ev;

	vmm_events_next(e, vmx_shadowed, &n);
	if (ev->type != VMM_EVENT_NONE) {
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD,
			   ev->vector |
				   vmx_event_type[ev->type] << INTR_INFO_TYPE_SHIFT |
				   (ev->has_error ? INTR_INFO_ERROR_VALID : 0) |
				   INTR_INFO_VALID);
		if (ev->has_error)
			vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, ev->error);
		if (ev->type >= VMM_EVENT_SOFT_INT)
			vmcs_write(VM_ENTRY_INSTRUCTION_LEN, ev->insn_len);
	}
	vmx_set_intr_window(e->env_vcpu, n.window);
}

static int vmx_entry_failed(struct Env *e, int r, uint32_t reason);

/*
 * The entry itself, on the CPU where e's VMCS is current; then the exit's
 * information into vc->exit and env_tf.
 */
static int vmx_enter_here(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	uint32_t reason;
	int r;

	vmx_write_guest_regs(e);
	vmx_inject_events(e);
	vmx_preempt_before_entry(vc, e->env_tf.tf_eflags);

	write_cr2(vc->vmx.cr2);
	r = asm_vmrun(&e->env_tf, vc->vmx.launched);
	vc->vmx.cr2 = rcr2();
	if (r != VMRUN_EXITED)
		return vmx_entry_failed(e, r, 0);
	vc->vmx.launched = true;
	vc->nexits++;
	reason = vmx_read_exit(e);
	if (reason & EXIT_REASON_ENTRY_FAIL)
		return vmx_entry_failed(e, VMRUN_EXITED, reason);
	return 0;
}

/*
 * One VM entry and the exit after it. < 0 (with a report) if the entry
 * failed; the guest then cannot continue.
 */
static int vmx_guest_enter(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;

	if (vc->vmx.vmcs_cpu != cpunum()) {
		if (vc->vmx.vmcs_cpu >= 0) {
			vmm_guest_stop(e, "VMCS still active on CPU %d",
				       vc->vmx.vmcs_cpu);
			return -1;
		}
		if (vmcs_load(e) < 0)
			return -1;
	}
	return vmx_enter_here(e);
}

/* Exit qualification of an EPT violation, bit 12: the fault came from an
 * IRET that unblocked NMIs (SDM Vol. 3C Table 28-7). */
#define EPTQ_NMI_UNBLOCKING (1UL << 12)

/*
 * An EPT violation as the fast path sees it: a data read that
 * interrupted no event's delivery (nothing to redeliver) and no IRET may
 * be an MMIO read it answers, its guest-physical address (27.2.1) into
 * exit.info2. The handler sets the instruction's length (the exit's is
 * undefined for an EPT violation, 27.2.5).
 */
static enum vmm_fast_kind vmx_fast_ept(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	uint64_t q;

	if (vc->exit.redeliver.type != VMM_EVENT_NONE)
		return VMM_FAST_NONE;
	q = vmcs_read(EXIT_QUALIFICATION);
	if (!(q & EPTQ_READ) ||
	    (q & (EPTQ_WRITE | EPTQ_FETCH | EPTQ_NMI_UNBLOCKING)))
		return VMM_FAST_NONE;
	vc->exit.info2 = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	return VMM_FAST_MMIO;
}

/* The exit as the fast path sees it: CPUID and VMCALL may be its (they
 * never interrupt an event's delivery, 27.2.4: vmx_read_exit leaves
 * nothing to redeliver for them; the CPU reported their length), and an
 * EPT violation (vmx_fast_ept). */
static enum vmm_fast_kind vmx_fast_kind(struct Env *e)
{
	switch (e->env_vcpu->exit.reason) {
	case EXIT_REASON_CPUID:
		return VMM_FAST_CPUID;
	case EXIT_REASON_VMCALL:
		return VMM_FAST_HYPERCALL;
	case EXIT_REASON_EPT_VIOLATION:
		return vmx_fast_ept(e);
	default:
		return VMM_FAST_NONE;
	}
}

/*
 * The entry after a fast exit, and the exit after it: vmx_enter_here
 * less what a fast exit cannot have changed. The handler moved RIP and
 * wrote general registers only: RSP and RFLAGS in the VMCS are still the
 * guest's. Nothing is to be redelivered (vmx_fast_kind), so events need
 * a look only if one waits or interrupt-window exiting is on.
 * CR2 still holds the guest's value, loaded by vmx_enter_here before the
 * first entry of this guest_run: the host takes no page fault on the
 * fast path (it touches kernel memory only, with interrupts off), so
 * neither the write before the entry nor the read after the exit is
 * needed; vmx_guest_run saves CR2 once, when it leaves the fast path.
 */
static inline int vmx_fast_enter(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	uint32_t reason;
	int r;

	vmcs_write(GUEST_RIP, e->env_tf.tf_rip);
	if (vmm_events_waiting(vc, vc->vmx.intr_window))
		vmx_inject_events(e);
	r = asm_vmrun(&e->env_tf, true);
	if (r != VMRUN_EXITED)
		return vmx_entry_failed(e, r, 0);
	vc->nexits++;
	reason = vmx_read_exit(e);
	if (reason & EXIT_REASON_ENTRY_FAIL)
		return vmx_entry_failed(e, VMRUN_EXITED, reason);
	return 0;
}

/*
 * vmm_ops.guest_run: the entry, then the fast path's exits
 * (vmm_fast_run); the VMCS stays current on this CPU throughout. On the
 * way out, what the fast path left in the CPU and the VMCS (CR2, RSP)
 * goes where the slow path looks for it.
 */
int vmx_guest_run(struct Env *e, uint64_t *tsc_exit)
{
	struct Vcpu *vc = e->env_vcpu;
	int r = vmx_guest_enter(e);

	r = vmm_fast_run(e, r, vmx_fast_kind, vmx_end_shadow, vmx_fast_enter);
	/* The slow path's exit is timed from here (vmm_exit_account). */
	*tsc_exit = read_tsc();
	vc->vmx.cr2 = rcr2();
	if (r >= 0)
		vmm_rsp_fetch(e, vmx_read_rsp);
	return r;
}

/*
 * A VM entry that failed (r: asm_vmrun's result; VMRUN_EXITED for an exit
 * that reports a failed entry, 27.8, with its full exit reason): stop
 * the guest with the reason. Returns -1.
 */
static int __attribute__((noinline))
vmx_entry_failed(struct Env *e, int r, uint32_t reason)
{
	struct Vcpu *vc = e->env_vcpu;
	uint64_t err;
	uint32_t basic = EXIT_REASON_BASIC(reason);

	if (r != VMRUN_FAIL_INVALID)
		vmm_rsp_fetch(e, vmx_read_rsp); /* the VMCS is current */
	if (r == VMRUN_FAIL_INVALID) {
		vmm_guest_stop(e, "VM entry failed: VMfailInvalid");
		return -1;
	}
	if (r == VMRUN_FAIL_VALID) {
		err = vmcs_read(VM_INSTRUCTION_ERROR);
		vmm_guest_stop(e, "VM entry failed: VMfailValid, error %lu (%s)",
			       err, vm_instruction_error_name(err));
		return -1;
	}
	vmx_read_exit_details(vc);
	vmm_guest_stop(e,
		       "VM entry failed: exit reason %u (%s), "
		       "qualification 0x%lx",
		       basic, vmx_exit_name(basic), vc->exit.qual);
	return -1;
}

