/*
 * The vendor-neutral VMM: creating and freeing guests, and the loop that
 * runs one (enter, handle the exit, decide what next).
 *
 * Invariants:
 * - A guest env's status follows the usual env rules: the scheduler runs
 *   it when ENV_RUNNABLE; env_run() hands it to vmm_env_run() instead of
 *   returning to user mode.
 * - The big kernel lock is released while the guest runs (between entry
 *   and exit), like a user env in ring 3, and while the backend's
 *   guest_run handles the exits of the fast path (below: vmm_fast_run,
 *   vmm/fastpath.h, the one loop both backends inline). Host
 *   interrupts stay off in the host; while the guest runs they cause VM
 *   exits.
 * - Another CPU may destroy a running guest: it becomes ENV_DYING, and
 *   the CPU running it frees it at the next exit (as trap() does).
 * - The run loop starts on a fresh kernel stack each time env_run() picks
 *   the guest, so neither yields nor exits pile up frames.
 *
 * The fast path. After an exit, the CPU running guest e may handle it
 * and enter e again without taking the big kernel lock, only when all of
 * this holds:
 * - the exit is of a lock-free kind: CPUID, the hypercalls that read
 *   and write only the caller's registers (vmexit_cpuid_regs,
 *   vmexit_hypercall_fast in vmexits.h), PAUSE on AMD-V (RIP only), and a
 *   PC guest's LAPIC read that the read shadow answers with the MMIO
 *   decoder's fetch cache and memo (devexit_mmio_fast; it also reads the
 *   VM's run page, the console's ring indices, this CPU's decoder memo
 *   and the page the fetch cache holds a reference to, and allocates or
 *   frees nothing, else it leaves the exit to the slow path). Their
 *   handling touches nothing
 *   but e's registers, its control structure (current on this CPU
 *   alone) and its exit statistics, which no other CPU writes while e
 *   runs (readers, such as the monitor's `exits`, may see a count one
 *   exit old, and e's env_tf as of its last slow-path exit: the fast
 *   path leaves RSP in the VMCS/VMCB and, on VT-x, CR2 in the CPU until
 *   guest_run returns). Fast exits are counted, not timed;
 * - nothing asks the run loop to look at e (vmm_fast_allowed in
 *   fastpath.h): e is still ENV_RUNNING (not ENV_DYING), not paused nor
 *   ended from the console, the gdb stub is not active on it, and the
 *   exit streak stays below VMM_MAX_STREAK. Other CPUs write these under
 *   the lock; the fast path reads them without it. One set just after
 *   the read is seen at the next exit, exactly as if it had been set
 *   while e ran, and that next exit comes: host interrupts (the timer
 *   first) always exit the guest, and those exits always take the slow
 *   path (the lock, then the scheduler);
 * - the host's own interrupts are not overdue (vmm_irqs_overdue);
 * - what the slow path sets up before an entry still holds: VMX/SVM on,
 *   e's software-switched registers (xstate) loaded, e's VMCS current on
 *   this CPU, since the CPU runs nothing else in between.
 * Every other exit is handled with the lock, by vmm_ops->handle_exit.
 *
 * Host interrupts: whatever exit the slow path handles, when the guest
 * is to resume and the host has not taken its own interrupts for a slice
 * (VMM_IRQ_SLICE_US), it takes them first (vmexit_host_irqs). A guest
 * whose exits never let the host open its interrupts, on an emulator
 * that keeps them out of it (Bochs' VT-x, vmm/vtx/preempt.c), then
 * still cannot delay them by more than a slice and an exit.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>
#include <inc/stdarg.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/vmx.h>

#include <kern/env.h>
#include <kern/cpu.h>
#include <kern/sched.h>
#include <kern/spinlock.h>
#include <kern/console.h>
#include <kern/lapic.h>
#include <vmm/ept.h>
#include <vmm/vmm.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>
#include <vmm/vmcons.h>
#include <vmm/xstate.h>
#include <vmm/gdbstub.h>
#include <vmm/vmexits.h>
#include <vmm/fastpath.h>
#include <vmm/devexit.h>

/* VT-x unless vmm_init() finds an AMD CPU. */
const struct vmm_ops *vmm_ops = &vmx_ops;
uint64_t vmm_irq_slice_tsc;

