/*
 * The VMX-preemption timer, on for entries with the guest's IF clear: it
 * bounds how long such a guest runs before the host takes its own
 * interrupts (vmm/vtx/preempt.c says why: a Bochs 2.7 bug). VT-x only,
 * host kernel only.
 */
#ifndef JOS_VMM_VTX_PREEMPT_H
#define JOS_VMM_VTX_PREEMPT_H

#include <inc/types.h>
#include <vmm/vmm.h>

struct Env;
struct Vcpu;

/* Detection, once the pin-based controls were fitted (vmm_irq_slice_tsc
 * set): note whether the CPU has the timer, and the controls with it. */
void vmx_preempt_fit(bool true_ctls, uint32_t pin);
/* Setting up vc's VMCS (current): the timer value, the timer off. */
void vmx_preempt_init_vmcs(struct Vcpu *vc);
/* Before an entry of vc (its VMCS current) with these RFLAGS: the timer
 * on when IF is clear, off otherwise. */
void vmx_preempt_before_entry(struct Vcpu *vc, uint64_t rflags);
/* The exit handler for "VMX-preemption timer expired". */
enum vmexit_action vmx_exit_preempt(struct Env *e);

#endif /* !JOS_VMM_VTX_PREEMPT_H */
