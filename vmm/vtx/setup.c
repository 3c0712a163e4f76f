/*
 * Intel VT-x, set-up: detection, VMXON on each CPU, a guest's VMCS (its
 * controls, first state, host state, loading on a CPU) and its life, and
 * vmx_ops, the backend as vmm/vmm.c sees it (vmm/vtx/vtx.h: the files).
 * Section numbers are those of the Intel SDM, Vol. 3C (and 3D appendices).
 *
 * Invariants:
 * - A CPU enters VMX operation (VMXON) the first time it runs a guest and
 *   stays in it; vmx_cpu[cpu].on says so.
 * - A guest's VMCS is current and active on at most one CPU: the one whose
 *   curenv is the guest (vc->vmx.vmcs_cpu). Whenever that CPU runs something
 *   else or halts, vmx_guest_leave() VMCLEARs it, so the next VMPTRLD may
 *   happen on any CPU (24.11.1: a VMCS must be cleared before it moves).
 * - After every VMPTRLD the host-state area is rewritten for the loading
 *   CPU (its TSS, GDT, stack), and INVEPT drops any translation that CPU
 *   cached for an older EPT living in the same pages.
 * - The VMX-preemption timer is on exactly for entries with the guest's
 *   RFLAGS.IF clear (vmm/vtx/preempt.c, which owns it and why).
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/msr.h>
#include <inc/cpuid.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/assert.h>

#include <kern/pmap.h>
#include <kern/env.h>
#include <kern/cpu.h>
#include <kern/gdt.h>
#include <vmm/vmm.h>
#include <vmm/vmcons.h>
#include <vmm/reset.h>
#include <vmm/fastpath.h>
#include <vmm/vtx/vtx.h>
#include <vmm/vtx/insn.h>
#include <vmm/vtx/preempt.h>

/* Bit 31 of the first word of a VMXON region or VMCS must be 0 (24.2). */
#define VMCS_REVISION_MASK 0x7FFFFFFF

struct vmx_cpu {
	bool on;                  /* in VMX operation */
	struct PageInfo *vmxon;   /* its VMXON region */
};
static struct vmx_cpu vmx_cpu[NCPU];

struct vmx_caps vmx = { .support = 1 };

extern char vmx_exit_entry[];

/* ---- Detection (24.6, Vol. 3D A.1-A.10) ------------------------------------- */

/*
 * Fit the control bits we want to what the CPU allows (A.3-A.5): the low
 * half of a capability MSR has a 1 for every bit that must be 1, the high
 * half a 1 for every bit that may be 1. -1 if a wanted bit is not allowed.
 */
static int vmx_fit_controls(const char *what, uint32_t msr, uint32_t want,
			    uint32_t *out)
{
	uint64_t cap = rdmsr(msr);
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);

	if (want & ~may1) {
		cprintf("vmx: %s controls 0x%x not supported\n", what,
			want & ~may1);
		return -1;
	}
	*out = want | must1;
	return 0;
}

/*
 * CPUID.1:ECX.VMX (24.6) and IA32_FEATURE_CONTROL (24.7): firmware may
 * lock VMX off.
 */
static int vmx_check_vmx(void)
{
	uint32_t eax, ebx, ecx, edx;
	uint64_t fc;

	cpuid(1, 0, &eax, &ebx, &ecx, &edx);
	if (!(ecx & CPUID1_ECX_VMX)) {
		cprintf("vmx: CPUID.1:ECX.VMX is clear: this CPU offers no "
			"VT-x\n");
		return -E_NO_VMX;
	}
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCK) &&
	    !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		cprintf("vmx: VMX is locked off in IA32_FEATURE_CONTROL\n");
		return -E_NO_VMX;
	}
	return 0;
}

/*
 * EPT and unrestricted guest (the guest starts in real mode), reached
 * through "activate secondary controls" (25.6.2), and an EPT we can use:
 * 4-level walks, write-back tables, INVEPT all-context (A.10). With
 * IA32_VMX_BASIC bit 55 the TRUE_* MSRs give the real allowed 0-settings
 * (A.2).
 */