#define US_PER_MS 1000
/* TSC cycles per millisecond if the boot measured none: 1 GHz. */
#define TSC_PER_MS_FALLBACK 1000000

/*
 * Choose the vendor once, at boot: AMD-V (SVM + NPT) on an AMD CPU, VT-x
 * (VMX + EPT) on any other. Whether the chosen one is really there is
 * check_support()'s business, at the first sys_env_mkguest.
 */
void vmm_init(void)
{
	if (cpu_vendor_is_amd()) {
		vmm_ops = &svm_ops;
		nested_fmt = &npt_format;
	} else {
		vmm_ops = &vmx_ops;
		nested_fmt = &ept_format;
	}
}

/*
 * Can this CPU run guests? The first time it cannot, say what we looked
 * for and where guests do run; the vendor's check_support() has printed
 * what exactly is missing.
 */
static int vmm_check_support(void)
{
	static bool told;
	int r;

	/* Before the vendor's check: VT-x's preemption timer needs the
	 * slice (vmm/vtx/preempt.c). */
	if (!vmm_irq_slice_tsc)
		vmm_irq_slice_tsc = (tsc_per_ms ? tsc_per_ms
						: TSC_PER_MS_FALLBACK) *
				    VMM_IRQ_SLICE_US / US_PER_MS;
	r = vmm_ops->check_support();

	if (r < 0 && !told) {
		told = true;
		cprintf("vmm: no guest can run on this CPU: a guest needs VT-x "
			"with EPT (CPUID.1:ECX.VMX) or AMD-V with nested "
			"paging (CPUID.80000001h:ECX.SVM, 8000000Ah:EDX.NP). "
			"QEMU's TCG offers AMD-V (make qemu-nox), Bochs "
			"offers VT-x (make bochs-nox).\n");
	}
	return r;
}

/* RFLAGS bit 1 always reads as 1. */
#define RFLAGS_RESERVED_ONE 0x2
/* 100% in hundredths of a percent (vmm_print_overhead). */
#define PERCENT_HUNDREDTHS 10000
/* Real mode starts at CS:IP = 0:rip, so rip must fit in 16 bits. */
#define REAL_MODE_IP_LIMIT 0x10000

/* The registers env_tf keeps, as at reset (vmm/reset.h) with IP rip. */
void vmm_reset_regs(struct Env *e, uint64_t rip)
{
	memset(&e->env_tf.tf_regs, 0, sizeof(e->env_tf.tf_regs));
	e->env_tf.tf_rip = rip;
	e->env_tf.tf_rsp = 0;
	e->env_tf.tf_eflags = RFLAGS_RESERVED_ONE;
}

/*
 * A new guest with gphysz bytes of memory, to start at rip, as a child of
 * parent; not runnable yet. Returns its env id or -E_*.
 */
int vmm_mkguest(struct Env *parent, uint64_t gphysz, uint64_t rip)
{
	struct Env *e;
	int r;

	if ((r = vmm_check_support()) < 0)
		return r;
	if (gphysz % PGSIZE || gphysz < GUEST_MEM_MIN ||
	    gphysz > GUEST_MEM_MAX || rip >= REAL_MODE_IP_LIMIT ||
	    rip >= GUEST_LOWMEM_END)
		return -E_INVAL;
	if ((r = env_alloc(&e, parent->env_id, ENV_TYPE_GUEST)) < 0)
		return r;
	if ((r = vm_create(e, gphysz)) < 0 ||
	    (r = vmcons_init(e->env_vcpu->vm)) < 0) {
		env_free(e);
		return r;
	}
	/* vmcons_init allocated every page of both rings (or failed). */
	e->env_vcpu->vm->overhead_pages += VMCONS_OUT_PAGES + VMCONS_IN_PAGES;
	if ((r = vmm_ops->guest_init(e, rip)) < 0) {
		env_free(e);
		return r;
	}
	vmm_reset_regs(e, rip);
	e->env_status = ENV_NOT_RUNNABLE;
	/* The TSC lets benchmarks time the guest's boot (Bochs: instructions). */
	cprintf("vmm: guest %08x created: %lu MiB, %s, starts at 0x%lx, "
		"TSC %lu\n",
		e->env_id, gphysz >> 20, vmm_ops->name, rip, read_tsc());
	return e->env_id;
}

