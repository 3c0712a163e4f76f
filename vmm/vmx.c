/*
 * Intel VT-x: detection, VMXON, the VMCS, VM entry and exit dispatch.
 * Section numbers are those of the Intel SDM, Vol. 3C (and 3D appendices).
 *
 * Invariants:
 * - A CPU enters VMX operation (VMXON) the first time it runs a guest and
 *   stays in it; vmx_cpu[cpu].on says so.
 * - A guest's VMCS is current and active on at most one CPU: the one whose
 *   curenv is the guest (g->vmx.vmcs_cpu). Whenever that CPU runs something
 *   else or halts, vmx_guest_leave() VMCLEARs it, so the next VMPTRLD may
 *   happen on any CPU (24.11.1: a VMCS must be cleared before it moves).
 * - After every VMPTRLD the host-state area is rewritten for the loading
 *   CPU (its TSS, GDT, stack), and INVEPT drops any translation that CPU
 *   cached for an older EPT living in the same pages.
 * - g->vmx.launched is true iff VMLAUNCH succeeded since the last VMCLEAR
 *   (26.1: VMLAUNCH needs a clear VMCS, VMRESUME a launched one).
 * - The guest's RIP, RSP and RFLAGS are copied from the VMCS into env_tf
 *   after each exit and back before each entry (RSP and RFLAGS only when
 *   they changed: g->vmx.rsp and .rflags are the VMCS's copies while
 *   launched); asm_vmrun swaps the other general registers. After a
 *   CPUID or VMCALL exit RSP is left in the VMCS (g->vmx.rsp_stale) until
 *   guest_run returns; entries on the fast path write RIP only.
 * - The guest's CR2 is in the CPU from the first entry of a guest_run to
 *   its return (the fast path takes no host page fault); g->vmx.cr2
 *   holds it otherwise.
 * - g->exit.qual and .intr_info are read only on the slow path
 *   (vmx_handle_exit, failed entries); the fast path never reads them.
 * - The VMX-preemption timer is on exactly for entries with the guest's
 *   RFLAGS.IF clear (vmm/vmx_preempt.c, which owns it and why).
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/assert.h>

#include <kern/pmap.h>
#include <kern/env.h>
#include <kern/cpu.h>
#include <kern/gdt.h>
#include <inc/vmx.h>
#include <vmm/vmx.h>
#include <vmm/ept.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/gdbstub.h>
#include <vmm/fastpath.h>
#include <vmm/vmcons.h>
#include <vmm/devexit.h>
#include <vmm/vmx_preempt.h>

/* asm_vmrun's register offsets must match struct PushRegs. */
static_assert(offsetof(struct Trapframe, tf_regs.reg_r15) == 0);
static_assert(offsetof(struct Trapframe, tf_regs.reg_rdi) == 72);
static_assert(offsetof(struct Trapframe, tf_regs.reg_rax) == 112);

/* Bit 31 of the first word of a VMXON region or VMCS must be 0 (24.2). */
#define VMCS_REVISION_MASK 0x7FFFFFFF

struct vmx_cpu {
	bool on;                  /* in VMX operation */
	struct PageInfo *vmxon;   /* its VMXON region */
};
static struct vmx_cpu vmx_cpu[NCPU];

/* Control values, computed once by vmx_check_support(). */
static struct {
	int support;          /* 0, -E_NO_VMX or -E_NO_EPT; 1 = unknown */
	uint32_t revision;    /* VMCS revision identifier */
	uint32_t pin, cpu, cpu2, exit, entry;
} vmx = { .support = 1 };

extern char vmx_exit_entry[];

/* ---- VMX instructions (30.3) ---------------------------------------------- */
/* Each returns 0, or -1 when the instruction failed (CF or ZF set). */

static int vmxon(physaddr_t region)
{
	uint8_t failed;

	asm volatile("vmxon %1; setna %0"
		     : "=q"(failed)
		     : "m"(region)
		     : "cc", "memory");
	return failed ? -1 : 0;
}

static int vmclear(physaddr_t vmcs)
{
	uint8_t failed;

	asm volatile("vmclear %1; setna %0"
		     : "=q"(failed)
		     : "m"(vmcs)
		     : "cc", "memory");
	return failed ? -1 : 0;
}

static int vmptrld(physaddr_t vmcs)
{
	uint8_t failed;

	asm volatile("vmptrld %1; setna %0"
		     : "=q"(failed)
		     : "m"(vmcs)
		     : "cc", "memory");
	return failed ? -1 : 0;
}

static void invept_all(void)
{
	struct {
		uint64_t eptp, reserved;
	} desc = { 0, 0 };

	asm volatile("invept %0, %1"
		     :
		     : "m"(desc), "r"((uint64_t)INVEPT_ALL_CONTEXT)
		     : "cc", "memory");
}

static void write_cr2(uint64_t val)
{
	asm volatile("movq %0, %%cr2" : : "r"(val));
}

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

