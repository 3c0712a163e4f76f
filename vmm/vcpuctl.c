/*
 * A PC-kind VM's vCPUs as its VMM programs steer them (inc/vmmctl.h):
 * VMMCTL_PC (the VM's kind, and each vCPU's run page), VMMCTL_VCPU_ADD
 * (one more vCPU, waiting for SIPI), VMMCTL_VCPU_START (INIT + SIPI: the
 * guest's emulated LAPIC sent it), VMMCTL_VCPU_INIT, VMMCTL_VCPU_KICK
 * (another vCPU's VMM process raised an interrupt for it: hand it over
 * soon) and the parking of a vCPU that halts with interrupts off. The
 * hand-off itself is vmm/devexit.c's.
 *
 * Who may do what. The VM's creator is the parent of vCPU 0's env (the
 * VMM program that made it, the first to call VMMCTL_PC). Only the
 * creator adds vCPUs and names their run pages (before it forks the
 * processes that will run them, so they share the pages); a VMM process
 * of the VM is the creator or a child of it, and only those start or
 * INIT a vCPU, or become a vCPU's VMM (devexit_vcpu_run).
 *
 * Invariants:
 * - vCPUs are added only while vCPU 0 has never run, the VM is PC-kind,
 *   and it has fewer than VM_MAX_VCPUS; each new one has the reset state
 *   (vmm/reset.h), waits for SIPI (pc.sipi_wait), is not runnable and
 *   is the creator's child. A failed add leaves nothing behind: no env,
 *   no page, the VM as it was.
 * - sipi_wait is cleared only here (VMMCTL_VCPU_START), after the
 *   vendor wrote the start-up state; the vCPU is made runnable only when
 *   its VMM process already sleeps in sys_vcpu_run for it and the VM is
 *   not paused (else the first sys_vcpu_run, or resume, does it).
 * - A vCPU's run page is named once, by the creator, is a page of the
 *   creator's and is no other vCPU's of the same VM.
 * - A kick sets pc.kicked only on a vCPU that runs or is runnable (its
 *   VMM process sleeps in sys_vcpu_run, no exit is with it), and sends
 *   the kick IPI only to the host CPU that runs it, once per mark: a
 *   storm of kicks costs the target at most one hand-off each and never
 *   an IPI it has not answered. A halted vCPU is handed over at once.
 * - A parked vCPU (pc.parked) is never made runnable again; the VM
 *   stops when every vCPU is parked or waits for SIPI (none could ever
 *   run again: only a running vCPU sends the IPIs that start others).
 */
#include <inc/error.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/mmu.h>
#include <inc/vmrun.h>
#include <inc/vmmctl.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <kern/lapic.h>
#include <kern/cpu.h>
#include <inc/trap.h>
#include <vmm/vmm.h>
#include <vmm/devexit.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>
#include <vmm/vcpuctl.h>

/* The TSC rate if the boot measured none: 1 GHz (as vmm.c assumes). */
#define TSC_PER_MS_UNKNOWN 1000000
/* The start-up IPI's vector is the page of the AP's first instruction:
 * CS.selector = vector << 8, so CS.base = vector << 12 (SDM Vol. 3A
 * 10.6.1, 9.4.4). */
#define SIPI_VECTOR_TO_CS_SHIFT 8

/* The env id of vm's creator (vCPU 0's parent), or 0. */
static envid_t creator_of(struct Vm *vm)
{
	struct Env *boot = vm_boot_env(vm);

	return boot ? boot->env_parent_id : 0;
}

/* Is env v one of vm's VMM processes (its creator or a child of it)? */
bool vcpuctl_may_run(struct Vm *vm, const struct Env *v)
{
	envid_t c = creator_of(vm);

	return c != 0 && (v->env_id == c || v->env_parent_id == c);
}

/* The vCPU of vm that env id `id` names, or NULL (the VM's id names
 * vCPU 0: it is vCPU 0's env id). */
static struct Vcpu *vcpu_named(struct Vm *vm, int64_t id)
{
	struct Env *e;

	if (id <= 0 || envid2env(id, &e, false) < 0 ||
	    e->env_type != ENV_TYPE_GUEST || !e->env_vcpu ||
	    e->env_vcpu->vm != vm)
		return NULL;
	return e->env_vcpu;
}

/* The run page the caller offers at va: a page of its own, user-writable;
 * NULL if not. */
static struct PageInfo *run_page(void *va)
{
	struct PageInfo *pp;
	pte_t *pte;

	if (PGOFF(va) || (uintptr_t)va >= UTOP ||
	    !(pp = page_lookup(curenv->env_pml4e, va, &pte)) ||
	    (*pte & (PTE_U | PTE_W)) != (PTE_U | PTE_W))
		return NULL;
	return pp;
}

