/*
 * Monitor commands that show what the VMM sees (kern/monitor.c lists
 * them): vms, vmstate ID, gpa ID ADDR, gva ID ADDR, exits ID,
 * devices ID.
 *
 * Invariants:
 * - They only read: no guest state, table or statistic changes (except
 *   that guest_gpa2kva fills a guest RAM page the guest never touched).
 * - A guest is named by its env id (hex, as vms prints it); anything
 *   else, or an env that is not a live guest, is an error message.
 * - Guest memory is read only through the checked helpers of vmm/ept.c
 *   and vmm/gva.c.
 */
#include <inc/stdio.h>
#include <inc/string.h>
#include <inc/error.h>

#include <kern/env.h>
#include <kern/monitor.h>
#include <vmm/vmm.h>
#include <vmm/ept.h>
#include <vmm/gva.h>
#include <vmm/vmcons.h>
#include <vmm/devstats.h>
#include <inc/vmmctl.h>

#define HEX 16

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

/* argv[1] as a guest's env id; prints why not and returns NULL. */
static struct Env *guest_arg(int argc, char **argv, int need)
{
	struct Env *e;
	char *end;
	long id;

	if (argc != need) {
		cprintf("usage: %s ID%s\n", argv[0], need > 2 ? " ADDR" : "");
		return NULL;
	}
	id = strtol(argv[1], &end, HEX);
	if (*end || envid2env(id, &e, false) < 0 || !is_guest(e)) {
		cprintf("%s: no guest %s (vms lists them)\n", argv[0], argv[1]);
		return NULL;
	}
	return e;
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

int mon_vms(int argc, char **argv, struct Trapframe *tf)
{
	int i, n = 0;

	cprintf("ID        name             vendor  state       exits      "
		"memory  kind\n");
	/* Each guest's line, then its host memory beyond its RAM. */
	for (i = 0; i < NENV; i++) {
		struct Env *e = &envs[i];

		if (!is_guest(e))
			continue;
		cprintf("%08x  %-15s  %-6s  %-10s  %-9lu  %lu MiB  %s\n",
			e->env_id, e->env_vcpu->vm->name, vmm_ops->name,
			guest_state(e), e->env_vcpu->nexits,
			e->env_vcpu->vm->gphysz >> 20,
			vmm_kind_name(e->env_vcpu->vm->pc.kind));
		cprintf("          ");
		vmm_print_overhead(e->env_vcpu->vm);
		cprintf("\n");
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
		e->env_id, vc->vm->name, vmm_ops->name, guest_state(e),
		vc->nexits ? vmm_ops->exit_name(vc->exit.reason)
			  : "none yet");
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
	cprintf("guest %08x: %lu exits\n", e->env_id, e->env_vcpu->nexits);
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