static int vmx_cpu_enable(void)
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
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_PAT,         MSR_IA32_EFER,         MSR_IA32_FS_BASE,
	MSR_IA32_GS_BASE,
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
static void vmcs_init_controls(struct Guest *g)
{
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx.pin);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx.cpu);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx.cpu2);
	vmcs_write(VM_EXIT_CONTROLS, vmx.exit);
	vmcs_write(VM_ENTRY_CONTROLS, vmx.entry);
	vmx_preempt_init_vmcs(g);
	/* The guest handles all its own exceptions (25.6.3). */
	vmcs_write(EXCEPTION_BITMAP, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(MSR_BITMAP, page2pa(g->vmx.msr_bitmap));
	/* EPT pointer (25.6.11). */
	vmcs_write(EPT_POINTER, PADDR(g->ept_root) | EPTP_MT_WB |
					EPTP_WALK_LENGTH(4));
	/*
	 * CR0.NE and CR4.VMXE must stay 1 in VMX operation (A.7, A.8) but
	 * are the guest's business: own them (25.6.6) and show the guest
	 * the read shadows. NE reads as 1 from the start, so a guest that
	 * sets it, as JOS does, writes CR0 without an exit.
	 */
	vmcs_write(CR0_GUEST_HOST_MASK, CR0_NE);
	vmcs_write(CR0_READ_SHADOW, CR0_ET | CR0_NE);
	vmcs_write(CR4_GUEST_HOST_MASK, CR4_VMXE);
	vmcs_write(CR4_READ_SHADOW, 0);
}

static void vmcs_init_segment(enum vmcs_field sel, uint32_t ar)
{
	/* Selector, limit, access rights, base are consecutive encodings
	 * apart by fixed strides (Appendix B); spelled out for clarity. */
	uint32_t i = (sel - GUEST_ES_SELECTOR) / 2;

	vmcs_write(sel, 0);
	vmcs_write(GUEST_ES_LIMIT + 2 * i, REAL_MODE_SEG_LIMIT);
	vmcs_write(GUEST_ES_AR_BYTES + 2 * i, ar);
	vmcs_write(GUEST_ES_BASE + 2 * i, 0);
}

/*
 * The guest's first state: real mode at rip, as a CPU after reset except
 * that CS:IP = 0:rip (26.3.1, with "unrestricted guest" 25.6.2 allowing
 * CR0.PE = CR0.PG = 0).
 */