/* Is pp already the run page of one of vm's vCPUs? */
static bool run_page_taken(struct Vm *vm, struct PageInfo *pp)
{
	int i;

	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpu[i] && vm->vcpu[i]->pc.run_pg == pp)
			return true;
	return false;
}

/* vc's run page is pp (the caller's, checked): hold it, start it. */
static void run_page_take(struct Vcpu *vc, struct PageInfo *pp)
{
	struct vmrun *run = page2kva(pp);

	static_assert(sizeof(struct vmrun) <= PGSIZE);
	pp->pp_ref++;
	memset(run, 0, sizeof(*run));
	run->version = VMRUN_ABI_VERSION;
	run->intr_delivered = VMRUN_NO_INTR;
	run->tsc_per_ms = tsc_per_ms ? tsc_per_ms : TSC_PER_MS_UNKNOWN;
	vc->pc.delivered = VMRUN_NO_INTR;
	vc->pc.run_pg = pp;
	vc->pc.run = run;
}

/*
 * VMMCTL_PC on vCPU `id` of vm. vCPU 0: make vm, not yet run, a PC-kind
 * VM of the caller's (its creator), the caller its VMM program. Another
 * vCPU: the creator names its run page; kind must be the VM's.
 */
int vcpuctl_pc(struct Vm *vm, int64_t id, void *arg, size_t len)
{
	struct Env *boot = vm_boot_env(vm);
	struct Vcpu *vc = vcpu_named(vm, id);
	struct PageInfo *pp;
	struct vmm_pc s;

	if (len != sizeof(s) || user_mem_check(curenv, arg, len, PTE_U) < 0)
		return -E_INVAL;
	memcpy(&s, arg, sizeof(s));
	if (s.kind <= VMM_KIND_JOS || s.kind >= VMM_NKINDS || !boot || !vc ||
	    boot->env_parent_id != curenv->env_id || vc->pc.run_pg)
		return -E_INVAL;
	if (vc->index == 0 ? boot->env_runs > 0 || vm->pc.kind != VMM_KIND_JOS
			   : s.kind != vm->pc.kind || !vc->pc.sipi_wait)
		return -E_INVAL;
	if (!(pp = run_page(s.run)) || run_page_taken(vm, pp))
		return -E_INVAL;
	run_page_take(vc, pp);
	if (vc->index == 0) {
		vc->pc.vmm = curenv->env_id;
		vm->pc.kind = s.kind;
	}
	return 0;
}

/*
 * VMMCTL_VCPU_ADD: a new vCPU of vm, env a child of the caller (the
 * creator), waiting for SIPI. Its env id, or -E_INVAL, -E_NO_MEM,
 * -E_NO_FREE_ENV with nothing allocated.
 */
int vcpuctl_add(struct Vm *vm)
{
	struct Env *boot = vm_boot_env(vm), *e;
	uint64_t overhead = vm->overhead_pages;
	int r;

	if (!boot || boot->env_runs > 0 || vm->pc.kind == VMM_KIND_JOS ||
	    boot->env_parent_id != curenv->env_id ||
	    vm->nvcpus >= VM_MAX_VCPUS)
		return -E_INVAL;
	if ((r = env_alloc(&e, curenv->env_id, ENV_TYPE_GUEST)) < 0)
		return r;
	if ((r = vm_add_vcpu(vm, e)) < 0) {
		env_free(e);
		return r;
	}
	if ((r = vmm_ops->guest_init(e, 0)) < 0) {
		/* Unwound by hand: env_free of a vCPU ends its whole VM. */
		vmm_ops->guest_free(e);
		vm_unadd_vcpu(e);
		vm->overhead_pages = overhead;
		env_free(e);
		return r;
	}
	vmm_reset_regs(e, 0);
	e->env_vcpu->pc.sipi_wait = true;
	e->env_vcpu->pc.delivered = VMRUN_NO_INTR;
	e->env_status = ENV_NOT_RUNNABLE;
	cprintf("vmm: guest %08x: vCPU %d added (env %08x), waits for "
		"SIPI\n", vm->id, e->env_vcpu->index, e->env_id);
	return e->env_id;
}

/* vCPU `id` of vm, if the caller is one of vm's VMM processes and vm is
 * PC-kind; else NULL. */
static struct Vcpu *vcpu_steered(struct Vm *vm, int64_t id)
{
	struct Vcpu *vc = vcpu_named(vm, id);

