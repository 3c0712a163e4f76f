/*
 * AMD-V (SVM with nested paging), set-up: detection, SVM on each CPU,
 * the permission maps, ASIDs, a guest's VMCB and its life, and svm_ops,
 * the backend as vmm/vmm.c sees it (vmm/amdv/amdv.h: the files).
 * Section numbers are those of the AMD64 APM, Vol. 2, chapter 15.
 *
 * Invariants:
 * - A CPU turns SVM on (EFER.SVME, VM_HSAVE_PA) the first time it runs a
 *   guest and keeps it on; svm_cpu[cpu].on says so. Its host-save area
 *   (written by VMRUN) and its host VMSAVE area are its own pages, kept
 *   for good (a one-time cost, like a VMXON region on VT-x).
 * - One I/O permission map and one MSR permission map serve every guest:
 *   every port and every MSR outside svm_passthrough_msrs is intercepted.
 * - Each guest holds an ASID (15.16) for its whole life; vc->svm.cpu is
 *   the CPU whose TLB holds its current translations. When the guest
 *   comes to a CPU that ran anything else since (svm_guest_leave sets
 *   cpu = -1), its ASID is flushed there before VMRUN. So a reused or
 *   shared ASID, a guest that moved, and an NPT leaf changed while the
 *   guest waited never leave stale translations behind.
 * - The guest's EFER always has SVME (15.5.1: VMRUN fails without it);
 *   the guest reads and writes EFER through an intercept that hides it.
 * - What CPUID hides (SVM, MONITOR/MWAIT, XSAVE) is intercepted and
 *   answered with #UD, as a CPU without it would; XCR0 never changes.
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
#include <vmm/vmm.h>
#include <vmm/vmcons.h>
#include <vmm/reset.h>
#include <vmm/amdv/amdv.h>

struct svm_cpu svm_cpu[NCPU];
struct svm_caps svm = { .support = 1 };

/* Guests holding each ASID (several share one when there are too few). */
static uint16_t asid_users[NENV + 1];

/* The permission maps every guest uses (15.10.1, 15.11). */
static uint8_t svm_iopm[IOPM_SIZE] __attribute__((aligned(PGSIZE)));
static uint8_t svm_msrpm[MSRPM_SIZE] __attribute__((aligned(PGSIZE)));

/*
 * MSRs the guest reads and writes directly: the VMCB holds them and
 * VMLOAD/VMSAVE (15.5.2) switch them. PAT is emulated (into G_PAT,
 * 15.25.8) rather than passed through: QEMU's TCG lets a guest's WRMSR
 * reach the host's PAT.
 */
static const uint32_t svm_passthrough_msrs[] = {
	MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
	MSR_FS_BASE,     MSR_GS_BASE,
};

/* ---- Detection (15.4) ------------------------------------------------------ */

/* The three MSR ranges of the permission map (15.11, Table 15-5). */
static const uint32_t msrpm_range_base[] = { 0, 0xC0000000, 0xC0010000 };

static void msrpm_allow(uint32_t msr)
{
	size_t r;

	for (r = 0; r < ARRAY_SIZE(msrpm_range_base); r++) {
		uint32_t n = msr - msrpm_range_base[r];
		if (msr < msrpm_range_base[r] || n >= MSRPM_RANGE_MSRS)
			continue;
		/* Two bits per MSR: read intercept, then write intercept. */
		svm_msrpm[r * MSRPM_RANGE_BYTES + n / 4] &=
			~(3U << ((n % 4) * 2));
		return;
	}
	panic("msrpm_allow: MSR 0x%x is in no range", msr);
}

static void svm_init_maps(void)
{
	size_t i;

	memset(svm_iopm, 0xFF, sizeof(svm_iopm));
	memset(svm_msrpm, 0xFF, sizeof(svm_msrpm));
	for (i = 0; i < ARRAY_SIZE(svm_passthrough_msrs); i++)
		msrpm_allow(svm_passthrough_msrs[i]);
}

/*
 * CPUID Fn8000_0001 ECX.SVM, then VM_CR.SVMDIS (firmware may turn SVM
 * off, 15.4), then Fn8000_000A: nested paging (15.25), the number of
 * ASIDs, NRIP save and flush-by-ASID.
 */