static void vmcs_init_guest_state(struct Env *e)
{
	uint32_t data = AR_P | AR_S | AR_TYPE_DATA_RW_ACCESSED;

	vmcs_write(GUEST_CR0, CR0_ET | CR0_NE);
	vmcs_write(GUEST_CR3, 0);
	vmcs_write(GUEST_CR4, CR4_VMXE);
	vmcs_write(GUEST_DR7, DR7_INIT);
	vmcs_init_segment(GUEST_ES_SELECTOR, data);
	vmcs_init_segment(GUEST_CS_SELECTOR,
			  AR_P | AR_S | AR_TYPE_CODE_RX_ACCESSED);
	vmcs_init_segment(GUEST_SS_SELECTOR, data);
	vmcs_init_segment(GUEST_DS_SELECTOR, data);
	vmcs_init_segment(GUEST_FS_SELECTOR, data);
	vmcs_init_segment(GUEST_GS_SELECTOR, data);
	vmcs_init_segment(GUEST_LDTR_SELECTOR, AR_UNUSABLE);
	vmcs_init_segment(GUEST_TR_SELECTOR, AR_P | AR_TYPE_TSS_BUSY);
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, REAL_MODE_SEG_LIMIT);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, REAL_MODE_SEG_LIMIT);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(GUEST_IA32_PAT, PAT_POWER_ON);
	vmcs_write(GUEST_IA32_EFER, 0);
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
	vmcs_write(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	vmcs_write(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(HOST_RIP, (uintptr_t)vmx_exit_entry);
}

/* Make g's VMCS current on this CPU (it is clear, per the invariant). */
static int vmcs_load(struct Env *e)
{
	struct Guest *g = e->env_guest;
	int cpu = cpunum();

	if (vmptrld(page2pa(g->vmx.vmcs)) < 0) {
		vmm_guest_stop(e, "VMPTRLD failed on CPU %d", cpu);
		return -1;
	}
	invept_all();
	if (!g->vmx.vmcs_initialized) {
		vmcs_init_controls(g);
		g->vmx.intr_window = false;
		vmcs_init_guest_state(e);
		g->vmx.vmcs_initialized = true;
	}
	vmcs_init_host_state();
	g->vmx.vmcs_cpu = cpu;
	if (g->last_cpu >= 0 && g->last_cpu != cpu)
		g->nmigrations++;
	g->last_cpu = cpu;
	return 0;
}

/* ---- vmm_ops ----------------------------------------------------------------- */

static int vmx_guest_init(struct Env *e, uint64_t rip)
{
	struct Guest *g = e->env_guest;
	uint8_t *bm;
	size_t i;

	/* First: vmx_guest_free() relies on it if an allocation fails. */
	g->vmx.vmcs_cpu = -1;
	if (!(g->vmx.vmcs = page_alloc(ALLOC_ZERO)))
		return -E_NO_MEM;
	g->vmx.vmcs->pp_ref++;
	g->overhead_pages++;
	*(uint32_t *)page2kva(g->vmx.vmcs) = vmx.revision & VMCS_REVISION_MASK;
	if (!(g->vmx.msr_bitmap = page_alloc(0)))
		return -E_NO_MEM; /* vmx_guest_free frees the VMCS */
	g->vmx.msr_bitmap->pp_ref++;
	g->overhead_pages++;
	bm = page2kva(g->vmx.msr_bitmap);
	memset(bm, 0xFF, PGSIZE);
	for (i = 0; i < ARRAY_SIZE(vmx_passthrough_msrs); i++)
		msr_bitmap_allow(bm, vmx_passthrough_msrs[i]);
	g->vmx.launched = false;
	g->vmx.vmcs_initialized = false;
	return 0;
}

void vmx_guest_leave(struct Env *e)
{
	struct Guest *g = e->env_guest;

	/* No VMCS (a guest that never got one, as in the EPT self-test),
	 * or not active anywhere. */
	if (!g || !g->vmx.vmcs || g->vmx.vmcs_cpu < 0)
		return;
	if (g->vmx.vmcs_cpu != cpunum()) {
		warn("vmx: guest %08x's VMCS is active on CPU %d, not %d",
		     e->env_id, g->vmx.vmcs_cpu, cpunum());
		return;
	}
	if (vmclear(page2pa(g->vmx.vmcs)) < 0)
		warn("vmx: VMCLEAR failed for guest %08x", e->env_id);
	g->vmx.vmcs_cpu = -1;
	g->vmx.launched = false;
}

static void vmx_guest_free(struct Env *e)
{
	struct Guest *g = e->env_guest;

	vmx_guest_leave(e);
	if (g->vmx.vmcs)
		page_decref(g->vmx.vmcs);
	if (g->vmx.msr_bitmap)
		page_decref(g->vmx.msr_bitmap);
	g->vmx.vmcs = g->vmx.msr_bitmap = NULL;
}

/* VM-instruction error numbers (30.4). */
static const char *const vm_instruction_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in "
	       "executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

static const char *vm_instruction_error_name(uint64_t err)
{
	if (err < ARRAY_SIZE(vm_instruction_errors) &&
	    vm_instruction_errors[err])
		return vm_instruction_errors[err];
	return "unknown VM-instruction error";
}

/*
 * Copy what the exit left in the VMCS into g->exit and env_tf (27.2):
 * what every exit needs. The rest, which only some handlers read, waits
 * for vmx_read_exit_details: a VMREAD is not free, and the fast path
 * (CPUID, hypercalls) never needs it.
 *
 * CPUID and VMCALL exits (the fast path's) read less still. Their
 * IDT-vectoring information is never valid: they are instruction exits,
 * not exits during an event's delivery through the IDT (27.2.4). Their
 * handlers never read RSP, so it stays in the VMCS and g->vmx.rsp_stale
 * says so; vmx_read_stale brings it into env_tf before anything else
 * (the slow path, the gdb stub, the monitor) can look.
 */
static void vmx_read_exit(struct Env *e)
{
	struct Guest *g = e->env_guest;
	uint32_t basic;

	g->exit.reason = vmcs_read(VM_EXIT_REASON);
	g->exit.inst_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	e->env_tf.tf_rip = vmcs_read(GUEST_RIP);
	e->env_tf.tf_eflags = g->vmx.rflags = vmcs_read(GUEST_RFLAGS);
	basic = EXIT_REASON_BASIC(g->exit.reason);
	if (basic == EXIT_REASON_CPUID || basic == EXIT_REASON_VMCALL) {
		g->exit.redeliver = 0;
		g->vmx.rsp_stale = true;
		return;
	}
	g->exit.redeliver = vmcs_read(IDT_VECTORING_INFO_FIELD);
	if (g->exit.redeliver & INTR_INFO_VALID) {
		g->exit.redeliver_err = vmcs_read(IDT_VECTORING_ERROR_CODE);
		g->exit.redeliver_len = g->exit.inst_len;
	}
	e->env_tf.tf_rsp = g->vmx.rsp = vmcs_read(GUEST_RSP);
	g->vmx.rsp_stale = false;
}

/* RSP into env_tf if the last exit left it in the VMCS (vmx_read_exit). */
static void vmx_read_stale(struct Env *e)
{
	struct Guest *g = e->env_guest;

	if (g->vmx.rsp_stale) {
		e->env_tf.tf_rsp = g->vmx.rsp = vmcs_read(GUEST_RSP);
		g->vmx.rsp_stale = false;
	}
}

/* The exit qualification and interruption information (27.2.1, 27.2.2),
 * for the handlers and reports that read them (the slow path). */
static void vmx_read_exit_details(struct Guest *g)
{
	g->exit.qual = vmcs_read(EXIT_QUALIFICATION);
	g->exit.intr_info = vmcs_read(VM_EXIT_INTR_INFO);
}

/*
 * Before an entry: RIP, RSP and RFLAGS from env_tf into the VMCS. RSP
 * and RFLAGS only when a handler changed them (or the VMCS was cleared
 * since: then everything), RIP always (most handlers move it).
 */
static void vmx_write_guest_regs(struct Env *e)
{
	struct Guest *g = e->env_guest;
	bool all = !g->vmx.launched;

	vmcs_write(GUEST_RIP, e->env_tf.tf_rip);
	if (all || e->env_tf.tf_rsp != g->vmx.rsp)
		vmcs_write(GUEST_RSP, e->env_tf.tf_rsp);
	if (all || e->env_tf.tf_eflags != g->vmx.rflags)
		vmcs_write(GUEST_RFLAGS, e->env_tf.tf_eflags);
}

/* Turn interrupt-window exiting on or off; a VMWRITE only on a change
 * (this runs before every entry). */
static void vmx_set_intr_window(struct Guest *g, bool on)
{
	if (g->vmx.intr_window == on)
		return;
	g->vmx.intr_window = on;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL,
		   on ? vmx.cpu | CPU_INTR_WINDOW_EXITING : vmx.cpu);
}