static int vmx_check_ept(void)
{
	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	uint64_t ept_cap;
	uint64_t need_cap = EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_INVEPT |
			    EPT_CAP_INVEPT_ALL;

	vmx.revision = VMX_BASIC_REVISION(basic);
	if (vmx_fit_controls("pin-based",
			     true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
				       : MSR_IA32_VMX_PINBASED_CTLS,
			     PIN_EXTINT_EXITING, &vmx.pin) < 0 ||
	    vmx_fit_controls("VM-exit",
			     true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS
				       : MSR_IA32_VMX_EXIT_CTLS,
			     EXIT_SAVE_DEBUG_CONTROLS |
				     EXIT_HOST_ADDR_SPACE_SIZE |
				     EXIT_ACK_INTR_ON_EXIT |
				     EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT |
				     EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER,
			     &vmx.exit) < 0 ||
	    vmx_fit_controls("VM-entry",
			     true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS
				       : MSR_IA32_VMX_ENTRY_CTLS,
			     ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_IA32_PAT |
				     ENTRY_LOAD_IA32_EFER,
			     &vmx.entry) < 0)
		return -E_NO_VMX;
	if (vmx_fit_controls("processor-based",
			     true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
				       : MSR_IA32_VMX_PROCBASED_CTLS,
			     CPU_HLT_EXITING | CPU_UNCOND_IO_EXITING |
				     CPU_USE_MSR_BITMAPS |
				     CPU_ACTIVATE_SECONDARY |
				     CPU_INTR_WINDOW_EXITING |
				     CPU_CR8_LOAD_EXITING |
				     CPU_CR8_STORE_EXITING |
				     CPU_MWAIT_EXITING | CPU_MONITOR_EXITING,
			     &vmx.cpu) < 0 ||
	    vmx_fit_controls("secondary processor-based",
			     MSR_IA32_VMX_PROCBASED_CTLS2,
			     CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST,
			     &vmx.cpu2) < 0)
		return -E_NO_EPT;
	/* Interrupt-window exiting must be possible (we checked), but is
	 * turned on only while a timer interrupt waits for the guest. */
	vmx.cpu &= ~CPU_INTR_WINDOW_EXITING;
	vmx_preempt_fit(true_ctls, vmx.pin);
	ept_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if ((ept_cap & need_cap) != need_cap) {
		cprintf("vmx: EPT lacks capabilities 0x%lx\n",
			need_cap & ~ept_cap);
		return -E_NO_EPT;
	}
	return 0;
}

static int vmx_check_support(void)
{
	if (vmx.support == 1) {
		vmx.support = vmx_check_vmx();
		if (vmx.support == 0)
			vmx.support = vmx_check_ept();
	}
	return vmx.support;
}

/* ---- VMX operation on this CPU (24.7, 24.8) ------------------------------ */

/* Do CR0 and CR4 have every bit VMX requires set and none it forbids? */
static bool vmx_fixed_ok(uint64_t val, uint32_t fixed0_msr,
			 uint32_t fixed1_msr)
{
	uint64_t fixed0 = rdmsr(fixed0_msr), fixed1 = rdmsr(fixed1_msr);

	return (val & fixed0) == fixed0 && (val & ~fixed1) == 0;
}

int vmx_cpu_enable(void)
{
	struct vmx_cpu *c = &vmx_cpu[cpunum()];
	uint64_t fc;

	if (c->on)
		return 0;
	if (!c->vmxon) {
		if (!(c->vmxon = page_alloc(ALLOC_ZERO)))
			return -E_NO_MEM;
		c->vmxon->pp_ref++;
		*(uint32_t *)page2kva(c->vmxon) =
			vmx.revision & VMCS_REVISION_MASK;
	}
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK |
			      FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	lcr4(rcr4() | CR4_VMXE);
	if (!vmx_fixed_ok(rcr0(), MSR_IA32_VMX_CR0_FIXED0,
			  MSR_IA32_VMX_CR0_FIXED1) ||
	    !vmx_fixed_ok(rcr4(), MSR_IA32_VMX_CR4_FIXED0,
			  MSR_IA32_VMX_CR4_FIXED1)) {
		cprintf("vmx: CR0/CR4 do not allow VMX on CPU %d\n",
			cpunum());
		return -E_NO_VMX;
	}
	if (vmxon(page2pa(c->vmxon)) < 0) {
		cprintf("vmx: VMXON failed on CPU %d\n", cpunum());
		return -E_NO_VMX;
	}
	c->on = true;
	/* Often a background guest's first run: a notice. */
	vmcons_notice("VMXON on CPU %d\n", cpunum());
	return 0;
}

