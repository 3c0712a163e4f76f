/*
 * Monitor commands that show what the VMM sees (kern/monitor.c lists
 * them): vms, vmstate ID[.CPU], gpa ID ADDR, gva ID[.CPU] ADDR,
 * exits ID[.CPU], devices ID.
 *
 * Invariants:
 * - They only read: no guest state, table or statistic changes (except
 *   that guest_gpa2kva fills a guest RAM page the guest never touched).
 * - A guest is named by its env id (hex, as vms prints it); ID.CPU (CPU
 *   decimal) names vCPU CPU of the VM that ID is a vCPU of, plain ID the
 *   vCPU whose env id it is (the VM's id: vCPU 0). Anything else, or an
 *   env that is not a live guest, is an error message.
 * - vms prints one line per VM (however many vCPUs), then its memory
 *   and, for a VM of several vCPUs, a line per vCPU.
 * - Guest memory is read only through the checked helpers of vmm/ept.c
 *   and vmm/gva.c.
 */
#include <inc/stdio.h>
#include <inc/string.h>
#include <inc/error.h>

#include <kern/env.h>
#include <kern/monitor.h>
#include <vmm/vmm.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>
#include <vmm/ept.h>
#include <vmm/gva.h>
#include <vmm/vmcons.h>
#include <vmm/devstats.h>
#include <inc/vmmctl.h>

#define HEX 16
#define DECIMAL 10

/* The same word `vms` shows (vmm_guest_state, vmm/vmctl.c). */
static const char *guest_state(struct Env *e)
{
	if (e->env_status == ENV_DYING)
		return "dying";
	return vmm_state_name(vmm_guest_state(e->env_vcpu->vm));
}

static bool is_guest(struct Env *e)
{
	return e->env_type == ENV_TYPE_GUEST && e->env_vcpu &&
	       e->env_status != ENV_FREE;
}

/* The env of vCPU ".CPU" (text at dot) of e's VM, or NULL. */
static struct Env *vcpu_of(struct Env *e, const char *dot)
{
	struct Vm *vm = e->env_vcpu->vm;
	char *end;
	long cpu;

	if (dot[1] < '0' || dot[1] > '9')
		return NULL;
	cpu = strtol(dot + 1, &end, DECIMAL);
	if (*end || cpu < 0 || cpu >= vm->nvcpus || !vm->vcpu[cpu])
		return NULL;
	e = vm->vcpu[cpu]->env;
	return e && is_guest(e) ? e : NULL;
}

/* argv[1] as a guest vCPU's env (ID or ID.CPU); prints why not and
 * returns NULL. */
static struct Env *guest_arg(int argc, char **argv, int need)
{
	struct Env *e;
	char *end;
	long id;

	if (argc != need) {
		cprintf("usage: %s ID%s (ID.CPU: its vCPU CPU)\n", argv[0],
			need > 2 ? " ADDR" : "");
		return NULL;
	}
	id = strtol(argv[1], &end, HEX);
	if ((*end && *end != '.') || end == argv[1] ||
	    envid2env(id, &e, false) < 0 || !is_guest(e) ||
	    (*end == '.' && !(e = vcpu_of(e, end)))) {
		cprintf("%s: no guest %s (vms lists them)\n", argv[0], argv[1]);
		return NULL;
	}
	return e;
}

/* The state word of the vCPU e runs (inc/vmmctl.h's). */
static const char *vcpu_state(struct Env *e)
{
	return vmm_vcpu_state_name(vmm_vcpu_state(e->env_vcpu));
}

static bool addr_arg(char *arg, uint64_t *addr)
{
	char *end;

	/* strtol saturates nothing: it accumulates into a long, which
	 * holds any 64-bit pattern. */
	*addr = (uint64_t)strtol(arg, &end, HEX);
	if (*arg == '\0' || *end) {
		cprintf("bad address %s (hex)\n", arg);
		return false;
	}
	return true;
}

/* A VM of several vCPUs: a line per vCPU (env, state, exits). */
static void vms_vcpus(struct Vm *vm)
{
	int i;

	if (vm->nvcpus < 2)
		return;
	for (i = 0; i < vm->nvcpus; i++) {
		struct Vcpu *vc = vm->vcpu[i];

		if (vc && vc->env)
			cprintf("          vCPU %d  env %08x  %-10s  %lu exits\n",
				i, vc->env->env_id, vcpu_state(vc->env),
				vc->nexits);
	}
}

static uint64_t vm_exits(struct Vm *vm)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpu[i])
			n += vm->vcpu[i]->nexits;
	return n;
}

int mon_vms(int argc, char **argv, struct Trapframe *tf)
{
	struct Vm *vm;
	int n = 0;

	cprintf("ID        name             vendor  state       exits      "
		"memory  kind  vCPUs\n");
	/* Each VM's line, its host memory beyond its RAM, its vCPUs. */
	for (vm = vm_next(NULL); vm; vm = vm_next(vm)) {
		struct Env *e = vm_boot_env(vm);

		if (!e || !is_guest(e))
			continue;
		cprintf("%08x  %-15s  %-6s  %-10s  %-9lu  %lu MiB  %s  %d\n",
			vm->id, vm->name, vmm_ops->name, guest_state(e),
			vm_exits(vm), vm->gphysz >> 20,
			vmm_kind_name(vm->pc.kind), vm->nvcpus);
		cprintf("          ");
		vmm_print_overhead(vm);
		cprintf("\n");
		vms_vcpus(vm);
		n++;
	}
	if (n == 0)
		cprintf("(no guests)\n");
	return 0;
}