/*
 * Event injection before an entry (26.6). First, an event whose delivery
 * a VM exit interrupted (27.2.4: an EPT violation on the guest's stack
 * while it took an interrupt, say) is delivered again, with its error
 * code and, for software interrupts and exceptions, the instruction
 * length. Otherwise a pending timer tick is injected as an external
 * interrupt when the guest can take one (RFLAGS.IF, no STI/MOV-SS
 * blocking); when it cannot, interrupt-window exiting (25.6.2) brings us
 * back as soon as it can.
 */
static void vmx_inject_events(struct Env *e)
{
	struct Guest *g = e->env_guest;
	uint32_t info = g->exit.redeliver, type = INTR_INFO_TYPE(info);
	uint64_t blocking;

	if (!(info & INTR_INFO_VALID) && g->inject_vector >= 0) {
		/* An exception an exit handler asked for (25.8.3). */
		info = (uint32_t)g->inject_vector | INTR_TYPE_HW_EXC |
		       INTR_INFO_VALID;
		if (g->inject_error >= 0) {
			info |= INTR_INFO_ERROR_VALID;
			g->exit.redeliver_err = g->inject_error;
		}
		g->inject_vector = g->inject_error = -1;
	}
	if (info & INTR_INFO_VALID) {
		g->exit.redeliver = 0;
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & INTR_INFO_INJECTABLE);
		if (info & INTR_INFO_ERROR_VALID)
			vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE,
				   g->exit.redeliver_err);
		if (type == INTR_TYPE_SOFT_INTR ||
		    type == INTR_TYPE_PRIV_SOFT_EXC ||
		    type == INTR_TYPE_SOFT_EXC)
			vmcs_write(VM_ENTRY_INSTRUCTION_LEN,
				   g->exit.redeliver_len);
		vmx_set_intr_window(g, g->timer_pending);
		return;
	}
	if (!g->timer_pending) {
		vmx_set_intr_window(g, false);
		return;
	}
	blocking = vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
		   (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
	if ((e->env_tf.tf_eflags & FL_IF) && !blocking) {
		/* devexit hook: a PC guest's vector is its VMM's. */
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, devexit_vector_taken(e) |
							     INTR_TYPE_EXT_INTR |
							     INTR_INFO_VALID);
		g->timer_pending = false;
		g->ntimer++;
		vmx_set_intr_window(g, false);
	} else {
		vmx_set_intr_window(g, true);
	}
}

static int vmx_enter_here(struct Env *e);
static inline void vmx_skipped(struct Env *e);

/*
 * One VM entry and the exit after it. < 0 (with a report) if the entry
 * failed; the guest then cannot continue.
 */
static int vmx_guest_enter(struct Env *e)
{
	struct Guest *g = e->env_guest;

	if (g->vmx.vmcs_cpu != cpunum()) {
		if (g->vmx.vmcs_cpu >= 0) {
			vmm_guest_stop(e, "VMCS still active on CPU %d",
				       g->vmx.vmcs_cpu);
			return -1;
		}
		if (vmcs_load(e) < 0)
			return -1;
	}
	return vmx_enter_here(e);
}

/*
 * The fast path's exits (vmm/vmm.c): CPUID, and the hypercalls that only
 * touch the caller's registers. True if the exit was one: handled, RIP
 * past the instruction. False, with nothing changed, for any other exit.
 * (These never interrupt an event's delivery, 27.2.4: vmx_read_exit
 * leaves nothing to redeliver for them.)
 */
static bool vmx_fast_exit(struct Env *e)
{
	struct Guest *g = e->env_guest;
	struct PushRegs *r = &e->env_tf.tf_regs;

	switch (EXIT_REASON_BASIC(g->exit.reason)) {
	case EXIT_REASON_CPUID:
		vmexit_cpuid_regs(r);
		break;
	case EXIT_REASON_VMCALL:
		if (!vmexit_hypercall_fast(r))
			return false;
		break;
	default:
		return false;
	}
	e->env_tf.tf_rip += g->exit.inst_len;
	vmx_skipped(e);
	return true;
}

static int vmx_entry_failed(struct Env *e, int r);

/*
 * The entry after a fast exit, and the exit after it: vmx_enter_here
 * less what a fast exit cannot have changed. The handler moved RIP and
 * wrote general registers only: RSP and RFLAGS in the VMCS are still the
 * guest's. Nothing is to be redelivered (vmx_fast_exit), so events need
 * a look only if a timer tick waits or interrupt-window exiting is on.
 * CR2 still holds the guest's value, loaded by vmx_enter_here before the
 * first entry of this guest_run: the host takes no page fault on the
 * fast path (it touches kernel memory only, with interrupts off), so
 * neither the write before the entry nor the read after the exit is
 * needed; vmx_guest_run saves CR2 once, when it leaves the fast path.
 */
static inline int vmx_fast_enter(struct Env *e)
{
	struct Guest *g = e->env_guest;
	int r;

	vmcs_write(GUEST_RIP, e->env_tf.tf_rip);
	if (g->timer_pending || g->vmx.intr_window || g->inject_vector >= 0)
		vmx_inject_events(e);
	r = asm_vmrun(&e->env_tf, true);
	if (r != VMRUN_EXITED)
		return vmx_entry_failed(e, r);
	g->nexits++;
	vmx_read_exit(e);
	if (g->exit.reason & EXIT_REASON_ENTRY_FAIL)
		return vmx_entry_failed(e, VMRUN_EXITED);
	return 0;
}