	if (!vc || vm->pc.kind == VMM_KIND_JOS ||
	    !vcpuctl_may_run(vm, curenv))
		return NULL;
	return vc;
}

/*
 * VMMCTL_VCPU_START: vCPU `id` leaves wait-for-SIPI in real mode at
 * (vector << 8):0. 0; -E_BUSY if it does not wait (a SIPI to a running
 * CPU is ignored, as on hardware); -E_INVAL for a bad caller or vector.
 */
int vcpuctl_start(struct Vm *vm, int64_t id, void *arg, size_t len)
{
	struct Vcpu *vc = vcpu_steered(vm, id);
	struct Env *e;
	uint32_t vec;
	int r;

	if (!vc || len != sizeof(vec) ||
	    user_mem_check(curenv, arg, len, PTE_U) < 0)
		return -E_INVAL;
	memcpy(&vec, arg, sizeof(vec));
	if (vec > VMM_SIPI_VECTOR_MAX)
		return -E_INVAL;
	if (!vc->pc.sipi_wait)
		return -E_BUSY;
	e = vc->env;
	if ((r = vmm_ops->real_start(e, vec << SIPI_VECTOR_TO_CS_SHIFT)) < 0)
		return r;
	vmm_reset_regs(e, 0);
	vc->pc.sipi_wait = false;
	if (vc->pc.vmm_blocked && !vm->paused &&
	    e->env_status == ENV_NOT_RUNNABLE)
		e->env_status = ENV_RUNNABLE;
	return 0;
}

/*
 * VMMCTL_VCPU_INIT: vCPU `id` back to wait-for-SIPI. In this slice only
 * one that waits already (0); one that has run: -E_BUSY.
 */
int vcpuctl_init(struct Vm *vm, int64_t id)
{
	struct Vcpu *vc = vcpu_steered(vm, id);

	if (!vc)
		return -E_INVAL;
	return vc->pc.sipi_wait ? 0 : -E_BUSY;
}

/*
 * VMMCTL_VCPU_KICK: vCPU `id` is handed to its VMM process as soon as
 * possible (an interrupt for it is pending in the device model): a
 * halted one now; a running one at the exit the kick IPI causes; a
 * runnable one at its next entry (devexit_before_entry). One that waits
 * for SIPI, is parked, or whose exit its process has, needs nothing.
 * 0, or -E_INVAL for a bad caller or a vCPU of another VM.
 */
int vcpuctl_kick(struct Vm *vm, int64_t id)
{
	struct Vcpu *vc = vcpu_steered(vm, id);
	struct VcpuPC *pc;
	struct Env *e;

	if (!vc)
		return -E_INVAL;
	pc = &vc->pc;
	e = vc->env;
	if (pc->sipi_wait || pc->parked || !pc->vmm_blocked || pc->kicked)
		return 0;
	if (pc->halted) {
		if (e->env_status == ENV_NOT_RUNNABLE)
			devexit_wake_halted(e);
		return 0;
	}
	if (pc->waiting)
		return 0;
	pc->kicked = true;
	pc->nkicks++;
	/* Running elsewhere (curenv is the caller, so not here): make
	 * that CPU exit the guest. */
	if (e->env_status == ENV_RUNNING && e->env_cpunum >= 0 &&
	    e->env_cpunum < ncpu && e->env_cpunum != cpunum())
		lapic_ipi(cpus[e->env_cpunum].cpu_apicid,
			  IRQ_OFFSET + IRQ_KICK);
	return 0;
}

/*
 * HLT with interrupts off on vCPU e of a VM with several (hook in
 * vmexit_hlt, past the instruction): only an NMI, SMI or INIT could
 * wake it, none of which reaches a running vCPU here, so it parks for
 * good; the VM goes on while another vCPU can run, and stops when none
 * can.
 */
enum vmexit_action vcpuctl_park(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu, *o;
	struct Vm *vm = vc->vm;
	int i, stuck = 0;

	for (i = 0; i < vm->nvcpus; i++) {
		o = vm->vcpu[i];
		if (!o || o == vc || o->pc.parked || o->pc.sipi_wait)
			stuck++;
	}
	if (stuck == vm->nvcpus) {
		vmm_guest_stop(e, "HLT with interrupts disabled on every vCPU "
			       "(%d): the guest can never wake up",
			       vm->nvcpus);
		return VMEXIT_STOP;
	}
	vc->pc.parked = true;
	vc->pc.kicked = false;
	vc->streak = 0;
	e->env_status = ENV_NOT_RUNNABLE;
	cprintf("vmm: guest %08x: vCPU %d parked (HLT with interrupts "
		"disabled)\n", vm->id, vc->index);
	return VMEXIT_BLOCK;
}
