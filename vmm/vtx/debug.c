/*
 * Intel VT-x, debugging: what the gdb stub (vmm/gdbstub.c) and the
 * monitor see of a guest's VMCS, the exception intercepts for
 * breakpoints and single steps, and the #BP/#DB exits they cause.
 * Section numbers: Intel SDM Vol. 3C.
 *
 * Invariant: a VMCS made current here only to read it is cleared again
 * before returning (it must stay loadable on any CPU: vtx/setup.c).
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>

#include <kern/env.h>
#include <kern/cpu.h>
#include <kern/pmap.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/gdbstub.h>
#include <vmm/vtx/vtx.h>
#include <vmm/vtx/insn.h>

/*
 * Single steps use RFLAGS.TF with #DB intercepted, as on AMD-V: the
 * monitor trap flag (25.5.2) would be the VT-x way, but Bochs'
 * corei7_skylake_x does not allow it (IA32_VMX_TRUE_PROCBASED_CTLS bit 59
 * is 0), and the interrupt-window code rewrites the primary controls.
 */
#define EXC_BITMAP_DB (1U << T_DEBUG)
#define EXC_BITMAP_BP (1U << T_BRKPT)

static void vmx_dbg_fill(struct Env *e, struct guest_dbgstate *s)
{
	uint32_t ar;

	s->cs = vmcs_read(GUEST_CS_SELECTOR);
	s->ss = vmcs_read(GUEST_SS_SELECTOR);
	s->ds = vmcs_read(GUEST_DS_SELECTOR);
	s->es = vmcs_read(GUEST_ES_SELECTOR);
	s->fs = vmcs_read(GUEST_FS_SELECTOR);
	s->gs = vmcs_read(GUEST_GS_SELECTOR);
	s->fs_base = vmcs_read(GUEST_FS_BASE);
	s->gs_base = vmcs_read(GUEST_GS_BASE);
	s->cr0 = vmcs_read(GUEST_CR0);
	s->cr2 = e->env_vcpu->vmx.cr2;
	s->cr3 = vmcs_read(GUEST_CR3);
	/* VMXE is ours (the read shadow hides it from the guest). */
	s->cr4 = vmcs_read(GUEST_CR4) & ~(uint64_t)CR4_VMXE;
	s->efer = vmcs_read(GUEST_IA32_EFER);
	s->cs_base = vmcs_read(GUEST_CS_BASE);
	ar = vmcs_read(GUEST_CS_AR_BYTES);
	s->cs_l = ar & AR_L;
	s->cs_db = ar & AR_DB;
}

/*
 * Read e's state from its VMCS: directly when it is current here; when it
 * is clear, make it current for the reads, clear it again (it must stay
 * loadable anywhere) and make this CPU's previous VMCS current again.
 */
int vmx_dbg_read(struct Env *e, struct guest_dbgstate *s)
{
	struct Vcpu *vc = e->env_vcpu;
	uint64_t saved;

	if (!vc->vmx.vmcs || !vc->vmx.vmcs_initialized)
		return -E_INVAL;
	if (vc->vmx.vmcs_cpu == cpunum()) {
		vmx_dbg_fill(e, s);
		return 0;
	}
	if (vc->vmx.vmcs_cpu >= 0 || vmx_cpu_enable() < 0)
		return -E_BAD_ENV;
	saved = vmptrst();
	if (vmptrld(page2pa(vc->vmx.vmcs)) < 0)
		return -E_INVAL;
	vmx_dbg_fill(e, s);
	vmclear(page2pa(vc->vmx.vmcs));
	if (saved != NO_CURRENT_VMCS)
		vmptrld(saved);
	return 0;
}

/* The exception bitmap (25.6.3) on the CPU about to enter e. */
int vmx_dbg_intercepts(struct Env *e, bool bp, bool step)
{
	struct Vcpu *vc = e->env_vcpu;

	if (vmx_cpu_enable() < 0)
		return -E_NO_VMX;
	if (vc->vmx.vmcs_cpu != cpunum()) {
		if (vc->vmx.vmcs_cpu >= 0 || vmcs_load(e) < 0)
			return -E_BAD_ENV;
	}
	vmcs_write(EXCEPTION_BITMAP,
		   (bp ? EXC_BITMAP_BP : 0) | (step ? EXC_BITMAP_DB : 0));
	if (step && (vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
		     (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)))
		vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	return 0;
}

/* An intercepted exception (27.2.2): #BP or #DB for the debugger. */
enum vmexit_action vmx_exit_exception(struct Env *e)
{
	uint32_t info = e->env_vcpu->vmx.exit_intr_info;

	if (info & INTR_INFO_VALID) {
		if (INTR_INFO_VECTOR(info) == T_BRKPT)
			return gdbstub_trap(e, GDB_TRAP_BREAKPOINT);
		if (INTR_INFO_VECTOR(info) == T_DEBUG)
			return gdbstub_trap(e, GDB_TRAP_STEP);
	}
	return vmexit_unhandled(e, "exception or NMI");
}