/* Print why guest e stops (the caller then lets it be destroyed). */
void vmm_guest_stop(struct Env *e, const char *fmt, ...)
{
	va_list ap;

	vmcons_notice_begin();
	cprintf("vmm: guest %08x stopped: ", e->env_id);
	va_start(ap, fmt);
	vcprintf(fmt, ap);
	va_end(ap);
	cprintf("; guest rip 0x%lx\n", e->env_tf.tf_rip);
	vmcons_notice_end();
}

/* A guest that exceeded VMM_MAX_STREAK: report it; it is stopped. */
static enum vmexit_action vmm_streak_stop(struct Env *e)
{
	vmm_guest_stop(e, "%lu exits in a row without the host getting a "
		       "turn (the last: %s)",
		       e->env_vcpu->streak,
		       vmm_ops->exit_name(e->env_vcpu->exit.reason));
	return VMEXIT_STOP;
}

/* With the lock, before entering e: whatever may have changed. */
static void vmm_before_entry(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	int r;

	/* Ended from the console, or paused: not entered again. */
	vmm_guest_hold(e);
	if (vc->vm->dbg.active)
		gdbstub_before_entry(e);
	if ((r = vmm_ops->cpu_enable()) < 0) {
		vmm_guest_stop(e, "cannot turn %s on on CPU %d: %e",
			       vmm_ops->name, cpunum(), r);
		env_destroy(e);
	}
	xstate_load(vc);
	devexit_before_entry(e);  /* devexit hook: a kick hands over */
}

static void __attribute__((noreturn)) vmm_run_loop(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	enum vmexit_action action;
	uint64_t tsc_exit;
	int r;

	for (;;) {
		vmm_before_entry(e);
		unlock_kernel();
		r = vmm_ops->guest_run(e, &tsc_exit);
		lock_kernel();
		if (e->env_status == ENV_DYING) {
			env_free(e);
			curenv = NULL;
			sched_yield();
		}
		if (r < 0)
			env_destroy(e);
		action = vmm_exit_account(e, vmm_ops->handle_exit(e), tsc_exit);
		if (action == VMEXIT_RESUME && vmm_irqs_overdue(vc, tsc_exit))
			action = vmexit_host_irqs(e);
		if (action == VMEXIT_RESUME && ++vc->streak >= VMM_MAX_STREAK)
			action = vmm_streak_stop(e);
		action = devexit_deadline(e, action);  /* devexit hook */
		switch (action) {
		case VMEXIT_RESUME:
			break;
		case VMEXIT_HANDOFF:  /* devexit hook */
			devexit_handoff(e);
		case VMEXIT_YIELD:
		case VMEXIT_BLOCK:
			vc->streak = 0;
			sched_yield();
		case VMEXIT_STOP:
			env_destroy(e);
		}
	}
}

/* Run guest e on this CPU until the scheduler takes over; from env_run. */
void vmm_env_run(struct Env *e)
{
	/* Like trapframe_pop, leave the caller's stack behind. */
	asm volatile("movq %0, %%rsp\n\t"
		     "xorl %%ebp, %%ebp\n\t"
		     "call *%1"
		     :
		     : "r"(kstacktop(cpunum())), "r"(vmm_run_loop), "D"(e)
		     : "memory");
	__builtin_unreachable();
}

/*
 * "overhead N KiB (x.xx% of guest RAM)": the host memory VM vm costs
 * beyond its RAM (vm->overhead_pages), with the share in hundredths of a
 * percent, rounded down (integer arithmetic: no floating point in the
 * kernel).
 */
void vmm_print_overhead(const struct Vm *vm)
{
	uint64_t bytes = vm->overhead_pages * PGSIZE;
	uint64_t hundredths = bytes * PERCENT_HUNDREDTHS / vm->gphysz;

	cprintf("overhead %lu KiB (%lu.%02lu%% of guest RAM)", bytes / 1024,
		hundredths / 100, hundredths % 100);
}

/*
 * A host env sends guest e a page (ipc_deliver): it replaces whatever
 * page e had at gpa (checked by the IPC_RECV hypercall). e waits, so no
 * CPU runs it; the backend sees to it that its next entry uses no
 * translation cached for the old page (vmm_ops.nested_changed).
 */