/* ---- The VMCS (24.4-24.8, 25) ---------------------------------------------- */

/*
 * MSRs the guest may read and write directly: the VMCS switches each of
 * them (EFER, PAT and SYSENTER_* by the entry/exit controls, FS/GS base as
 * segment state). Every other MSR access exits (25.6.9).
 */
static const uint32_t vmx_passthrough_msrs[] = {
	MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
	MSR_PAT,         MSR_EFER,         MSR_FS_BASE,
	MSR_GS_BASE,
};

/* MSR bitmap layout (25.6.9): read-low, read-high, write-low, write-high,
 * 1 KiB each; "low" is MSRs 0-0x1FFF, "high" 0xC0000000-0xC0001FFF. */
#define MSRBM_HIGH_BASE 0xC0000000
#define MSRBM_RANGE 0x2000
#define MSRBM_READ_HIGH 1024
#define MSRBM_WRITE 2048

static void msr_bitmap_allow(uint8_t *bm, uint32_t msr)
{
	uint32_t off = 0;

	if (msr >= MSRBM_HIGH_BASE) {
		msr -= MSRBM_HIGH_BASE;
		off = MSRBM_READ_HIGH;
	}
	assert(msr < MSRBM_RANGE);
	bm[off + msr / 8] &= ~(1 << (msr % 8));
	bm[MSRBM_WRITE + off + msr / 8] &= ~(1 << (msr % 8));
}

/* The execution, exit and entry controls (25.6-25.8). */
static void vmcs_init_controls(struct Vcpu *vc)
{
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx.pin);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx.cpu);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx.cpu2);
	vmcs_write(VM_EXIT_CONTROLS, vmx.exit);
	vmcs_write(VM_ENTRY_CONTROLS, vmx.entry);
	vmx_preempt_init_vmcs(vc);
	/* The guest handles all its own exceptions (25.6.3). */
	vmcs_write(EXCEPTION_BITMAP, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(MSR_BITMAP, page2pa(vc->vmx.msr_bitmap));
	/* EPT pointer (25.6.11). */
	vmcs_write(EPT_POINTER, PADDR(vc->vm->ept_root) | EPTP_MT_WB |
					EPTP_WALK_LENGTH(4));
	/*
	 * CR0.NE and CR4.VMXE must stay 1 in VMX operation (A.7, A.8) but
	 * are the guest's business: own them (25.6.6) and show the guest
	 * the read shadows. NE reads as 1 from the start, so a guest that
	 * sets it, as JOS does, writes CR0 without an exit.
	 */
	vmcs_write(CR0_GUEST_HOST_MASK, CR0_NE);
	vmcs_write(CR0_READ_SHADOW, VCPU_RESET_CR0);
	vmcs_write(CR4_GUEST_HOST_MASK, CR4_VMXE);
	vmcs_write(CR4_READ_SHADOW, 0);
}

static void vmcs_init_segment(enum vmcs_field sel, uint32_t ar)
{
	/* Selector, limit, access rights, base are consecutive encodings
	 * apart by fixed strides (Appendix B); spelled out for clarity. */
	uint32_t i = (sel - GUEST_ES_SELECTOR) / 2;

	vmcs_write(sel, 0);
	vmcs_write(GUEST_ES_LIMIT + 2 * i, VCPU_RESET_SEG_LIMIT);
	vmcs_write(GUEST_ES_AR_BYTES + 2 * i, ar);
	vmcs_write(GUEST_ES_BASE + 2 * i, 0);
}

/* A real-mode segment's base is its selector times 16. */
#define REAL_MODE_SEG_SHIFT 4

/*
 * The guest's first state: real mode at rip, as a CPU after reset except
 * that CS:IP = start_cs:rip (0 but after a SIPI: vmx_real_start) (26.3.1,
 * with "unrestricted guest" 25.6.2 allowing CR0.PE = CR0.PG = 0).
 */
