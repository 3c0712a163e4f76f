/*
 * AMD-V (SVM with nested paging): detection, enabling SVM on each CPU,
 * the VMCB, VMRUN and #VMEXIT, the exit-code table, event injection.
 * Section numbers are those of the AMD64 APM, Vol. 2, chapter 15.
 *
 * Invariants:
 * - A CPU turns SVM on (EFER.SVME, VM_HSAVE_PA) the first time it runs a
 *   guest and keeps it on; svm_cpu[cpu].on says so. Its host-save area
 *   (written by VMRUN) and its host VMSAVE area are its own pages, kept
 *   for good (a one-time cost, like a VMXON region on VT-x).
 * - One I/O permission map and one MSR permission map serve every guest:
 *   every port and every MSR outside svm_passthrough_msrs is intercepted.
 * - Each guest holds an ASID (15.16) for its whole life; g->svm.cpu is
 *   the CPU whose TLB holds its current translations. When the guest
 *   comes to a CPU that ran anything else since (svm_guest_leave sets
 *   cpu = -1), its ASID is flushed there before VMRUN. So a reused or
 *   shared ASID, a guest that moved, and an NPT leaf changed while the
 *   guest waited never leave stale translations behind.
 * - RIP, RSP, RFLAGS and RAX of the guest are copied from env_tf into the
 *   VMCB before each VMRUN and back after each #VMEXIT; asm_svm_vmrun
 *   swaps the other general registers. VMLOAD/VMSAVE switch the hidden
 *   state (FS, GS, TR, LDTR, KernelGSBase, STAR/LSTAR/CSTAR/SFMASK,
 *   SYSENTER) once around a run of VMRUNs (svm_guest_run: the first
 *   entry and the fast path's exits), with GIF clear all along; the host
 *   has its own back (asm_svm_leave) before any other code runs.
 * - Host interrupts: VMRUN runs with GIF clear, RFLAGS.IF set and
 *   V_INTR_MASKING set (15.21.1), so a physical interrupt exits the guest
 *   whatever the guest's own IF. After #VMEXIT (GIF still clear) the host
 *   turns IF off before STGI; svm_exit_intr() then takes the interrupts
 *   through trap_irq_window(). CR8 writes go to V_TPR, not the host TPR.
 * - The guest's EFER always has SVME (15.5.1: VMRUN fails without it);
 *   the guest reads and writes EFER through an intercept that hides it.
 * - What CPUID hides (SVM, MONITOR/MWAIT, XSAVE) is intercepted and
 *   answered with #UD, as a CPU without it would; XCR0 never changes.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/assert.h>
#include <inc/vmx.h>

#include <kern/pmap.h>
#include <kern/env.h>
#include <kern/cpu.h>
#include <kern/trap.h>
#include <vmm/svm.h>
#include <vmm/ept.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/gdbstub.h>
#include <vmm/fastpath.h>
#include <vmm/gva.h>
#include <vmm/vmcons.h>
#include <vmm/devexit.h>

/* asm_svm_vmrun's register offsets must match struct PushRegs. */
static_assert(offsetof(struct Trapframe, tf_regs.reg_r15) == 0);
static_assert(offsetof(struct Trapframe, tf_regs.reg_rdi) == 72);
static_assert(offsetof(struct Trapframe, tf_regs.reg_rax) == 112);

/* The guest's first state (15.5: a real-mode CPU after reset, CS:IP =
 * 0:rip). */
#define REAL_MODE_LIMIT 0xFFFF
#define GUEST_CR0_INIT (CR0_ET | CR0_NE)
#define GUEST_DR6_INIT 0xFFFF0FF0UL
#define GUEST_DR7_INIT 0x400UL
#define PAT_POWER_ON 0x0007040600070406UL
/* PAT entries (SDM Vol. 3A 11.12.2): 8 one-byte types; 2, 3 and 8+ are
 * reserved. */
#define PAT_ENTRIES 8
#define PAT_TYPE_BITS 8
#define PAT_TYPE_MASK 0xFFUL
#define PAT_TYPE_VALID_SET 0xF3U /* types 0, 1, 4, 5, 6, 7 */
/* EFER bits a guest may set (the rest would be host features). */
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
/* The highest priority, so that V_TPR never holds the VINTR back. */
#define V_INTR_PRIO_MAX (0xFUL << V_INTR_PRIO_SHIFT)

struct svm_cpu {
	bool on;                    /* EFER.SVME set, VM_HSAVE_PA written */
	struct PageInfo *hsave;     /* host state VMRUN saves (15.30.4) */
	struct PageInfo *host_vmcb; /* host's hidden state (VMSAVE/VMLOAD) */
	physaddr_t host_vmcb_pa;    /* its address, for every VMRUN */
};
static struct svm_cpu svm_cpu[NCPU];