/* vmm_ops.guest_enter: one entry and exit, RSP brought into env_tf. */
static int vmx_guest_enter_op(struct Env *e)
{
	int r = vmx_guest_enter(e);

	if (r >= 0)
		vmx_read_stale(e);
	return r;
}

/*
 * vmm_ops.guest_run: the entry, then the fast path's exits (vmm/vmm.c);
 * the VMCS stays current on this CPU throughout. On the way out, what the
 * fast path left in the CPU and the VMCS (CR2, RSP) goes where the slow
 * path looks for it.
 */
static int vmx_guest_run(struct Env *e, uint64_t *tsc_exit)
{
	struct Guest *g = e->env_guest;
	int r = vmx_guest_enter(e);

	while (r >= 0 && vmm_fast_allowed(e) && vmx_fast_exit(e)) {
		vmm_fast_account(e, EXIT_REASON_BASIC(g->exit.reason));
		r = vmx_fast_enter(e);
	}
	/* The slow path's exit is timed from here (vmm_exit_account). */
	*tsc_exit = read_tsc();
	g->vmx.cr2 = rcr2();
	if (r >= 0)
		vmx_read_stale(e);
	return r;
}

/*
 * The entry itself, on the CPU where e's VMCS is current; then the exit's
 * information into g->exit and env_tf.
 */
static int vmx_enter_here(struct Env *e)
{
	struct Guest *g = e->env_guest;
	int r;

	vmx_write_guest_regs(e);
	vmx_inject_events(e);
	vmx_preempt_before_entry(g, e->env_tf.tf_eflags);

	write_cr2(g->vmx.cr2);
	r = asm_vmrun(&e->env_tf, g->vmx.launched);
	g->vmx.cr2 = rcr2();
	if (r != VMRUN_EXITED)
		return vmx_entry_failed(e, r);
	g->vmx.launched = true;
	g->nexits++;
	vmx_read_exit(e);
	if (g->exit.reason & EXIT_REASON_ENTRY_FAIL)
		return vmx_entry_failed(e, VMRUN_EXITED);
	return 0;
}

/*
 * A VM entry that failed (r: asm_vmrun's result; VMRUN_EXITED for an exit
 * that reports a failed entry, 27.8): stop the guest with the reason.
 * Returns -1.
 */
static int __attribute__((noinline)) vmx_entry_failed(struct Env *e, int r)
{
	struct Guest *g = e->env_guest;
	uint64_t err;
	uint32_t basic;

	if (r != VMRUN_FAIL_INVALID)
		vmx_read_stale(e);  /* the VMCS is current: RSP for reports */
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
	basic = EXIT_REASON_BASIC(g->exit.reason);
	vmx_read_exit_details(g);
	vmm_guest_stop(e,
		       "VM entry failed: exit reason %u (%s), "
		       "qualification 0x%lx",
		       basic, vmx_exit_name(basic), g->exit.qual);
	return -1;
}

/* ---- Exit handlers that decode VMX-specific information ---------------------- */

/* The register a CR-access exit names (Table 28-3: 0 rax ... 15 r15). */
static uint64_t vmx_gpr(struct Env *e, unsigned n)
{
	struct PushRegs *r = &e->env_tf.tf_regs;

	switch (n & 0xF) {
	case 0: return r->reg_rax;
	case 1: return r->reg_rcx;
	case 2: return r->reg_rdx;
	case 3: return r->reg_rbx;
	case 4: return e->env_tf.tf_rsp;
	case 5: return r->reg_rbp;
	case 6: return r->reg_rsi;
	case 7: return r->reg_rdi;
	case 8: return r->reg_r8;
	case 9: return r->reg_r9;
	case 10: return r->reg_r10;
	case 11: return r->reg_r11;
	case 12: return r->reg_r12;
	case 13: return r->reg_r13;
	case 14: return r->reg_r14;
	default: return r->reg_r15;
	}
}

static void vmx_set_gpr(struct Env *e, unsigned n, uint64_t v)
{
	struct PushRegs *r = &e->env_tf.tf_regs;

	switch (n & 0xF) {
	case 0: r->reg_rax = v; break;
	case 1: r->reg_rcx = v; break;
	case 2: r->reg_rdx = v; break;
	case 3: r->reg_rbx = v; break;
	case 4: e->env_tf.tf_rsp = v; break;
	case 5: r->reg_rbp = v; break;
	case 6: r->reg_rsi = v; break;
	case 7: r->reg_rdi = v; break;
	case 8: r->reg_r8 = v; break;
	case 9: r->reg_r9 = v; break;
	case 10: r->reg_r10 = v; break;
	case 11: r->reg_r11 = v; break;
	case 12: r->reg_r12 = v; break;
	case 13: r->reg_r13 = v; break;
	case 14: r->reg_r14 = v; break;
	default: r->reg_r15 = v; break;
	}
}

/*
 * MOV to and from CR8 (CR8-load and -store exiting, 25.6.2): the guest's
 * task priority lives in g->vtpr and never reaches the host's local APIC.
 * The guest has no APIC to prioritise, so the value only reads back.
 * Bits above 3 are reserved: #GP (SDM Vol. 3A 10.8.6.1).
 */
#define CR8_TPR_MASK 0xFUL

static enum vmexit_action vmx_exit_cr8(struct Env *e, uint64_t q)
{
	struct Guest *g = e->env_guest;