static void vmcs_init_guest_state(struct Env *e)
{
	uint32_t data = AR_P | AR_S | VCPU_RESET_DATA_TYPE;
	uint16_t cs = e->env_vcpu->vmx.start_cs;

	vmcs_write(GUEST_CR0, VCPU_RESET_CR0);
	vmcs_write(GUEST_CR3, VCPU_RESET_CR3);
	vmcs_write(GUEST_CR4, VCPU_RESET_CR4 | CR4_VMXE);
	vmcs_write(GUEST_DR7, VCPU_RESET_DR7);
	vmcs_init_segment(GUEST_ES_SELECTOR, data);
	vmcs_init_segment(GUEST_CS_SELECTOR,
			  AR_P | AR_S | VCPU_RESET_CODE_TYPE);
	vmcs_write(GUEST_CS_SELECTOR, cs);
	vmcs_write(GUEST_CS_BASE, (uint64_t)cs << REAL_MODE_SEG_SHIFT);
	vmcs_init_segment(GUEST_SS_SELECTOR, data);
	vmcs_init_segment(GUEST_DS_SELECTOR, data);
	vmcs_init_segment(GUEST_FS_SELECTOR, data);
	vmcs_init_segment(GUEST_GS_SELECTOR, data);
	vmcs_init_segment(GUEST_LDTR_SELECTOR, AR_UNUSABLE);
	vmcs_init_segment(GUEST_TR_SELECTOR, AR_P | VCPU_RESET_TSS_TYPE);
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, VCPU_RESET_SEG_LIMIT);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, VCPU_RESET_SEG_LIMIT);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(GUEST_IA32_PAT, VCPU_RESET_PAT);
	vmcs_write(GUEST_IA32_EFER, VCPU_RESET_EFER);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VMCS_LINK_POINTER, VMCS_LINK_POINTER_NONE);
}

