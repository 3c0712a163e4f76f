/*
 * The VMX-preemption timer (SDM Vol. 3C 25.5.1) bounds how long a guest
 * entered with interrupts off runs before the host takes the interrupts
 * that wait for it: a workaround for a Bochs 2.7 bug.
 *
 * The bug: Bochs 2.7 keeps a host's interrupts out of a guest entered
 * with RFLAGS.IF clear until the guest changes IF, although
 * external-interrupt exiting is on (the guest must exit whatever its IF,
 * 25.2). Bochs masks INTR in its event mask whenever IF goes to 0
 * outside a guest (our host's kernel entries), and recomputes that mask
 * only when IF changes (setEFlags -> handleInterruptMaskChange).
 * VMLAUNCH/VMRESUME load the guest's RFLAGS before they mark the CPU as
 * in the guest and never recompute the mask afterwards; from a host with
 * IF=0 into a guest with IF=0, IF does not change, so the mask stays as
 * the host left it: INTR masked. The host's timer and UART interrupts
 * then stay pending in its local APIC until the guest next runs CLI,
 * STI, POPF or IRET, or takes an event. Issue 19: `cli; for (;;) pause;`
 * (attack cli-pause) took a 1-CPU host's CPU for good, its UART
 * overflowing; cli-spin, a loop of CLI, did not (each CLI, in the guest,
 * recomputes the mask). A guest entered with IF=1 is not affected: the
 * entry's IF change unmasks INTR, and a CLI inside the guest keeps it so.
 * QEMU (AMD-V) and real hardware exit at the next host interrupt.
 *
 * The workaround, in two parts. Here: an entry with the guest's IF clear
 * turns the timer on, for a slice (VMM_IRQ_SLICE_US) of guest time. Its
 * exit is not an interrupt, so Bochs delivers it whatever the mask says;
 * the host then opens its interrupts for one instruction
 * (vmexit_host_irqs: the STI recomputes the mask) and services what
 * waited. In the run loop (vmm/vmm.c): a guest that exits often, each
 * exit handled without the host opening its interrupts, gets the same
 * treatment once a slice of host time has passed (the timer, restarted
 * at each entry, would not fire). Where the timer is not needed (guest
 * IF set, or hardware) it costs an exit per slice only to a guest that
 * runs a whole slice with IF clear and no exit.
 *
 * Invariants:
 * - preempt.value is 0 unless the CPU has the "activate VMX-preemption
 *   timer" pin-based control; then nothing here touches a VMCS.
 * - Otherwise every guest's VMCS holds preempt.value as the timer value
 *   from its set-up on (without "save VMX-preemption timer value" the
 *   CPU never writes it, so each entry starts a whole slice), and
 *   vc->vmx.preempt_on says whether its pin-based controls activate the
 *   timer: exactly for entries with the guest's RFLAGS.IF clear (the slow
 *   path decides before each entry; a fast-path exit never changes IF).
 */
#include <inc/x86.h>
#include <inc/stdio.h>

#include <kern/env.h>
#include <vmm/vtx/vmcs.h>
#include <vmm/vtx/insn.h>
#include <vmm/vcpu.h>
#include <vmm/vtx/preempt.h>
#include <vmm/vmexits.h>

/* The timer value is a 32-bit VMCS field. */
#define TIMER_VALUE_MAX 0xFFFFFFFFUL

static struct {
	uint32_t value;              /* a slice in timer units; 0: no timer */
	uint32_t pin_on, pin_off;    /* pin-based controls, timer on and off */
} preempt;

void vmx_preempt_fit(bool true_ctls, uint32_t pin)
{
	uint32_t may1 = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
					: MSR_IA32_VMX_PINBASED_CTLS) >> 32;
	/* The timer counts down once per 2^rate TSC cycles (A.6). */
	unsigned rate = rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_PREEMPT_RATE_MASK;
	uint64_t value = vmm_irq_slice_tsc >> rate;

	if (!(may1 & PIN_PREEMPT_TIMER)) {
		cprintf("vmx: no VMX-preemption timer: on an emulator that "
			"keeps host interrupts out of a guest with IF clear, "
			"such a guest may keep its CPU (vmm/vtx/preempt.c)\n");
		return;
	}
	preempt.pin_off = pin;
	preempt.pin_on = pin | PIN_PREEMPT_TIMER;
	preempt.value = value ? (value > TIMER_VALUE_MAX ? TIMER_VALUE_MAX : value) : 1;
}

void vmx_preempt_init_vmcs(struct Vcpu *vc)
{
	vc->vmx.preempt_on = false;
	if (preempt.value)
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE, preempt.value);
}

void vmx_preempt_before_entry(struct Vcpu *vc, uint64_t rflags)
{
	bool on = !(rflags & FL_IF);

	if (!preempt.value || vc->vmx.preempt_on == on)
		return;
	vc->vmx.preempt_on = on;
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL,
		   on ? preempt.pin_on : preempt.pin_off);
}

/* The slice ran out: take and service the host interrupts waiting. */
enum vmexit_action vmx_exit_preempt(struct Env *e)
{
	return vmexit_host_irqs(e);
}