/* What vmm/svm_detect() found, once. */
static struct {
	int support;        /* 0, -E_NO_VMX or -E_NO_EPT; 1 = not yet known */
	uint32_t nasid;     /* ASIDs the CPU has (ASID 0 is the host's) */
	bool nrips;         /* next_rip is saved on #VMEXIT (15.7.1) */
	bool flush_by_asid; /* TLB_CONTROL may flush one ASID */
} svm = { .support = 1 };

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

static struct vmcb *vmcb_of(struct Guest *g)
{
	return g->svm.vmcb_kva;
}

static void vmcb_seg(struct vmcb_seg *s, uint16_t attrib)
{
	s->selector = 0;
	s->attrib = attrib;
	s->limit = REAL_MODE_LIMIT;
	s->base = 0;
}

/* Intercepts, permission maps, ASID, nested paging (15.9-15.13, 15.25). */
static void vmcb_init_control(struct Guest *g, struct vmcb_control *c)
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
	c->asid = g->svm.asid;
	c->tlb_control = TLB_CONTROL_NOTHING;
	c->int_ctl = V_INTR_MASKING;
	c->np_control = NP_ENABLE;
	c->n_cr3 = PADDR(g->ept_root);
}

/* Real mode, as a CPU after reset except for CS:IP (15.5, 14.1.3). */
static void vmcb_init_save(struct vmcb_save *s)
{
	uint16_t data = SEG_ATTR_P | SEG_ATTR_S | SEG_ATTR_TYPE_DATA_RW_ACCESSED;

	vmcb_seg(&s->es, data);
	vmcb_seg(&s->cs, SEG_ATTR_P | SEG_ATTR_S |
				 SEG_ATTR_TYPE_CODE_RX_ACCESSED);
	vmcb_seg(&s->ss, data);
	vmcb_seg(&s->ds, data);
	vmcb_seg(&s->fs, data);
	vmcb_seg(&s->gs, data);
	vmcb_seg(&s->gdtr, 0);
	vmcb_seg(&s->idtr, 0);
	vmcb_seg(&s->ldtr, SEG_ATTR_P | SEG_ATTR_TYPE_LDT);
	vmcb_seg(&s->tr, SEG_ATTR_P | SEG_ATTR_TYPE_TSS_BUSY);
	s->cpl = 0;
	s->efer = EFER_SVME;
	s->cr0 = GUEST_CR0_INIT;
	s->cr3 = 0;
	s->cr4 = 0;
	s->dr6 = GUEST_DR6_INIT;
	s->dr7 = GUEST_DR7_INIT;
	s->g_pat = PAT_POWER_ON;
}

/* ---- vmm_ops ---------------------------------------------------------------- */

static int svm_guest_init(struct Env *e, uint64_t rip)
{
	struct Guest *g = e->env_guest;
	struct vmcb *v;

	g->svm.cpu = -1;
	if (!(g->svm.vmcb = svm_page()))
		return -E_NO_MEM;
	g->overhead_pages++;
	g->svm.vmcb_kva = page2kva(g->svm.vmcb);
	g->svm.vmcb_pa = page2pa(g->svm.vmcb);
	g->svm.asid = asid_get();
	v = vmcb_of(g);
	vmcb_init_control(g, &v->control);
	vmcb_init_save(&v->save);
	return 0;
}

/* This CPU runs something else now: the guest's next arrival flushes. */
static void svm_guest_leave(struct Env *e)
{
	if (e->env_guest)
		e->env_guest->svm.cpu = -1;
}

static void svm_guest_free(struct Env *e)
{
	struct Guest *g = e->env_guest;

	if (g->svm.vmcb)
		page_decref(g->svm.vmcb);
	g->svm.vmcb = NULL;
	g->svm.vmcb_kva = NULL;
	g->svm.vmcb_pa = 0;
	asid_put(g->svm.asid);
	g->svm.asid = 0;
}

/* Arm or disarm a virtual interrupt that exits as soon as the guest can
 * take it (15.21.4: V_IRQ with the VINTR intercept). */
static void svm_set_vintr(struct Guest *g, struct vmcb_control *c, bool on)
{
	if (g->svm.vintr == on)
		return;
	g->svm.vintr = on;
	if (on) {
		c->int_ctl |= V_IRQ | V_IGN_TPR | V_INTR_PRIO_MAX;
		c->intercept_misc1 |= INTERCEPT1_VINTR;
	} else {
		c->int_ctl &= ~(V_IRQ | V_IGN_TPR | V_INTR_PRIO_MAX);
		c->intercept_misc1 &= ~INTERCEPT1_VINTR;
	}
}

/*
 * Should an event whose delivery the exit interrupted be injected again?
 * Interrupts, NMIs and hardware exceptions, yes. INTn, INT3 and INTO are
 * not: RIP still points at the instruction (15.7.2), which executes
 * again, and injecting it would deliver it twice.
 */