/* A descriptor-table register as sgdt/sidt store it. */
struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* What a VM exit loads on this CPU (24.5, 27.5): the kernel's own state. */
static void vmcs_init_host_state(void)
{
	struct dtr gdtr, idtr;

	asm volatile("sgdt %0" : "=m"(gdtr));
	asm volatile("sidt %0" : "=m"(idtr));
	vmcs_write(HOST_CR0, rcr0());
	vmcs_write(HOST_CR3, rcr3());
	vmcs_write(HOST_CR4, rcr4());
	vmcs_write(HOST_CS_SELECTOR, GD_KT);
	vmcs_write(HOST_SS_SELECTOR, GD_KD);
	vmcs_write(HOST_DS_SELECTOR, GD_KD);
	vmcs_write(HOST_ES_SELECTOR, GD_KD);
	vmcs_write(HOST_FS_SELECTOR, GD_KD);
	vmcs_write(HOST_GS_SELECTOR, GD_KD);
	vmcs_write(HOST_TR_SELECTOR, GD_TSS0 + cpunum() * sizeof(struct SystemSegdesc64));
	vmcs_write(HOST_FS_BASE, 0);
	vmcs_write(HOST_GS_BASE, 0);
	vmcs_write(HOST_TR_BASE, (uintptr_t)&thiscpu->cpu_ts);
	vmcs_write(HOST_GDTR_BASE, gdtr.base);
	vmcs_write(HOST_IDTR_BASE, idtr.base);
	vmcs_write(HOST_IA32_SYSENTER_CS, 0);
	vmcs_write(HOST_IA32_SYSENTER_ESP, 0);
	vmcs_write(HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write(HOST_IA32_PAT, rdmsr(MSR_PAT));
	vmcs_write(HOST_RIP, (uintptr_t)vmx_exit_entry);
}

/* Make vc's VMCS current on this CPU (it is clear, per the invariant). */
int vmcs_load(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	int cpu = cpunum();

	if (vmptrld(page2pa(vc->vmx.vmcs)) < 0) {
		vmm_guest_stop(e, "VMPTRLD failed on CPU %d", cpu);
		return -1;
	}
	invept_all();
	if (!vc->vmx.vmcs_initialized) {
		vmcs_init_controls(vc);
		vc->vmx.intr_window = false;
		vmcs_init_guest_state(e);
		vc->vmx.vmcs_initialized = true;
	}
	vmcs_init_host_state();
	vc->vmx.vmcs_cpu = cpu;
	vmm_count_arrival(vc, cpu);
	return 0;
}

/* ---- vmm_ops ----------------------------------------------------------------- */

static int vmx_guest_init(struct Env *e, uint64_t rip)
{
	struct Vcpu *vc = e->env_vcpu;
	uint8_t *bm;
	size_t i;

	/* First: vmx_guest_free() relies on it if an allocation fails. */
	vc->vmx.vmcs_cpu = -1;
	if (!(vc->vmx.vmcs = page_alloc(ALLOC_ZERO)))
		return -E_NO_MEM;
	vc->vmx.vmcs->pp_ref++;
	vc->vm->overhead_pages++;
	*(uint32_t *)page2kva(vc->vmx.vmcs) = vmx.revision & VMCS_REVISION_MASK;
	if (!(vc->vmx.msr_bitmap = page_alloc(0)))
		return -E_NO_MEM; /* vmx_guest_free frees the VMCS */
	vc->vmx.msr_bitmap->pp_ref++;
	vc->vm->overhead_pages++;
	bm = page2kva(vc->vmx.msr_bitmap);
	memset(bm, 0xFF, PGSIZE);
	for (i = 0; i < ARRAY_SIZE(vmx_passthrough_msrs); i++)
		msr_bitmap_allow(bm, vmx_passthrough_msrs[i]);
	vc->vmx.launched = false;
	vc->vmx.vmcs_initialized = false;
	return 0;
}

/*
 * INIT + SIPI (vmm_ops.real_start; SDM Vol. 3A 9.4.4: an AP leaves
 * wait-for-SIPI with CS.selector = vector << 8, CS.base = vector << 12,
 * IP 0, the rest as after INIT, Table 9-1). The VMCS is written at its
 * next VMPTRLD (vmcs_load), so it must be clear, active nowhere.
 */
static int vmx_real_start(struct Env *e, uint16_t cs_sel)
{
	struct Vcpu *vc = e->env_vcpu;

	if (vc->vmx.vmcs_cpu >= 0)
		return -E_BUSY;
	vc->vmx.start_cs = cs_sel;
	vc->vmx.vmcs_initialized = false;
	vc->vmx.launched = false;
	return 0;
}

static void vmx_guest_leave(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;

	/* No VMCS (a guest that never got one, as in the EPT self-test),
	 * or not active anywhere. */
	if (!vc || !vc->vmx.vmcs || vc->vmx.vmcs_cpu < 0)
		return;
	if (vc->vmx.vmcs_cpu != cpunum()) {
		warn("vmx: guest %08x's VMCS is active on CPU %d, not %d",
		     e->env_id, vc->vmx.vmcs_cpu, cpunum());
		return;
	}
	if (vmclear(page2pa(vc->vmx.vmcs)) < 0)
		warn("vmx: VMCLEAR failed for guest %08x", e->env_id);
	vc->vmx.vmcs_cpu = -1;
	vc->vmx.launched = false;
}

static void vmx_guest_free(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;

	vmx_guest_leave(e);
	if (vc->vmx.vmcs)
		page_decref(vc->vmx.vmcs);
	if (vc->vmx.msr_bitmap)
		page_decref(vc->vmx.msr_bitmap);
	vc->vmx.vmcs = vc->vmx.msr_bitmap = NULL;
}

/*
 * e's nested tables changed while it did not run (vmm_ops.nested_changed):
 * nothing to do while its VMCS is clear, the next vmcs_load executes
 * INVEPT on whichever CPU loads it; when it is current here, now.
 */
static void vmx_nested_changed(struct Env *e)
{
	if (e->env_vcpu->vmx.vmcs_cpu == cpunum())
		invept_all();
}

const struct vmm_ops vmx_ops = {
	.name = "VT-x",
	.info1_name = "qualification",
	.npf_name = "EPT violation",
	.switches_kernel_gs = false,
	.skipped = vmx_skipped,
	.check_support = vmx_check_support,
	.cpu_enable = vmx_cpu_enable,
	.guest_init = vmx_guest_init,
	.real_start = vmx_real_start,
	.handle_exit = vmx_handle_exit,
	.guest_run = vmx_guest_run,
	.guest_leave = vmx_guest_leave,
	.guest_free = vmx_guest_free,
	.nested_changed = vmx_nested_changed,
	.exit_name = vmx_exit_name,
	.dbg_read = vmx_dbg_read,
	.dbg_intercepts = vmx_dbg_intercepts,
};