	if (CRQ_TYPE(q) == CRQ_TYPE_MOV_FROM_CR) {
		vmx_set_gpr(e, CRQ_GPR(q), g->vtpr);
	} else {
		uint64_t val = vmx_gpr(e, CRQ_GPR(q));
		if (val & ~CR8_TPR_MASK)
			return vmexit_inject_exception(e, T_GPFLT, 0);
		g->vtpr = val;
	}
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

/*
 * MOV to CR0/CR4 that touched a bit we own (25.6.6): the guest's value
 * goes to the read shadow, the real register keeps NE / VMXE. A change of
 * CR0.PE/PG here would need mode-switch emulation, which we do not do.
 */
static enum vmexit_action vmx_exit_cr_access(struct Env *e)
{
	uint64_t q = e->env_guest->exit.qual, val;

	if (CRQ_CR(q) == 8)
		return vmx_exit_cr8(e, q);
	if (CRQ_TYPE(q) != CRQ_TYPE_MOV_TO_CR ||
	    (CRQ_CR(q) != 0 && CRQ_CR(q) != 4))
		return vmexit_unhandled(e, "CR access");
	val = vmx_gpr(e, CRQ_GPR(q));
	if (CRQ_CR(q) == 0) {
		if ((val ^ vmcs_read(GUEST_CR0)) & (CR0_PE | CR0_PG)) {
			vmm_guest_stop(e, "CR0 write 0x%lx clears NE while "
				       "switching modes (not emulated)", val);
			return VMEXIT_STOP;
		}
		vmcs_write(CR0_READ_SHADOW, val);
		vmcs_write(GUEST_CR0, val | CR0_NE);
	} else {
		if (val & CR4_VMXE) {
			vmm_guest_stop(e, "the guest set CR4.VMXE, but VMX "
				       "is not offered to it");
			return VMEXIT_STOP;
		}
		vmcs_write(CR4_READ_SHADOW, val);
		vmcs_write(GUEST_CR4, val | CR4_VMXE);
	}
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

static enum vmexit_action vmx_exit_extint(struct Env *e)
{
	uint32_t info = e->env_guest->exit.intr_info;

	if (!(info & INTR_INFO_VALID))
		return VMEXIT_RESUME;
	return vmexit_interrupt(e, INTR_INFO_VECTOR(info));
}

/* devexit hook: a PC guest's port I/O goes to its VMM program. String
 * I/O: the linear address is the VMCS's (27.2.1); the address size is
 * the code segment's (an 0x67 prefix is not seen). */
static enum vmexit_action vmx_pc_io(struct Env *e, uint64_t q)
{
	uint32_t cs_ar = vmcs_read(GUEST_CS_AR_BYTES);
	struct devexit_io io = {
		.port = IOQ_PORT(q), .size = IOQ_SIZE(q), .in = IOQ_IN(q),
		.string = IOQ_STRING(q), .rep = IOQ_REP(q),
	};

	if (io.string) {
		io.lin = vmcs_read(GUEST_LINEAR_ADDRESS);
		io.addr_bytes = (cs_ar & SEG_AR_L) ? 8 : (cs_ar & SEG_AR_DB) ? 4 : 2;
	}
	return devexit_pio(e, &io);
}

static enum vmexit_action vmx_exit_io(struct Env *e)
{
	uint64_t q = e->env_guest->exit.qual;

	if (devexit_pc_guest(e))  /* devexit hook */
		return vmx_pc_io(e, q);
	vmm_guest_stop(e, "port I/O is not virtualised: %s port 0x%x, "
		       "%u byte(s)",
		       IOQ_IN(q) ? "in from" : "out to", (unsigned)IOQ_PORT(q),
		       (unsigned)IOQ_SIZE(q));
	return VMEXIT_STOP;
}

static enum vmexit_action vmx_exit_ept_violation(struct Env *e)
{
	struct Guest *g = e->env_guest;
	uint64_t q = g->exit.qual;
	const char *access = (q & EPTQ_FETCH)   ? "execute"
			     : (q & EPTQ_WRITE) ? "write"
						: "read";