static bool svm_redeliverable(uint32_t ev)
{
	uint32_t type = EVENT_TYPE(ev), vec = EVENT_VECTOR(ev);

	if (!(ev & EVENT_VALID) || type == EVENT_TYPE_SOFT_INT)
		return false;
	return !(type == EVENT_TYPE_EXCEPTION && (vec == T_BRKPT || vec == T_OFLOW));
}

/*
 * Event injection before VMRUN (15.20): first an event the last exit
 * interrupted (EXITINTINFO, with its error code), else an exception an
 * exit handler asked for (#UD, #GP, #DB); otherwise a pending
 * timer tick, when the guest can take an interrupt (RFLAGS.IF, no
 * interrupt shadow); when it cannot, a virtual interrupt request brings
 * us back as soon as it can.
 */
static void svm_inject_events(struct Env *e, struct vmcb_control *c)
{
	struct Guest *g = e->env_guest;
	uint32_t ev = g->exit.redeliver;

	g->exit.redeliver = 0;
	c->eventinj = 0;
	if (!svm_redeliverable(ev))
		ev = 0;
	if (!ev && g->inject_vector >= 0) {
		/* An exception an exit handler asked for. */
		ev = (uint32_t)g->inject_vector |
		     (EVENT_TYPE_EXCEPTION << EVENT_TYPE_SHIFT) | EVENT_VALID;
		if (g->inject_error >= 0) {
			ev |= EVENT_ERROR_VALID;
			g->exit.redeliver_err = g->inject_error;
		}
		g->inject_vector = g->inject_error = -1;
	}
	if (ev & EVENT_VALID) {
		c->eventinj = (ev & (0x7FFU | EVENT_ERROR_VALID | EVENT_VALID));
		if (ev & EVENT_ERROR_VALID)
			c->eventinj |= (uint64_t)g->exit.redeliver_err
				       << EVENT_ERROR_SHIFT;
		svm_set_vintr(g, c, g->timer_pending);
		return;
	}
	if (!g->timer_pending) {
		svm_set_vintr(g, c, false);
		return;
	}
	if ((e->env_tf.tf_eflags & FL_IF) &&
	    !(c->int_state & INT_STATE_SHADOW)) {
		/* devexit hook: a PC guest's vector is its VMM's. */
		c->eventinj = devexit_vector_taken(e) |
			      (EVENT_TYPE_INTR << EVENT_TYPE_SHIFT) |
			      EVENT_VALID;
		g->timer_pending = false;
		g->ntimer++;
		svm_set_vintr(g, c, false);
	} else {
		svm_set_vintr(g, c, true);
	}
}

/*
 * Has svm_inject_events anything to do? Not when no event waits (to
 * deliver again, asked for by a handler, or a timer tick) and no virtual
 * interrupt is armed: then all it would do is clear EVENTINJ, which the
 * fast path's every entry does without the call.
 */
static bool svm_events_pending(const struct Guest *g)
{
	return g->exit.redeliver || g->inject_vector >= 0 ||
	       g->timer_pending || g->svm.vintr;
}

/*
 * Copy what #VMEXIT left in the VMCB into g->exit and env_tf (15.6):
 * what every exit needs. EXITINFO1/2 wait for svm_handle_exit (the slow
 * path): the fast path never reads them.
 *
 * CPUID and VMMCALL exits (the fast path's) read less still: an
 * intercepted instruction never interrupts an event's delivery, so
 * EXITINTINFO is not valid for them (15.7.2), and their handlers never
 * read RSP, so it stays in the VMCB (g->svm.rsp_stale) until
 * svm_read_stale, before guest_run returns.
 */
static void svm_read_exit(struct Env *e, struct vmcb *v)
{
	struct Guest *g = e->env_guest;
	uint32_t code = (uint32_t)v->control.exitcode;
	uint64_t ei;

	g->exit.reason = code;
	g->exit.inst_len = 0;
	e->env_tf.tf_rip = v->save.rip;
	e->env_tf.tf_eflags = v->save.rflags;
	e->env_tf.tf_regs.reg_rax = v->save.rax;
	if (code == SVM_EXIT_CPUID || code == SVM_EXIT_VMMCALL) {
		g->exit.redeliver = 0;
		g->svm.rsp_stale = true;
		return;
	}
	ei = v->control.exitintinfo;
	g->exit.redeliver = (uint32_t)ei;
	g->exit.redeliver_err = (uint32_t)(ei >> EVENT_ERROR_SHIFT);
	e->env_tf.tf_rsp = v->save.rsp;
	g->svm.rsp_stale = false;
}

/* RSP into env_tf if the last exit left it in the VMCB (svm_read_exit). */
static void svm_read_stale(struct Env *e)
{
	struct Guest *g = e->env_guest;

	if (g->svm.rsp_stale) {
		e->env_tf.tf_rsp = vmcb_of(g)->save.rsp;
		g->svm.rsp_stale = false;
	}
}