static int svm_detect(void)
{
	uint32_t max_ext, eax, ebx, ecx, edx;
	uint64_t vm_cr;

	cpuid(CPUID_EXT_MAX, 0, &max_ext, NULL, NULL, NULL);
	cpuid(CPUID_EXT_FEATURES, 0, NULL, NULL, &ecx, NULL);
	if (max_ext < CPUID_SVM_FEATURES || !(ecx & CPUIDX_ECX_SVM)) {
		cprintf("svm: CPUID 8000_0001h:ECX.SVM is clear: this AMD CPU "
			"offers no AMD-V\n");
		return -E_NO_VMX;
	}
	vm_cr = rdmsr(MSR_VM_CR);
	if (vm_cr & VM_CR_SVMDIS) {
		cprintf("svm: AMD-V is disabled by the firmware (VM_CR.SVMDIS "
			"= 1%s); enable SVM in its setup\n",
			(vm_cr & VM_CR_LOCK) ? ", locked" : "");
		return -E_NO_VMX;
	}
	cpuid(CPUID_SVM_FEATURES, 0, &eax, &ebx, NULL, &edx);
	if (!(edx & SVM_FEATURE_NP)) {
		cprintf("svm: AMD-V without nested paging (CPUID "
			"8000_000Ah:EDX.NP is clear)\n");
		return -E_NO_EPT;
	}
	if (ebx < 2) {
		cprintf("svm: the CPU reports %u ASIDs; a guest needs one\n",
			ebx);
		return -E_NO_VMX;
	}
	svm.nasid = ebx;
	svm.nrips = edx & SVM_FEATURE_NRIPS;
	svm.flush_by_asid = edx & SVM_FEATURE_FLUSH_BY_ASID;
	svm_init_maps();
	cprintf("svm: AMD-V revision %u with nested paging, %u ASIDs, "
		"NRIP save %s\n",
		eax & 0xFF, ebx, svm.nrips ? "yes" : "no (lengths known)");
	return 0;
}

static int svm_check_support(void)
{
	if (svm.support == 1)
		svm.support = svm_detect();
	return svm.support;
}

/* ---- SVM on this CPU (15.4, 15.30.4) ---------------------------------------- */

static struct PageInfo *svm_page(void)
{
	struct PageInfo *pp = page_alloc(ALLOC_ZERO);

	if (pp)
		pp->pp_ref++;
	return pp;
}

static int svm_cpu_enable(void)
{
	struct svm_cpu *c = &svm_cpu[cpunum()];

	if (c->on)
		return 0;
	if (!c->hsave && !(c->hsave = svm_page()))
		return -E_NO_MEM;
	if (!c->host_vmcb && !(c->host_vmcb = svm_page()))
		return -E_NO_MEM;
	c->host_vmcb_pa = page2pa(c->host_vmcb);
	/* NXE too: NPT leaves use NX (vmm/ept.c), which needs it. */
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME | EFER_NXE);
	wrmsr(MSR_VM_HSAVE_PA, page2pa(c->hsave));
	c->on = true;
	/* Often a background guest's first run: a notice. */
	vmcons_notice("SVM on CPU %d\n", cpunum());
	return 0;
}

/* ---- ASIDs (15.16) ---------------------------------------------------------- */

/* The least used ASID (a free one if there is one). */
static uint32_t asid_get(void)
{
	uint32_t n = MIN(svm.nasid - 1, (uint32_t)NENV), a, best = 1;

	for (a = 1; a <= n; a++)
		if (asid_users[a] < asid_users[best])
			best = a;
	asid_users[best]++;
	return best;
}

static void asid_put(uint32_t asid)
{
	if (asid && asid_users[asid])
		asid_users[asid]--;
}

/* ---- The VMCB (15.5, Appendix B) --------------------------------------------- */

static void vmcb_seg(struct vmcb_seg *s, uint16_t attrib)
{
	s->selector = 0;
	s->attrib = attrib;
	s->limit = VCPU_RESET_SEG_LIMIT;
	s->base = 0;
}

/* Intercepts, permission maps, ASID, nested paging (15.9-15.13, 15.25). */
static void vmcb_init_control(struct Vcpu *vc, struct vmcb_control *c)
{
	c->intercept_misc1 = INTERCEPT1_INTR | INTERCEPT1_INIT |
			     INTERCEPT1_CPUID | INTERCEPT1_INVD |
			     INTERCEPT1_PAUSE |
			     INTERCEPT1_HLT | INTERCEPT1_INVLPGA |
			     INTERCEPT1_IOIO_PROT |
			     INTERCEPT1_MSR_PROT | INTERCEPT1_TASK_SWITCH |
			     INTERCEPT1_FERR_FREEZE | INTERCEPT1_SHUTDOWN;
	/* VMRUN must be intercepted (15.5.1); the other SVM instructions
	 * would let the guest reach host state or GIF. */
	c->intercept_misc2 = INTERCEPT2_VMRUN | INTERCEPT2_VMMCALL |
			     INTERCEPT2_VMLOAD | INTERCEPT2_VMSAVE |
			     INTERCEPT2_STGI | INTERCEPT2_CLGI |
			     INTERCEPT2_SKINIT | INTERCEPT2_MONITOR |
			     INTERCEPT2_MWAIT | INTERCEPT2_MWAIT_ARMED |
			     INTERCEPT2_XSETBV;
	c->iopm_base_pa = PADDR(svm_iopm);
	c->msrpm_base_pa = PADDR(svm_msrpm);
	c->asid = vc->svm.asid;
	c->tlb_control = TLB_CONTROL_NOTHING;
	c->int_ctl = V_INTR_MASKING;
	c->np_control = NP_ENABLE;
	c->n_cr3 = PADDR(vc->vm->ept_root);
}

