/*
 * Intel VT-x (VMX with EPT), the backend's own interface between its
 * files; nothing outside vmm/vtx/ includes it (the rest of the kernel
 * sees VT-x only as vmx_ops, vmm/vmm.h).
 *
 *   setup.c    detection, VMX operation per CPU, VMCS set-up and loading,
 *              a guest's VT-x lifecycle, vmx_ops
 *   run.c      entry and exit: registers, event encoding, the fast path
 *   exits.c    the exit-reason table and the VT-x-specific handlers
 *   debug.c    the gdb stub's and the monitor's view of a VMCS
 *   preempt.c  the VMX-preemption timer (a Bochs 2.7 workaround)
 *   entry.S    asm_vmrun (VMLAUNCH/VMRESUME)
 *
 * Invariants: those of setup.c (where a VMCS is current, what each
 * VMPTRLD rewrites) and run.c (which copy of RIP/RSP/RFLAGS/CR2 is
 * live) hold across the files.
 */
#ifndef JOS_VMM_VTX_VTX_H
#define JOS_VMM_VTX_VTX_H

#include <inc/types.h>
#include <inc/trap.h>
#include <vmm/vmm.h>
#include <vmm/vtx/vmcs.h>

struct Env;
struct Vcpu;

/* Control values, computed once by vmx_check_support() (setup.c). */
struct vmx_caps {
	int support;          /* 0, -E_NO_VMX or -E_NO_EPT; 1 = unknown */
	uint32_t revision;    /* VMCS revision identifier */
	uint32_t pin, cpu, cpu2, exit, entry;
};
extern struct vmx_caps vmx;

/* setup.c */
int vmx_cpu_enable(void);
int vmcs_load(struct Env *e);

/* run.c */
int asm_vmrun(struct Trapframe *tf, int launched);
int vmx_guest_run(struct Env *e, uint64_t *tsc_exit);
void vmx_skipped(struct Env *e);
void vmx_read_exit_details(struct Vcpu *vc);

/* exits.c */
enum vmexit_action vmx_handle_exit(struct Env *e);
const char *vmx_exit_name(uint32_t reason);
const char *vm_instruction_error_name(uint64_t err);

/* debug.c */
int vmx_dbg_read(struct Env *e, struct guest_dbgstate *s);
int vmx_dbg_intercepts(struct Env *e, bool bp, bool step);
enum vmexit_action vmx_exit_exception(struct Env *e);

#endif /* !JOS_VMM_VTX_VTX_H */