int vmm_ipc_map(struct Env *e, struct PageInfo *pp, uint64_t gpa,
		unsigned perm)
{
	int r = guest_page_insert(e->env_vcpu->vm, pp, gpa,
				  EPTE_R | EPTE_X |
					  ((perm & PTE_W) ? EPTE_W : 0));

	if (r == 0)
		vmm_ops->nested_changed(e);
	return r;
}

/* The results of IPC_RECV, in the registers inc/vmx.h names. */
void vmm_ipc_received(struct Env *e)
{
	struct PushRegs *r = &e->env_tf.tf_regs;

	r->reg_rax = 0;
	r->reg_rdx = e->env_ipc_value;
	r->reg_rcx = e->env_ipc_from;
	r->reg_rbx = e->env_ipc_perm;
}

/* This CPU runs something else from now on. */
void vmm_guest_leave(struct Env *e)
{
	if (!e->env_vcpu)
		return;
	xstate_save(e->env_vcpu);
	vmm_ops->guest_leave(e);
}

/*
 * Another vCPU o of a VM that is being torn down: destroy it, unless it
 * is going already. One running here (no path frees a sibling from a
 * vCPU's own run loop but vm_destroy, which leaves it for last) is ended
 * by its run loop before its next entry (vmm_guest_hold).
 */
static void vmm_sibling_end(struct Env *o)
{
	if (o->env_status == ENV_FREE || o->env_status == ENV_DYING)
		return;
	if (o == curenv) {
		o->env_vcpu->vm->kill_requested = true;
		return;
	}
	env_destroy(o);
}

/* From env_free: the vCPU's vendor structures, then its VM's hold
 * (the VM's memory and nested tables go with its last vCPU). A VM does
 * not outlive any of its vCPUs: the others are destroyed too. */
void vmm_guest_free(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	struct Env *rest[VM_MAX_VCPUS];
	int i, n;

	if (!vc)
		return;
	n = vm_doom(vc->vm, e, rest);
	vmcons_notice_begin();
	cprintf("vmm: guest %08x freed: %lu exits, %lu CPU migrations, "
		"%lu timer interrupts, ",
		e->env_id, vc->nexits, vc->nmigrations, vc->ntimer);
	vmm_print_overhead(vc->vm);
	cprintf("\n");
	vmcons_notice_end();
	xstate_save(vc);
	devexit_guest_free(e);  /* devexit hook */
	gdbstub_guest_free(e);
	vmm_ops->guest_free(e);
	vm_put(e);
	for (i = 0; i < n; i++)
		vmm_sibling_end(rest[i]);
}

/*
 * The statistics slot of exit reason `reason`: the slot its hint names
 * when that slot holds it (one probe for every exit after the first of
 * its kind), else the first free or matching slot, which the hint then
 * names. Slots fill in order of first appearance; once they are full,
 * later reasons share the last one. The slot found is also
 * vc->exitstat_last, which the fast path tries first.
 */
static struct GuestExitStat *exit_stat_slot(struct Vcpu *vc, uint32_t reason)
{
	struct GuestExitStat *st = vc->exitstat;
	uint8_t *hint = &vc->exitstat_hint[reason % GUEST_EXIT_HINTS];
	int i = *hint;

	if (st[i].reason != reason || !st[i].count) {
		for (i = 0; i < GUEST_EXIT_KINDS - 1; i++)
			if (st[i].count == 0 || st[i].reason == reason)
				break;
		*hint = i;
		st[i].reason = reason;
	}
	vc->exitstat_last = &st[i];
	return &st[i];
}

/*
 * After each slow-path exit: count it under its reason, with the host TSC
 * from tsc_exit (when guest_run saw the exit) to now (the monitor's exits
 * command). Returns a, for the run loop.
 */
enum vmexit_action vmm_exit_account(struct Env *e, enum vmexit_action a,
				    uint64_t tsc_exit)
{
	struct GuestExitStat *st =
		exit_stat_slot(e->env_vcpu, e->env_vcpu->exit.reason);

	st->count++;
	st->timed++;
	st->tsc += read_tsc() - tsc_exit;
	return a;
}

/* A fast-path exit whose reason is not in vc->exitstat_last: count it
 * under its reason, untimed (vmm_fast_account). */
void vmm_exit_count(struct Env *e)
{
	exit_stat_slot(e->env_vcpu, e->env_vcpu->exit.reason)->count++;
}
