/*
 * A PC-kind guest's device report: the VMM program that emulates its
 * devices counts each access in a page of its own (inc/devstats.h,
 * vmmdev/bus.c) and names it once with VMMCTL_DEVSTATS; the monitor's
 * `devices ID` (vmm/vmmon.c, also `kmon devices ID`) prints it.
 *
 * Why a page and not a system call: the counts change at every device
 * exit, the report is read rarely; an increment in shared memory costs
 * the exit nothing, and the kernel reads the page only when asked.
 *
 * Invariants:
 * - vm->devstats_pg is NULL, or the page the VM's VMM program named,
 *   with one reference held from VMMCTL_DEVSTATS until the VM goes
 *   (devstats_vm_free, from vm_put). Only the VM's first VMM program
 *   (vCPU 0's, devexit_vm_vmm) may name one, once, and only a page mapped user-writable in its own space.
 * - The kernel never writes the page and never acts on what it holds:
 *   it prints from a copy (snap) whose counts it bounds by their arrays
 *   and whose names it bounds and filters to printable bytes. A VMM
 *   program that writes garbage garbles only its own guest's report.
 * - snap is used under the big kernel lock only (the monitor holds it),
 *   so one copy serves every caller.
 */
#include <inc/assert.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/mmu.h>
#include <inc/devstats.h>
#include <inc/vmmctl.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>
#include <vmm/devexit.h>
#include <vmm/devstats.h>

#define RANGE_TEXT 48
#define PRINTABLE_FIRST ' '
#define PRINTABLE_LAST '~'

static struct devstats snap;

static_assert(sizeof(struct devstats) <= PGSIZE);

int devstats_setup(struct Vm *vm, void *arg, size_t len)
{
	struct PageInfo *pp;
	pte_t *pte;

	if (len != sizeof(struct devstats) || vm->pc.kind == VMM_KIND_JOS ||
	    devexit_vm_vmm(vm) != curenv->env_id || vm->devstats_pg)
		return -E_INVAL;
	if (PGOFF(arg) || (uintptr_t)arg >= UTOP ||
	    !(pp = page_lookup(curenv->env_pml4e, arg, &pte)) ||
	    (*pte & (PTE_U | PTE_W)) != (PTE_U | PTE_W))
		return -E_INVAL;
	pp->pp_ref++;
	vm->devstats_pg = pp;
	return 0;
}

void devstats_vm_free(struct Vm *vm)
{
	if (vm->devstats_pg)
		page_decref(vm->devstats_pg);
	vm->devstats_pg = NULL;
}

/* name, at most DEVSTATS_NAME_MAX - 1 bytes, non-printable ones as '?'. */
static void clean_name(char *out, const char *name)
{
	int i;

	for (i = 0; i < DEVSTATS_NAME_MAX - 1 && name[i]; i++)
		out[i] = name[i] >= PRINTABLE_FIRST && name[i] <= PRINTABLE_LAST
				 ? name[i] : '?';
	out[i] = '\0';
}

static const char *space_name(uint32_t space)
{
	return space == DEVSTATS_PIO ? "port"
	       : space == DEVSTATS_MMIO ? "mmio" : "?";
}

static void print_row(const char *name, uint32_t space, uint64_t base,
		      uint64_t len, uint64_t nreads, uint64_t nwrites)
{
	char range[RANGE_TEXT];

	if (len > 1)
		snprintf(range, sizeof(range), "%s 0x%lx-0x%lx",
			 space_name(space), base, base + len - 1);
	else
		snprintf(range, sizeof(range), "%s 0x%lx", space_name(space),
			 base);
	cprintf("  %-16s %-28s %-12lu %lu\n", name, range, nreads, nwrites);
}

/* snap, bounded: each device, then each address no device claims. */
static void print_snap(void)
{
	char name[DEVSTATS_NAME_MAX];
	uint32_t i, ndevs = MIN(snap.ndevs, (uint32_t)DEVSTATS_DEVS_MAX),
		    nun = MIN(snap.nunclaimed,
				      (uint32_t)DEVSTATS_UNCLAIMED_MAX);

	cprintf("  %-16s %-28s %-12s %s\n", "device", "range", "reads",
		"writes");
	for (i = 0; i < ndevs; i++) {
		struct devstats_dev *d = &snap.dev[i];

		clean_name(name, d->name);
		print_row(name, d->space, d->base, d->len, d->nreads,
			  d->nwrites);
	}
	for (i = 0; i < nun; i++) {
		struct devstats_unclaimed *u = &snap.unclaimed[i];

		print_row("unclaimed", u->space, u->addr, 1, u->nreads,
			  u->nwrites);
	}
	if (snap.other_reads || snap.other_writes)
		cprintf("  unclaimed, further addresses: %lu reads, %lu "
			"writes\n", snap.other_reads, snap.other_writes);
	cprintf("  (%u devices; %u addresses no device claims: they read as "
		"all ones, writes are dropped)\n", ndevs, nun);
}

void devstats_print(struct Vm *vm)
{
	cprintf("guest %08x %s (%s): ", vm->id, vm->name,
		vmm_kind_name(vm->pc.kind));
	if (vm->pc.kind == VMM_KIND_JOS) {
		cprintf("paravirtual, no emulated devices\n");
		return;
	}
	if (!vm->devstats_pg) {
		cprintf("its VMM program (env %08x) keeps no device report\n",
			devexit_vm_vmm(vm));
		return;
	}
	memcpy(&snap, page2kva(vm->devstats_pg), sizeof(snap));
	if (snap.version != DEVSTATS_ABI_VERSION) {
		cprintf("device report of version %u, not %u\n", snap.version,
			DEVSTATS_ABI_VERSION);
		return;
	}
	cprintf("devices as its VMM program (env %08x) counts them\n",
		devexit_vm_vmm(vm));
	print_snap();
}
