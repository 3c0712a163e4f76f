/*
 * Virtual machines: making one with its first vCPU, the list of live
 * VMs, finding one by id, and freeing one when its last vCPU goes
 * (vmm/vm.h says what a VM is and its invariants).
 *
 * The VM and its first vCPU share one page (struct vm_page): a VM costs
 * the host what one guest cost before the split. More vCPUs (SMP guests,
 * not in this tree) would each get a page of their own and a reference.
 */
#include <inc/error.h>
#include <inc/string.h>
#include <inc/assert.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>
#include <vmm/ept.h>
#include <vmm/vmcons.h>
#include <vmm/xstate.h>
#include <vmm/devexit.h>
#include <vmm/devstats.h>

struct vm_page {
	struct Vm vm;
	struct Vcpu vcpu0;
};
static_assert(sizeof(struct vm_page) <= PGSIZE);

/* Live VMs, oldest first; under the big kernel lock. */
static struct Vm *vm_list;

static void vm_append(struct Vm *vm)
{
	struct Vm **pp = &vm_list;

	while (*pp)
		pp = &(*pp)->next;
	vm->next = NULL;
	*pp = vm;
}

/* vCPU 0 of vm, run by env e. */
static void vcpu0_init(struct Vm *vm, struct Vcpu *vc, struct Env *e)
{
	vc->vm = vm;
	vc->env = e;
	vc->index = 0;
	vc->last_cpu = -1;
	vc->exitstat_last = vc->exitstat;
	xstate_init(vc);
	vm->vcpu[0] = vc;
	vm->nvcpus = 1;
	vm->refs = 1;
	e->env_vcpu = vc;
}

/*
 * Make env e the first vCPU of a new VM with gphysz bytes of empty
 * guest-physical memory (no console yet: vmcons_init). Returns 0,
 * -E_INVAL (e is a vCPU already, or gphysz is 0, not page-aligned or
 * beyond what the nested tables translate), or -E_NO_MEM with nothing
 * allocated.
 */
int vm_create(struct Env *e, uint64_t gphysz)
{
	struct PageInfo *pp;
	struct vm_page *p;
	int r;

	if (e->env_vcpu)
		return -E_INVAL;
	if (!(pp = page_alloc(ALLOC_ZERO)))
		return -E_NO_MEM;
	pp->pp_ref++;
	p = page2kva(pp);
	p->vm.page = pp;
	/* This page: host memory beyond guest RAM. */
	p->vm.overhead_pages = 1;
	if ((r = ept_vm_init(&p->vm, gphysz)) < 0) {
		page_decref(pp);
		return r;
	}
	p->vm.id = e->env_id;
	vcpu0_init(&p->vm, &p->vcpu0, e);
	vm_append(&p->vm);
	return 0;
}

static void vm_unlink(struct Vm *vm)
{
	struct Vm **pp;

	for (pp = &vm_list; *pp; pp = &(*pp)->next)
		if (*pp == vm) {
			*pp = vm->next;
			return;
		}
}

/*
 * Env e stops being a vCPU (the vendor's structures are gone already).
 * When it was its VM's last, the VM goes: console rings, guest memory,
 * nested tables, the page. Safe on an env that is no vCPU.
 */
void vm_put(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	struct Vm *vm;

	if (!vc)
		return;
	vm = vc->vm;
	e->env_vcpu = NULL;
	vm->vcpu[vc->index] = NULL;
	if (--vm->refs > 0)
		return;
	vm_unlink(vm);
	devexit_vm_free(vm);  /* devexit hook: the run page */
	devstats_vm_free(vm);  /* the device report page */
	vmcons_free(vm);
	ept_vm_free(vm);
	page_decref(vm->page);
}

/* Is the VM live: none of its vCPU envs freed or being destroyed? */
static bool vm_live(struct Vm *vm)
{
	int i;

	for (i = 0; i < vm->nvcpus; i++) {
		struct Env *e = vm->vcpu[i] ? vm->vcpu[i]->env : NULL;
		if (!e || e->env_status == ENV_FREE ||
		    e->env_status == ENV_DYING)
			return false;
	}
	return vm->nvcpus > 0;
}

/*
 * The live VM with this id; or, for the host file server, whose clients
 * are the vCPUs themselves, the live VM whose vCPU env has this id.
 * NULL if none.
 */
struct Vm *vm_find(int64_t id)
{
	struct Vm *vm;
	struct Env *e;

	if (id <= 0)
		return NULL;
	for (vm = vm_list; vm; vm = vm->next)
		if (vm->id == id)
			return vm_live(vm) ? vm : NULL;
	if (envid2env(id, &e, false) < 0 || e->env_type != ENV_TYPE_GUEST ||
	    !e->env_vcpu)
		return NULL;
	vm = e->env_vcpu->vm;
	return vm_live(vm) ? vm : NULL;
}

/* The live VM after vm in the list (vm NULL: the first), or NULL. */
struct Vm *vm_next(struct Vm *vm)
{
	for (vm = vm ? vm->next : vm_list; vm; vm = vm->next)
		if (vm_live(vm))
			return vm;
	return NULL;
}

/* The env of vm's first vCPU (the one `vmm` made), or NULL. */
struct Env *vm_boot_env(struct Vm *vm)
{
	return vm->vcpu[0] ? vm->vcpu[0]->env : NULL;
}

/* Does one of vm's vCPUs run on this CPU now (curenv)? */
bool vm_runs_here(struct Vm *vm)
{
	int i;

	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpu[i] && vm->vcpu[i]->env == curenv)
			return true;
	return false;
}

/*
 * Destroy every vCPU of vm (the VM goes with the last: vm_put). The one
 * running here, if any, last: env_destroy of curenv does not return.
 */
void vm_destroy(struct Vm *vm)
{
	struct Env *envs_of[VM_MAX_VCPUS], *self = NULL;
	int i, n = 0;

	/* vm may be freed by the first env_destroy: read it all first. */
	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpu[i])
			envs_of[n++] = vm->vcpu[i]->env;
	for (i = 0; i < n; i++) {
		if (envs_of[i] == curenv)
			self = envs_of[i];
		else
			env_destroy(envs_of[i]);
	}
	if (self)
		env_destroy(self);
}