	/* Valid only for EPT exits (27.2.1): read here, not on every exit. */
	return vmexit_guest_memory(e, vmcs_read(GUEST_PHYSICAL_ADDRESS),
				   access);
}

/* The guest can take the waiting timer interrupt: the entry injects it. */
static enum vmexit_action vmx_exit_intr_window(struct Env *e)
{
	return VMEXIT_RESUME;
}

/* Debugging: at the end of this file. */
static enum vmexit_action vmx_exit_exception(struct Env *e);
static int vmx_dbg_read(struct Env *e, struct guest_dbgstate *s);
static int vmx_dbg_intercepts(struct Env *e, bool bp, bool step);

/* Exit reason -> handler (vendor-neutral ones from vmm/vmexits.c). */
static enum vmexit_action (*const vmx_exit_handlers[VMX_NEXIT_REASONS])(
	struct Env *) = {
	[EXIT_REASON_EXCEPTION_NMI] = vmx_exit_exception,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = vmx_exit_extint,
	[EXIT_REASON_TRIPLE_FAULT] = vmexit_triple_fault,
	[EXIT_REASON_CPUID] = vmexit_cpuid,
	[EXIT_REASON_HLT] = vmexit_hlt,
	[EXIT_REASON_VMCALL] = vmexit_hypercall,
	[EXIT_REASON_CR_ACCESS] = vmx_exit_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = vmx_exit_io,
	[EXIT_REASON_MSR_READ] = vmexit_bad_msr,
	[EXIT_REASON_MSR_WRITE] = vmexit_bad_msr,
	[EXIT_REASON_INVD] = vmexit_invd,
	/* What CPUID hides: VMX, SMX, MONITOR/MWAIT, XSAVE. */
	[EXIT_REASON_VMCLEAR] = vmexit_undefined,
	[EXIT_REASON_VMLAUNCH] = vmexit_undefined,
	[EXIT_REASON_VMPTRLD] = vmexit_undefined,
	[EXIT_REASON_VMPTRST] = vmexit_undefined,
	[EXIT_REASON_VMREAD] = vmexit_undefined,
	[EXIT_REASON_VMRESUME] = vmexit_undefined,
	[EXIT_REASON_VMWRITE] = vmexit_undefined,
	[EXIT_REASON_VMXOFF] = vmexit_undefined,
	[EXIT_REASON_VMXON] = vmexit_undefined,
	[EXIT_REASON_INVEPT] = vmexit_undefined,
	[EXIT_REASON_INVVPID] = vmexit_undefined,
	[EXIT_REASON_VMFUNC] = vmexit_undefined,
	[EXIT_REASON_GETSEC] = vmexit_undefined,
	[EXIT_REASON_MWAIT] = vmexit_undefined,
	[EXIT_REASON_MONITOR] = vmexit_undefined,
	[EXIT_REASON_XSETBV] = vmexit_undefined,
	[EXIT_REASON_EPT_VIOLATION] = vmx_exit_ept_violation,
	[EXIT_REASON_INTERRUPT_WINDOW] = vmx_exit_intr_window,
	[EXIT_REASON_PREEMPTION_TIMER] = vmx_exit_preempt,
};

static enum vmexit_action vmx_handle_exit(struct Env *e)
{
	uint32_t reason = EXIT_REASON_BASIC(e->env_guest->exit.reason);

	vmx_read_exit_details(e->env_guest);
	if (reason < VMX_NEXIT_REASONS && vmx_exit_handlers[reason])
		return vmx_exit_handlers[reason](e);
	return vmexit_unhandled(e, vmx_exit_name(reason));
}

/* Names for reports (Appendix C). */
static const char *const vmx_exit_names[VMX_NEXIT_REASONS] = {
	[EXIT_REASON_EXCEPTION_NMI] = "exception or NMI",
	[EXIT_REASON_EXTERNAL_INTERRUPT] = "external interrupt",
	[EXIT_REASON_TRIPLE_FAULT] = "triple fault",
	[EXIT_REASON_INIT] = "INIT signal",
	[EXIT_REASON_SIPI] = "start-up IPI",
	[EXIT_REASON_INTERRUPT_WINDOW] = "interrupt window",
	[EXIT_REASON_NMI_WINDOW] = "NMI window",
	[EXIT_REASON_TASK_SWITCH] = "task switch",
	[EXIT_REASON_CPUID] = "CPUID",
	[EXIT_REASON_GETSEC] = "GETSEC",
	[EXIT_REASON_HLT] = "HLT",
	[EXIT_REASON_INVD] = "INVD",
	[EXIT_REASON_INVLPG] = "INVLPG",
	[EXIT_REASON_RDPMC] = "RDPMC",
	[EXIT_REASON_RDTSC] = "RDTSC",
	[EXIT_REASON_RSM] = "RSM",
	[EXIT_REASON_VMCALL] = "VMCALL",
	[EXIT_REASON_VMCLEAR] = "VMCLEAR",
	[EXIT_REASON_VMLAUNCH] = "VMLAUNCH",
	[EXIT_REASON_VMPTRLD] = "VMPTRLD",
	[EXIT_REASON_VMPTRST] = "VMPTRST",
	[EXIT_REASON_VMREAD] = "VMREAD",
	[EXIT_REASON_VMRESUME] = "VMRESUME",
	[EXIT_REASON_VMWRITE] = "VMWRITE",
	[EXIT_REASON_VMXOFF] = "VMXOFF",
	[EXIT_REASON_VMXON] = "VMXON",
	[EXIT_REASON_CR_ACCESS] = "control-register access",
	[EXIT_REASON_DR_ACCESS] = "debug-register access",
	[EXIT_REASON_IO_INSTRUCTION] = "I/O instruction",
	[EXIT_REASON_MSR_READ] = "RDMSR",
	[EXIT_REASON_MSR_WRITE] = "WRMSR",
	[EXIT_REASON_INVALID_STATE] = "invalid guest state",
	[EXIT_REASON_MSR_LOADING] = "MSR loading",
	[EXIT_REASON_MWAIT] = "MWAIT",
	[EXIT_REASON_MONITOR_TRAP_FLAG] = "monitor trap flag",
	[EXIT_REASON_MONITOR] = "MONITOR",
	[EXIT_REASON_PAUSE] = "PAUSE",
	[EXIT_REASON_MACHINE_CHECK] = "machine-check event",
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = "TPR below threshold",
	[EXIT_REASON_APIC_ACCESS] = "APIC access",
	[EXIT_REASON_EOI_INDUCED] = "virtualized EOI",
	[EXIT_REASON_GDTR_IDTR] = "GDTR or IDTR access",
	[EXIT_REASON_LDTR_TR] = "LDTR or TR access",
	[EXIT_REASON_EPT_VIOLATION] = "EPT violation",
	[EXIT_REASON_EPT_MISCONFIG] = "EPT misconfiguration",
	[EXIT_REASON_INVEPT] = "INVEPT",
	[EXIT_REASON_RDTSCP] = "RDTSCP",
	[EXIT_REASON_PREEMPTION_TIMER] = "VMX-preemption timer expired",
	[EXIT_REASON_INVVPID] = "INVVPID",
	[EXIT_REASON_WBINVD] = "WBINVD",
	[EXIT_REASON_XSETBV] = "XSETBV",
	[EXIT_REASON_APIC_WRITE] = "APIC write",
	[EXIT_REASON_RDRAND] = "RDRAND",
	[EXIT_REASON_INVPCID] = "INVPCID",
	[EXIT_REASON_VMFUNC] = "VMFUNC",
	[EXIT_REASON_RDSEED] = "RDSEED",
	[EXIT_REASON_XSAVES] = "XSAVES",
	[EXIT_REASON_XRSTORS] = "XRSTORS",
};

const char *vmx_exit_name(uint32_t reason)
{
	if (reason < VMX_NEXIT_REASONS && vmx_exit_names[reason])
		return vmx_exit_names[reason];
	return "unknown exit reason";
}

/*
 * After an emulated instruction (vmexit_skip_instruction): it ended any
 * STI or MOV-SS blocking, and with RFLAGS.TF set the guest owes itself a
 * single-step trap, which the entry delivers as a pending debug
 * exception (25.4.2; the entry checks of 26.3.1.5 require BS then).
 */
static inline void vmx_skipped(struct Env *e)
{
	uint64_t intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);

	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   intr & ~(INTERRUPTIBILITY_STI |
				    INTERRUPTIBILITY_MOV_SS));
	if (e->env_tf.tf_eflags & FL_TF)
		vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
}