/*
 * One VMRUN and the #VMEXIT after it (SVM is on: vmm_ops.cpu_enable). < 0
 * (with a report) if the guest cannot continue: VMRUN found the guest
 * state invalid (VMEXIT_INVALID, 15.5.1).
 */
static int svm_vmrun_once(struct Env *e);
static inline void svm_skipped(struct Env *e);

/* This CPU is about to run e: flush e's ASID here if e ran elsewhere (or
 * anything else ran here) since. Returns the CPU. */
static int svm_arrive(struct Env *e)
{
	struct Guest *g = e->env_guest;
	int cpu = cpunum();

	if (g->svm.cpu != cpu) {
		vmcb_of(g)->control.tlb_control = svm.flush_by_asid
							  ? TLB_CONTROL_FLUSH_ASID
							  : TLB_CONTROL_FLUSH_ALL;
		if (g->last_cpu >= 0 && g->last_cpu != cpu)
			g->nmigrations++;
		g->last_cpu = cpu;
		g->svm.cpu = cpu;
	}
	return cpu;
}

/* A VMRUN that failed (asm_svm_leave done): say why. */
static void svm_report_invalid(struct Env *e)
{
	vmm_guest_stop(e, "VMRUN failed: VMEXIT_INVALID (the VMCB's guest "
		       "state is inconsistent, APM 15.5.1)");
}

static int svm_guest_enter(struct Env *e)
{
	struct Guest *g = e->env_guest;
	physaddr_t host = svm_cpu[svm_arrive(e)].host_vmcb_pa;
	int r;

	asm_svm_enter(g->svm.vmcb_pa, host);
	r = svm_vmrun_once(e);
	svm_read_stale(e);
	asm_svm_leave(g->svm.vmcb_pa, host);
	if (r < 0)
		svm_report_invalid(e);
	return r;
}

/*
 * The VMRUN after a fast exit, and the #VMEXIT after it: what a fast
 * exit can have changed goes into the VMCB. The handler moved RIP and
 * wrote general registers only (RAX among them): RSP and RFLAGS in the
 * VMCB are still the guest's (svm_vmrun_once writes those, then comes
 * here), and TLB_CONTROL is already TLB_CONTROL_NOTHING (svm_vmrun_once
 * cleared it after the first VMRUN).
 */
static inline int svm_fast_vmrun(struct Env *e)
{
	struct Guest *g = e->env_guest;
	struct vmcb *v = vmcb_of(g);

	v->save.rip = e->env_tf.tf_rip;
	v->save.rax = e->env_tf.tf_regs.reg_rax;
	if (svm_events_pending(g))
		svm_inject_events(e, &v->control);
	else
		v->control.eventinj = 0;

	asm_svm_vmrun(&e->env_tf, g->svm.vmcb_pa);

	g->nexits++;
	svm_read_exit(e, v);
	return g->exit.reason == SVM_EXIT_INVALID ? -1 : 0;
}

/*
 * One VMRUN, between asm_svm_enter and asm_svm_leave (GIF clear, the
 * guest's hidden state loaded); then the exit's information into g->exit
 * and env_tf. -1 if VMRUN found the guest state invalid (reported by the
 * caller, once the host's state is back).
 */
static int svm_vmrun_once(struct Env *e)
{
	struct Guest *g = e->env_guest;
	struct vmcb *v = vmcb_of(g);
	int r;

	v->save.rsp = e->env_tf.tf_rsp;
	v->save.rflags = e->env_tf.tf_eflags;
	r = svm_fast_vmrun(e);
	/* The flush asked for on arrival is done: not again. */
	v->control.tlb_control = TLB_CONTROL_NOTHING;
	return r;
}

/* ---- Exit handlers that decode SVM-specific information ---------------------- */

/*
 * A triple fault: besides the report, what a post-mortem needs to tell
 * a guest's own crash from a VMM one (issue 11: a guest once stopped with
 * the host's RIP after VMRUN in its VMCB): the CPU, the VMCB and the
 * host save areas, the event this entry injected and the guest's mode.
 */
static enum vmexit_action svm_exit_shutdown(struct Env *e)
{
	struct Guest *g = e->env_guest;
	struct vmcb *v = vmcb_of(g);
	int i;

	cprintf("vmm: guest %08x shutdown on CPU %d: vmcb %lx, eventinj %lx, "
		"exitintinfo %lx, cs %x, cr0 %lx, cr3 %lx, efer %lx\n",
		e->env_id, cpunum(), page2pa(g->svm.vmcb),
		v->control.eventinj, v->control.exitintinfo, v->save.cs.selector,
		v->save.cr0, v->save.cr3, v->save.efer);
	for (i = 0; i < ncpu; i++)
		if (svm_cpu[i].hsave)
			cprintf("vmm: CPU %d host save %lx, host vmcb %lx\n", i,
				page2pa(svm_cpu[i].hsave),
				page2pa(svm_cpu[i].host_vmcb));
	return vmexit_triple_fault(e);
}