/* Real mode, as a CPU after reset except for CS:IP (15.5, 14.1.3). */
static void vmcb_init_save(struct vmcb_save *s)
{
	uint16_t data = SEG_ATTR_P | SEG_ATTR_S | VCPU_RESET_DATA_TYPE;

	vmcb_seg(&s->es, data);
	vmcb_seg(&s->cs, SEG_ATTR_P | SEG_ATTR_S |
				 VCPU_RESET_CODE_TYPE);
	vmcb_seg(&s->ss, data);
	vmcb_seg(&s->ds, data);
	vmcb_seg(&s->fs, data);
	vmcb_seg(&s->gs, data);
	vmcb_seg(&s->gdtr, 0);
	vmcb_seg(&s->idtr, 0);
	vmcb_seg(&s->ldtr, SEG_ATTR_P | VCPU_RESET_LDT_TYPE);
	vmcb_seg(&s->tr, SEG_ATTR_P | VCPU_RESET_TSS_TYPE);
	s->cpl = 0;
	s->efer = VCPU_RESET_EFER | EFER_SVME;
	s->cr0 = VCPU_RESET_CR0;
	s->cr3 = VCPU_RESET_CR3;
	s->cr4 = VCPU_RESET_CR4;
	s->dr6 = VCPU_RESET_DR6;
	s->dr7 = VCPU_RESET_DR7;
	s->g_pat = VCPU_RESET_PAT;
}

/* ---- vmm_ops ---------------------------------------------------------------- */

static int svm_guest_init(struct Env *e, uint64_t rip)
{
	struct Vcpu *vc = e->env_vcpu;
	struct vmcb *v;

	vc->svm.cpu = -1;
	if (!(vc->svm.vmcb = svm_page()))
		return -E_NO_MEM;
	vc->vm->overhead_pages++;
	vc->svm.vmcb_kva = page2kva(vc->svm.vmcb);
	vc->svm.vmcb_pa = page2pa(vc->svm.vmcb);
	vc->svm.asid = asid_get();
	v = vmcb_of(vc);
	vmcb_init_control(vc, &v->control);
	vmcb_init_save(&v->save);
	return 0;
}

/* This CPU runs something else now: the guest's next arrival flushes. */
/* A real-mode segment's base is its selector times 16. */
#define REAL_MODE_SEG_SHIFT 4

/*
 * INIT + SIPI (vmm_ops.real_start; APM Vol. 2 16.5 and SDM Vol. 3A
 * 9.4.4: CS.selector = vector << 8, CS.base = vector << 12, IP 0, the
 * rest as after INIT, 14.1.3). The VMCB is plain memory: rewrite its
 * state save area and drop any event it would inject.
 */
static int svm_real_start(struct Env *e, uint16_t cs_sel)
{
	struct Vcpu *vc = e->env_vcpu;
	struct vmcb *v = vmcb_of(vc);

	vmcb_init_save(&v->save);
	v->save.cs.selector = cs_sel;
	v->save.cs.base = (uint64_t)cs_sel << REAL_MODE_SEG_SHIFT;
	v->control.eventinj = 0;
	svm_set_vintr(vc, &v->control, false);
	vc->svm.cpu = -1;
	return 0;
}

static void svm_guest_leave(struct Env *e)
{
	if (e->env_vcpu)
		e->env_vcpu->svm.cpu = -1;
}

static void svm_guest_free(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;

	if (vc->svm.vmcb)
		page_decref(vc->svm.vmcb);
	vc->svm.vmcb = NULL;
	vc->svm.vmcb_kva = NULL;
	vc->svm.vmcb_pa = 0;
	asid_put(vc->svm.asid);
	vc->svm.asid = 0;
}

/*
 * e's nested tables changed while it did not run (vmm_ops.nested_changed):
 * its next arrival on any CPU flushes its ASID there (svm_arrive).
 */
static void svm_nested_changed(struct Env *e)
{
	e->env_vcpu->svm.cpu = -1;
}

const struct vmm_ops svm_ops = {
	.name = "AMD-V",
	.info1_name = "EXITINFO1",
	.info2_name = "EXITINFO2",
	.npf_name = "nested page fault",
	.switches_kernel_gs = true,
	.skipped = svm_skipped,
	.check_support = svm_check_support,
	.cpu_enable = svm_cpu_enable,
	.guest_init = svm_guest_init,
	.real_start = svm_real_start,
	.handle_exit = svm_handle_exit,
	.guest_run = svm_guest_run,
	.guest_leave = svm_guest_leave,
	.guest_free = svm_guest_free,
	.nested_changed = svm_nested_changed,
	.exit_name = svm_exit_name,
	.dbg_read = svm_dbg_read,
	.dbg_intercepts = svm_dbg_intercepts,
};
