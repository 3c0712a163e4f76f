/*
 * Virtual machines: making one with its first vCPU, the list of live
 * VMs, finding one by id, and freeing one when its last vCPU goes
 * (vmm/vm.h says what a VM is and its invariants).
 *
 * The VM and its first vCPU share one page (struct vm_page): a VM costs
 * the host what one guest cost before the split. Each further vCPU (SMP
 * guests) gets a page of its own and holds a reference to the VM.
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

static_assert(sizeof(struct Vcpu) <= PGSIZE);

/* vCPU vm->nvcpus of vm (zeroed), run by env e: the VM's next. */
static void vcpu_init(struct Vm *vm, struct Vcpu *vc, struct Env *e)
{
	vc->vm = vm;
	vc->env = e;
	vc->index = vm->nvcpus;
	vc->last_cpu = -1;
	vc->exitstat_last = vc->exitstat;
	xstate_init(vc);
	vm->vcpu[vc->index] = vc;
	vm->nvcpus++;
	vm->refs++;
	e->env_vcpu = vc;
}

/*
 * Make env e (a new guest env, no vCPU yet) vm's next vCPU, in a zeroed
 * page of its own. Returns its index, or -E_INVAL (e is a vCPU, or vm
 * has VM_MAX_VCPUS), -E_NO_MEM with nothing allocated. The vendor's
 * part is the caller's (vmm_ops->guest_init).
 */
int vm_add_vcpu(struct Vm *vm, struct Env *e)
{
	struct PageInfo *pp;
	struct Vcpu *vc;

	if (e->env_vcpu || vm->nvcpus >= VM_MAX_VCPUS || vm->dying)
		return -E_INVAL;
	if (!(pp = page_alloc(ALLOC_ZERO)))
		return -E_NO_MEM;
	pp->pp_ref++;
	vc = page2kva(pp);
	vm->overhead_pages++;
	vcpu_init(vm, vc, e);
	return vc->index;
}

/* Undo vm_add_vcpu for e, vm's last vCPU, which never ran (a failed
 * VMMCTL_VCPU_ADD; its vendor part is gone already). */
void vm_unadd_vcpu(struct Env *e)
{
	struct Vm *vm = e->env_vcpu->vm;

	vm_put(e);
	vm->nvcpus--;
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
	vcpu_init(&p->vm, &p->vcpu0, e);
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
	/* A vCPU of its own page (not vCPU 0's, in the VM's). */
	if (vc->index != 0)
		page_decref(pa2page(PADDR(vc)));
	if (--vm->refs > 0)
		return;
	vm_unlink(vm);
	devstats_vm_free(vm);  /* the device report page */
	vmcons_free(vm);
	ept_vm_free(vm);
	page_decref(vm->page);
}

/* Is the VM live: none of its vCPU envs freed or being destroyed? */
static bool vm_live(struct Vm *vm)
{
	int i;

	if (vm->dying)
		return false;
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
 * Mark vm dying and put into out the env of each of its vCPUs but
 * except; returns how many. 0 when it was dying already: whoever marked
 * it destroys them. vm may be freed by the first env_destroy of them:
 * the caller reads it all here, first.
 */
int vm_doom(struct Vm *vm, const struct Env *except,
	    struct Env *out[VM_MAX_VCPUS])
{
	int i, n = 0;

	if (vm->dying)
		return 0;
	vm->dying = true;
	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpu[i] && vm->vcpu[i]->env != except)
			out[n++] = vm->vcpu[i]->env;
	return n;
}

/*
 * Destroy every vCPU of vm (the VM goes with the last: vm_put). The one
 * running here, if any, last: env_destroy of curenv does not return.
 */
void vm_destroy(struct Vm *vm)
{
	struct Env *envs_of[VM_MAX_VCPUS], *self = NULL;
	int i, n;

	/* Torn down already (the others are going): only the one running
	 * here, which was left for its own run loop, has to go now. */
	if (vm->dying) {
		if (vm_runs_here(vm))
			env_destroy(curenv);
		return;
	}
	n = vm_doom(vm, NULL, envs_of);
	for (i = 0; i < n; i++) {
		if (envs_of[i] == curenv)
			self = envs_of[i];
		else if (envs_of[i]->env_status != ENV_DYING)
			env_destroy(envs_of[i]);
	}
	if (self)
		env_destroy(self);
}
