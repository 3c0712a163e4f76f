/*
 * Events for the guest, vendor-neutral: what the next VM entry delivers
 * and in what order, decided once here for both backends, which only
 * encode the answer (VT-x: the VM-entry interruption fields and
 * interrupt-window exiting, vmm/vtx/run.c; AMD-V: EVENTINJ and a V_IRQ
 * with the VINTR intercept, vmm/amdv/run.c).
 *
 * Priority at each entry (vmm_events_next):
 *  1. an event whose delivery the last exit interrupted (the backend
 *     decoded it into vc->exit.redeliver, leaving out what the CPU
 *     delivers again by itself);
 *  2. an exception an exit handler asked for (vc->inject,
 *     vmexit_inject_exception);
 *  3. the external interrupt source's next vector, when the guest can
 *     take an interrupt (RFLAGS.IF set, no STI/MOV-SS shadow); when it
 *     cannot, or 1 or 2 took this entry, an interrupt window: the guest
 *     exits as soon as it can take one, and the next entry delivers it.
 *
 * Invariants:
 * - An event is delivered at most once: taking it out of vc->exit.redeliver
 *   or vc->inject, or acknowledging it to the source, happens in the same
 *   call that hands it to the backend for this entry.
 * - Everything here runs on the CPU about to enter the guest, with or
 *   without the big kernel lock (the fast path): it touches only this
 *   vCPU's fields, which no other CPU writes while it runs.
 */
#ifndef JOS_VMM_EVENTS_H
#define JOS_VMM_EVENTS_H

#include <inc/types.h>
#include <inc/mmu.h>
#include <inc/vmx.h>
#include <kern/env.h>
#include <inc/vmmctl.h>
#include <vmm/vcpu.h>
#include <vmm/vm.h>

/* ---- The external interrupt source ------------------------------------------- */
/*
 * The one place the core asks for external interrupts. A JOS guest's
 * source is the virtual timer alone: each host timer tick that finds the
 * guest running raises GUEST_TIMER_VECTOR (inc/vmx.h), at most one
 * waiting. A PC-kind VM's source is its VMM program (vmm/devexit.c),
 * whose device models ask for one vector at a time (vc->pc.intr_vec,
 * taken at sys_vcpu_run); the host tick is not its timer. Either way
 * vc->timer_pending says a vector waits. A virtual interrupt controller
 * in the kernel would plug in here: raise from its devices, pending =
 * its highest vector the guest may take now, ack = the guest took it.
 */

/* Is vc's interrupt source its VMM program's device models? (The kind
 * is set once before the first entry: read without the lock.) */
static inline bool vmm_extint_from_vmm(const struct Vcpu *vc)
{
	return vc->vm->pc.kind != VMM_KIND_JOS;
}

/* A host timer tick found the guest running. */
static inline void vmm_extint_raise_timer(struct Vcpu *vc)
{
	if (!vmm_extint_from_vmm(vc))
		vc->timer_pending = true;
}

/* The vector the source would deliver next, or -1 for none. */
static inline int vmm_extint_pending(const struct Vcpu *vc)
{
	if (!vc->timer_pending)
		return -1;
	return vmm_extint_from_vmm(vc) ? vc->pc.intr_vec : GUEST_TIMER_VECTOR;
}

/* The next entry delivers `vector` (vmm_extint_pending's answer); a PC
 * VM's next hand-off reports it delivered (devexit hook). */
static inline void vmm_extint_ack(struct Vcpu *vc, int vector)
{
	vc->timer_pending = false;
	vc->ntimer++;
	if (vmm_extint_from_vmm(vc))
		vc->pc.delivered = vector;
}

/* ---- What the next entry delivers --------------------------------------------- */

/* What vmm_events_next decided for one entry. */
struct vmm_entry_events {
	struct vmm_event ev;  /* to deliver (type VMM_EVENT_NONE: nothing) */
	bool window;          /* exit as soon as the guest can take an
				 interrupt (an interrupt waits) */
};

/*
 * Has vmm_events_next anything to decide? Not when nothing waits (to
 * deliver again, asked for by a handler, from the source) and the
 * backend has no interrupt window armed (window_armed): then it would
 * only clear what the last entry injected. Lets the fast path skip it.
 */
static inline bool vmm_events_waiting(const struct Vcpu *vc, bool window_armed)
{
	return vc->exit.redeliver.type != VMM_EVENT_NONE ||
	       vc->inject.type != VMM_EVENT_NONE || vmm_extint_pending(vc) >= 0 ||
	       window_armed;
}

/*
 * Decide the events of the next entry of e into *out, by the priority
 * above. shadowed(e) says whether the guest is in an STI or MOV-SS
 * shadow; it is asked only when an interrupt could go in (a VMREAD on
 * VT-x), and inlines (the backends pass a static function).
 */
static inline __attribute__((always_inline)) void
vmm_events_next(struct Env *e, bool (*shadowed)(struct Env *),
		struct vmm_entry_events *out)
{
	struct Vcpu *vc = e->env_vcpu;
	int vector;

	out->ev = vc->exit.redeliver;
	vc->exit.redeliver.type = VMM_EVENT_NONE;
	if (out->ev.type == VMM_EVENT_NONE && vc->inject.type != VMM_EVENT_NONE) {
		out->ev = vc->inject;
		vc->inject.type = VMM_EVENT_NONE;
	}
	vector = vmm_extint_pending(vc);
	out->window = vector >= 0;
	if (out->ev.type != VMM_EVENT_NONE || vector < 0)
		return;
	if ((e->env_tf.tf_eflags & FL_IF) && !shadowed(e)) {
		out->ev = (struct vmm_event){ .type = VMM_EVENT_EXTINT,
					      .vector = vector };
		vmm_extint_ack(vc, vector);
		out->window = false;
	}
}

#endif /* !JOS_VMM_EVENTS_H */