int mon_vmstate(int argc, char **argv, struct Trapframe *tf)
{
	struct Env *e = guest_arg(argc, argv, 2);
	struct guest_dbgstate s;
	struct PushRegs *r;
	struct Vcpu *vc;

	if (!e)
		return 0;
	vc = e->env_vcpu;
	r = &e->env_tf.tf_regs;
	cprintf("guest %08x %s (%s), %s, as of its last exit (%s)\n",
		vc->vm->id, vc->vm->name, vmm_ops->name, guest_state(e),
		vc->nexits ? vmm_ops->exit_name(vc->exit.reason)
			  : "none yet");
	cprintf("  vCPU %d of %d (env %08x): %s\n", vc->index,
		vc->vm->nvcpus, e->env_id, vcpu_state(e));
	cprintf("  rip %016lx  rsp %016lx  rflags %016lx\n", e->env_tf.tf_rip,
		e->env_tf.tf_rsp, e->env_tf.tf_eflags);
	cprintf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n",
		r->reg_rax, r->reg_rbx, r->reg_rcx, r->reg_rdx);
	cprintf("  rsi %016lx  rdi %016lx  rbp %016lx\n", r->reg_rsi,
		r->reg_rdi, r->reg_rbp);
	if (vmm_ops->dbg_read(e, &s) < 0) {
		cprintf("  control state: not readable now (not started, or "
			"running on another CPU)\n");
	} else {
		cprintf("  cr0 %016lx  cr2 %016lx  cr3 %016lx  cr4 %016lx\n",
			s.cr0, s.cr2, s.cr3, s.cr4);
		cprintf("  efer %016lx\n", s.efer);
		cprintf("  cs %04x  ss %04x  ds %04x  es %04x  fs %04x  gs "
			"%04x  fs.base %lx  gs.base %lx\n",
			s.cs, s.ss, s.ds, s.es, s.fs, s.gs, s.fs_base,
			s.gs_base);
	}
	cprintf("  host memory: ");
	vmm_print_overhead(vc->vm);
	cprintf("\n");
	if (vc->exit.redeliver.type != VMM_EVENT_NONE)
		cprintf("  pending event: kind %u vector %u, ",
			vc->exit.redeliver.type, vc->exit.redeliver.vector);
	else
		cprintf("  pending event: none, ");
	cprintf("timer interrupt pending: %s\n",
		vc->timer_pending ? "yes" : "no");
	return 0;
}

int mon_gpa(int argc, char **argv, struct Trapframe *tf)
{
	struct Env *e = guest_arg(argc, argv, 3);
	uint64_t gpa;

	if (e && addr_arg(argv[2], &gpa))
		guest_gpa_walk_print(e, gpa);
	return 0;
}

int mon_gva(int argc, char **argv, struct Trapframe *tf)
{
	struct Env *e = guest_arg(argc, argv, 3);
	struct guest_dbgstate s;
	uint64_t gva, gpa;
	int r;

	if (!e || !addr_arg(argv[2], &gva))
		return 0;
	if (vmm_ops->dbg_read(e, &s) < 0) {
		cprintf("gva: guest %08x's CR3 cannot be read now\n",
			e->env_id);
		return 0;
	}
	cprintf("gva 0x%lx: guest cr3 0x%lx, paging %s\n", gva, s.cr3,
		(s.cr0 & CR0_PG) ? "on" : "off");
	if ((r = guest_gva2gpa(e, &s, gva, &gpa, true)) < 0) {
		cprintf("gva 0x%lx: not mapped by the guest (%e)\n", gva, r);
		return 0;
	}
	cprintf("gva 0x%lx -> gpa 0x%lx\n", gva, gpa);
	guest_gpa_walk_print(e, gpa);
	return 0;
}

int mon_exits(int argc, char **argv, struct Trapframe *tf)
{
	struct Env *e = guest_arg(argc, argv, 2);
	struct GuestExitStat *st;
	int i;

	if (!e)
		return 0;
	st = e->env_vcpu->exitstat;
	cprintf("guest %08x: %lu exits (vCPU %d, env %08x)\n",
		e->env_vcpu->vm->id, e->env_vcpu->nexits, e->env_vcpu->index,
		e->env_id);
	cprintf("  reason                          count       avg TSC "
		"(slow-path exits only; fast-path CPUID and hypercall exits "
		"are counted, not timed)\n");
	for (i = 0; i < GUEST_EXIT_KINDS && st[i].count; i++)
		cprintf("  %-4u %-26s %-10lu  %lu\n", st[i].reason,
			vmm_ops->exit_name(st[i].reason), st[i].count,
			st[i].timed ? st[i].tsc / st[i].timed : 0);
	return 0;
}

int mon_devices(int argc, char **argv, struct Trapframe *tf)
{
	struct Env *e = guest_arg(argc, argv, 2);

	if (e)
		devstats_print(e->env_vcpu->vm);
	return 0;
}