static uint32_t vmx_exit_reason(struct Env *e)
{
	return EXIT_REASON_BASIC(e->env_guest->exit.reason);
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
	.guest_enter = vmx_guest_enter_op,
	.handle_exit = vmx_handle_exit,
	.guest_run = vmx_guest_run,
	.guest_leave = vmx_guest_leave,
	.guest_free = vmx_guest_free,
	.exit_reason = vmx_exit_reason,
	.exit_name = vmx_exit_name,
	.dbg_read = vmx_dbg_read,
	.dbg_intercepts = vmx_dbg_intercepts,
};

/* ---- Debugging (vmm/gdbstub.c, the monitor) ----------------------------------- */
/*
 * Single steps use RFLAGS.TF with #DB intercepted, as on AMD-V: the
 * monitor trap flag (25.5.2) would be the VT-x way, but Bochs'
 * corei7_skylake_x does not allow it (IA32_VMX_TRUE_PROCBASED_CTLS bit 59
 * is 0), and the interrupt-window code rewrites the primary controls.
 */
#define EXC_BITMAP_DB (1U << T_DEBUG)
#define EXC_BITMAP_BP (1U << T_BRKPT)
/* Pending debug exceptions, BS: a single-step trap is pending (Table
 * 25-4); entry requires it with TF under STI/MOV-SS blocking (26.3.1.5). */
#define PENDING_DBG_BS (1UL << 14)
/* VMPTRST's answer when no VMCS is current (30.3). */
#define NO_CURRENT_VMCS (~0UL)

static uint64_t vmptrst(void)
{
	uint64_t pa;

	asm volatile("vmptrst %0" : "=m"(pa) : : "memory");
	return pa;
}

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
	s->cr2 = e->env_guest->vmx.cr2;
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
static int vmx_dbg_read(struct Env *e, struct guest_dbgstate *s)
{
	struct Guest *g = e->env_guest;
	uint64_t saved;

	if (!g->vmx.vmcs || !g->vmx.vmcs_initialized)
		return -E_INVAL;
	if (g->vmx.vmcs_cpu == cpunum()) {
		vmx_dbg_fill(e, s);
		return 0;
	}
	if (g->vmx.vmcs_cpu >= 0 || vmx_cpu_enable() < 0)
		return -E_BAD_ENV;
	saved = vmptrst();
	if (vmptrld(page2pa(g->vmx.vmcs)) < 0)
		return -E_INVAL;
	vmx_dbg_fill(e, s);
	vmclear(page2pa(g->vmx.vmcs));
	if (saved != NO_CURRENT_VMCS)
		vmptrld(saved);
	return 0;
}

/* The exception bitmap (25.6.3) on the CPU about to enter e. */
static int vmx_dbg_intercepts(struct Env *e, bool bp, bool step)
{
	struct Guest *g = e->env_guest;

	if (vmx_cpu_enable() < 0)
		return -E_NO_VMX;
	if (g->vmx.vmcs_cpu != cpunum()) {
		if (g->vmx.vmcs_cpu >= 0 || vmcs_load(e) < 0)
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
static enum vmexit_action vmx_exit_exception(struct Env *e)
{
	uint32_t info = e->env_guest->exit.intr_info;

	if (info & INTR_INFO_VALID) {
		if (INTR_INFO_VECTOR(info) == T_BRKPT)
			return gdbstub_trap(e, GDB_TRAP_BREAKPOINT);
		if (INTR_INFO_VECTOR(info) == T_DEBUG)
			return gdbstub_trap(e, GDB_TRAP_STEP);
	}
	return vmexit_unhandled(e, "exception or NMI");
}