/* A physical interrupt (15.21.1): take it, then service it as on VT-x. */
static enum vmexit_action svm_exit_intr(struct Env *e)
{
	return vmexit_host_irqs(e);
}

/* The guest can take the waiting timer interrupt: the entry injects it. */
static enum vmexit_action svm_exit_vintr(struct Env *e)
{
	struct Guest *g = e->env_guest;

	svm_set_vintr(g, &vmcb_of(g)->control, false);
	return VMEXIT_RESUME;
}

/*
 * devexit hook: a PC guest's port I/O goes to its VMM program. EXITINFO2
 * is the next RIP (15.10.2). A string's memory operand: ES:rDI for INS;
 * for OUTS the effective segment EXITINFO1 names with decode assists,
 * else DS (an override prefix is not seen without them).
 */
static enum vmexit_action svm_pc_io(struct Env *e, uint64_t q)
{
	struct Guest *g = e->env_guest;
	struct vmcb_save *s = &vmcb_of(g)->save;
	struct PushRegs *r = &e->env_tf.tf_regs;
	struct devexit_io io = {
		.port = IOIO_PORT(q), .size = IOIO_SIZE(q),
		.in = !!(q & IOIO_IN), .string = !!(q & IOIO_STR),
		.rep = !!(q & IOIO_REP),
	};
	unsigned seg = io.in ? IOIO_SEG_ES : IOIO_SEG(q);

	g->exit.inst_len = g->exit.info2 - e->env_tf.tf_rip;
	if (io.string) {
		io.addr_bytes = (q & IOIO_A64) ? 8 : (q & IOIO_A16) ? 2 : 4;
		if (!io.in && (seg == IOIO_SEG_ES || seg > IOIO_SEG_GS))
			seg = IOIO_SEG_DS;
		io.lin = (&s->es)[seg].base +
			 ((io.in ? r->reg_rdi : r->reg_rsi) &
			  (io.addr_bytes == 8 ? ~0UL
					      : (1UL << (8 * io.addr_bytes)) - 1));
	}
	return devexit_pio(e, &io);
}

static enum vmexit_action svm_exit_ioio(struct Env *e)
{
	uint64_t q = e->env_guest->exit.qual;

	if (devexit_pc_guest(e))  /* devexit hook */
		return svm_pc_io(e, q);

	vmm_guest_stop(e, "port I/O is not virtualised: %s port 0x%x, "
		       "%u byte(s)",
		       (q & IOIO_IN) ? "in from" : "out to",
		       (unsigned)IOIO_PORT(q), (unsigned)IOIO_SIZE(q));
	return VMEXIT_STOP;
}

static bool pat_valid(uint64_t pat)
{
	int i;

	for (i = 0; i < PAT_ENTRIES; i++) {
		uint64_t type = (pat >> (i * PAT_TYPE_BITS)) & PAT_TYPE_MASK;
		if (type >= PAT_TYPE_BITS || !(PAT_TYPE_VALID_SET & (1U << type)))
			return false;
	}
	return true;
}

/* The guest's PAT is G_PAT: reads and checked writes of it. */
static enum vmexit_action svm_exit_pat(struct Env *e, struct vmcb_save *s,
				       bool write)
{
	struct PushRegs *r = &e->env_tf.tf_regs;
	uint64_t val = (r->reg_rdx << 32) | (uint32_t)r->reg_rax;

	if (write) {
		if (!pat_valid(val))
			return vmexit_bad_msr(e);
		s->g_pat = val;
	} else {
		r->reg_rax = (uint32_t)s->g_pat;
		r->reg_rdx = s->g_pat >> 32;
	}
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

/*
 * RDMSR/WRMSR that the permission map intercepts (15.11). EFER is the
 * guest's, but without SVME (which stays set underneath) and with LMA
 * kept by the CPU; any other MSR gets #GP, as on VT-x.
 */
static enum vmexit_action svm_exit_msr(struct Env *e)
{
	struct PushRegs *r = &e->env_tf.tf_regs;
	struct vmcb_save *s = &vmcb_of(e->env_guest)->save;
	bool write = e->env_guest->exit.qual == MSR_EXIT_WRITE;
	uint32_t msr = (uint32_t)r->reg_rcx;
	uint64_t val;

	if (msr == MSR_PAT)
		return svm_exit_pat(e, s, write);
	if (msr != MSR_EFER)
		return vmexit_bad_msr(e);
	if (write) {
		val = ((r->reg_rdx << 32) | (uint32_t)r->reg_rax);
		if (val & ~EFER_GUEST_BITS) {
			vmm_guest_stop(e, "WRMSR EFER 0x%lx sets bits the guest "
				       "may not (allowed: 0x%x)",
				       val, EFER_GUEST_BITS);
			return VMEXIT_STOP;
		}
		s->efer = (val & ~EFER_LMA) | (s->efer & EFER_LMA) | EFER_SVME;
	} else {
		val = s->efer & ~EFER_SVME;
		r->reg_rax = (uint32_t)val;
		r->reg_rdx = val >> 32;
	}
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

/* EXITINFO1 is a page-fault error code, EXITINFO2 the address (15.25.6). */
static enum vmexit_action svm_exit_npf(struct Env *e)
{
	struct Guest *g = e->env_guest;
	uint64_t q = g->exit.qual;
	const char *access = (q & NPF_FETCH)   ? "execute"
			     : (q & NPF_WRITE) ? "write"
					       : "read";

	return vmexit_guest_memory(e, g->exit.info2, access);
}

/* Debugging: at the end of this file. */
static enum vmexit_action svm_exit_bp(struct Env *e);
static enum vmexit_action svm_exit_db(struct Env *e);
static enum vmexit_action svm_exit_intn(struct Env *e);
static int svm_dbg_read(struct Env *e, struct guest_dbgstate *s);
static int svm_dbg_intercepts(struct Env *e, bool bp, bool step);

/* Exit code -> handler, and the length of the instruction it emulates
 * (used when the CPU does not save next_rip). */
struct svm_exit_handler {
	enum vmexit_action (*handle)(struct Env *);
	uint8_t insn_len;
};

static const struct svm_exit_handler svm_exit_handlers[SVM_NEXIT_TABLE] = {
	[SVM_EXIT_INTR] = { svm_exit_intr, 0 },
	[SVM_EXIT_VINTR] = { svm_exit_vintr, 0 },
	[SVM_EXIT_CPUID] = { vmexit_cpuid, INSN_LEN_CPUID },
	[SVM_EXIT_HLT] = { vmexit_hlt, INSN_LEN_HLT },
	[SVM_EXIT_VMMCALL] = { vmexit_hypercall, INSN_LEN_VMMCALL },
	[SVM_EXIT_MSR] = { svm_exit_msr, INSN_LEN_MSR },
	[SVM_EXIT_IOIO] = { svm_exit_ioio, 0 },
	[SVM_EXIT_SHUTDOWN] = { svm_exit_shutdown, 0 },
	[SVM_EXIT_INVD] = { vmexit_invd, INSN_LEN_INVD },
	[SVM_EXIT_PAUSE] = { vmexit_pause, INSN_LEN_PAUSE },
	/* What CPUID hides: SVM, MONITOR/MWAIT, XSAVE. */
	[SVM_EXIT_VMRUN] = { vmexit_undefined, 0 },
	[SVM_EXIT_VMLOAD] = { vmexit_undefined, 0 },
	[SVM_EXIT_VMSAVE] = { vmexit_undefined, 0 },
	[SVM_EXIT_STGI] = { vmexit_undefined, 0 },
	[SVM_EXIT_CLGI] = { vmexit_undefined, 0 },
	[SVM_EXIT_SKINIT] = { vmexit_undefined, 0 },
	[SVM_EXIT_INVLPGA] = { vmexit_undefined, 0 },
	[SVM_EXIT_MONITOR] = { vmexit_undefined, 0 },
	[SVM_EXIT_MWAIT] = { vmexit_undefined, 0 },
	[SVM_EXIT_MWAIT_CONDITIONAL] = { vmexit_undefined, 0 },
	[SVM_EXIT_XSETBV] = { vmexit_undefined, 0 },
	[SVM_EXIT_EXCP_BASE + T_BRKPT] = { svm_exit_bp, 0 },
	[SVM_EXIT_EXCP_BASE + T_DEBUG] = { svm_exit_db, 0 },
	[SVM_EXIT_SWINT] = { svm_exit_intn, 0 },
};

/* The length of the instruction that exited, for handlers that emulate
 * one: from NRIP save where the CPU has it (15.7.1), else the table's. */
static void svm_set_inst_len(struct Env *e, const struct svm_exit_handler *h)
{
	struct Guest *g = e->env_guest;

	if (h->insn_len)
		g->exit.inst_len = svm.nrips ? vmcb_of(g)->control.next_rip -
						       e->env_tf.tf_rip
					     : h->insn_len;
}

static enum vmexit_action svm_handle_exit(struct Env *e)
{
	struct Guest *g = e->env_guest;
	uint32_t code = g->exit.reason;
	const struct svm_exit_handler *h;

	g->exit.qual = vmcb_of(g)->control.exitinfo1;
	g->exit.info2 = vmcb_of(g)->control.exitinfo2;
	if (code == SVM_EXIT_NPF)
		return svm_exit_npf(e);
	if (code >= SVM_NEXIT_TABLE || !svm_exit_handlers[code].handle)
		return vmexit_unhandled(e, svm_exit_name(code));
	h = &svm_exit_handlers[code];
	svm_set_inst_len(e, h);
	return h->handle(e);
}

/*
 * The fast path's exits (vmm/vmm.c): CPUID, and the hypercalls that only
 * touch the caller's registers. True if the exit was one: handled, RIP
 * past the instruction. False, with nothing changed, for any other exit
 * and for one that
 * interrupted an event's delivery (EXITINTINFO; never so for these
 * intercepted instructions, 15.7.2).
 */
static bool svm_fast_exit(struct Env *e)
{
	struct Guest *g = e->env_guest;
	struct PushRegs *r = &e->env_tf.tf_regs;
	uint32_t len;

	if (g->exit.redeliver & EVENT_VALID)
		return false;
	switch (g->exit.reason) {
	case SVM_EXIT_CPUID:
		vmexit_cpuid_regs(r);
		len = INSN_LEN_CPUID;
		break;
	case SVM_EXIT_VMMCALL:
		if (!vmexit_hypercall_fast(r))
			return false;
		len = INSN_LEN_VMMCALL;
		break;
	case SVM_EXIT_PAUSE:
		len = INSN_LEN_PAUSE;
		break;
	default:
		return false;
	}
	/* As svm_set_inst_len, with the table's length known here. */
	if (svm.nrips)
		len = vmcb_of(g)->control.next_rip - e->env_tf.tf_rip;
	g->exit.inst_len = len;
	e->env_tf.tf_rip += len;
	svm_skipped(e);
	return true;
}

/*
 * vmm_ops.guest_run: the VMRUN, then the fast path's exits (vmm/vmm.c).
 * The guest stays on this CPU throughout, its TLB entries with it, and so
 * does its hidden state (asm_svm_enter to asm_svm_leave, GIF clear: see
 * svm_asm.S for why the fast path may run so).
 */
static int svm_guest_run(struct Env *e, uint64_t *tsc_exit)
{
	struct Guest *g = e->env_guest;
	physaddr_t host = svm_cpu[svm_arrive(e)].host_vmcb_pa;
	int r;

	asm_svm_enter(g->svm.vmcb_pa, host);
	r = svm_vmrun_once(e);
	while (r >= 0 && vmm_fast_allowed(e) && svm_fast_exit(e)) {
		vmm_fast_account(e, g->exit.reason);
		r = svm_fast_vmrun(e);
	}
	/* The slow path's exit is timed from here (vmm_exit_account). */
	*tsc_exit = read_tsc();
	svm_read_stale(e);
	asm_svm_leave(g->svm.vmcb_pa, host);
	if (r < 0)
		svm_report_invalid(e);
	return r;
}

/* Names for reports (Appendix C). */
static const char *const svm_exit_names[SVM_NEXIT_TABLE] = {
	[SVM_EXIT_INTR] = "physical interrupt",
	[SVM_EXIT_NMI] = "NMI",
	[SVM_EXIT_SMI] = "SMI",
	[SVM_EXIT_INIT] = "INIT",
	[SVM_EXIT_VINTR] = "virtual interrupt",
	[SVM_EXIT_CR0_SEL_WRITE] = "selective CR0 write",
	[SVM_EXIT_IDTR_READ] = "IDTR read",
	[SVM_EXIT_GDTR_READ] = "GDTR read",
	[SVM_EXIT_LDTR_READ] = "LDTR read",
	[SVM_EXIT_TR_READ] = "TR read",
	[SVM_EXIT_IDTR_WRITE] = "IDTR write",
	[SVM_EXIT_GDTR_WRITE] = "GDTR write",
	[SVM_EXIT_LDTR_WRITE] = "LDTR write",
	[SVM_EXIT_TR_WRITE] = "TR write",
	[SVM_EXIT_RDTSC] = "RDTSC",
	[SVM_EXIT_RDPMC] = "RDPMC",
	[SVM_EXIT_PUSHF] = "PUSHF",
	[SVM_EXIT_POPF] = "POPF",
	[SVM_EXIT_CPUID] = "CPUID",
	[SVM_EXIT_RSM] = "RSM",
	[SVM_EXIT_IRET] = "IRET",
	[SVM_EXIT_SWINT] = "software interrupt",
	[SVM_EXIT_INVD] = "INVD",
	[SVM_EXIT_PAUSE] = "PAUSE",
	[SVM_EXIT_HLT] = "HLT",
	[SVM_EXIT_INVLPG] = "INVLPG",
	[SVM_EXIT_INVLPGA] = "INVLPGA",
	[SVM_EXIT_IOIO] = "I/O instruction",
	[SVM_EXIT_MSR] = "RDMSR/WRMSR",
	[SVM_EXIT_TASK_SWITCH] = "task switch",
	[SVM_EXIT_FERR_FREEZE] = "FERR freeze",
	[SVM_EXIT_SHUTDOWN] = "shutdown (triple fault)",
	[SVM_EXIT_VMRUN] = "VMRUN",
	[SVM_EXIT_VMMCALL] = "VMMCALL",
	[SVM_EXIT_VMLOAD] = "VMLOAD",
	[SVM_EXIT_VMSAVE] = "VMSAVE",
	[SVM_EXIT_STGI] = "STGI",
	[SVM_EXIT_CLGI] = "CLGI",
	[SVM_EXIT_SKINIT] = "SKINIT",
	[SVM_EXIT_RDTSCP] = "RDTSCP",
	[SVM_EXIT_ICEBP] = "ICEBP",
	[SVM_EXIT_WBINVD] = "WBINVD",
	[SVM_EXIT_MONITOR] = "MONITOR",
	[SVM_EXIT_MWAIT] = "MWAIT",
	[SVM_EXIT_MWAIT_CONDITIONAL] = "MWAIT (armed)",
	[SVM_EXIT_XSETBV] = "XSETBV",
	[SVM_EXIT_RDPRU] = "RDPRU",
	[SVM_EXIT_EFER_WRITE_TRAP] = "EFER write trap",
};

const char *svm_exit_name(uint32_t code)
{
	if (code < SVM_NEXIT_TABLE && svm_exit_names[code])
		return svm_exit_names[code];
	if (code < SVM_EXIT_DR0_READ)
		return code < SVM_EXIT_CR0_WRITE ? "CR read" : "CR write";
	if (code >= SVM_EXIT_DR0_READ && code < SVM_EXIT_EXCP_BASE)
		return code < SVM_EXIT_DR0_WRITE ? "DR read" : "DR write";
	if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_INTR)
		return "exception";
	switch (code) {
	case SVM_EXIT_NPF: return "nested page fault";
	case SVM_EXIT_AVIC_INCOMPLETE_IPI: return "AVIC incomplete IPI";
	case SVM_EXIT_AVIC_NOACCEL: return "AVIC no acceleration";
	case SVM_EXIT_VMGEXIT: return "VMGEXIT";
	case SVM_EXIT_INVALID: return "VMEXIT_INVALID";
	default: return "unknown exit code";
	}
}

/*
 * After an emulated instruction (vmexit_skip_instruction): the interrupt
 * shadow it may have been in is over, and with RFLAGS.TF set the guest
 * gets the single-step #DB the instruction owed it (DR6.BS).
 */
static inline void svm_skipped(struct Env *e)
{
	struct Guest *g = e->env_guest;
	struct vmcb *v = vmcb_of(g);

	v->control.int_state &= ~INT_STATE_SHADOW;
	if ((e->env_tf.tf_eflags & FL_TF) && g->inject_vector < 0) {
		v->save.dr6 |= DR6_BS;
		vmexit_inject_exception(e, T_DEBUG, -1);
	}
}

static uint32_t svm_exit_reason(struct Env *e)
{
	return e->env_guest->exit.reason;
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
	.guest_enter = svm_guest_enter,
	.handle_exit = svm_handle_exit,
	.guest_run = svm_guest_run,
	.guest_leave = svm_guest_leave,
	.guest_free = svm_guest_free,
	.exit_reason = svm_exit_reason,
	.exit_name = svm_exit_name,
	.dbg_read = svm_dbg_read,
	.dbg_intercepts = svm_dbg_intercepts,
};

/* ---- Debugging (vmm/gdbstub.c, the monitor) ----------------------------------- */

/* The VMCB is memory: readable whatever CPU last ran the guest. */
static int svm_dbg_read(struct Env *e, struct guest_dbgstate *s)
{
	struct vmcb_save *v;

	if (!e->env_guest->svm.vmcb)
		return -E_INVAL;
	v = &vmcb_of(e->env_guest)->save;
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
static int svm_dbg_intercepts(struct Env *e, bool bp, bool step)
{
	struct vmcb_control *c = &vmcb_of(e->env_guest)->control;

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
 * system calls) is delivered by the redelivery path (svm_inject_events),
 * with RIP past it. It goes in as an interrupt: EVENTINJ refuses an
 * exception type above vector 31 (15.20), and an injected event is taken
 * whatever RFLAGS.IF says. Unlike a real INT n the gate's DPL is not
 * checked: only while a debugger has breakpoints armed.
 */
static enum vmexit_action svm_exit_intn(struct Env *e)
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
	e->env_guest->exit.redeliver =
		insn[1] | (EVENT_TYPE_INTR << EVENT_TYPE_SHIFT) | EVENT_VALID;
	return VMEXIT_RESUME;
}

static enum vmexit_action svm_exit_bp(struct Env *e)
{
	return gdbstub_trap(e, GDB_TRAP_BREAKPOINT);
}

static enum vmexit_action svm_exit_db(struct Env *e)
{
	return gdbstub_trap(e, GDB_TRAP_STEP);
}
