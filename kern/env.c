/*
 * Environments: the kernel's processes.
 *
 * Invariants:
 * - envs[NENV] is mapped read-only at UENVS; a slot is on env_free_list
 *   iff its status is ENV_FREE.
 * - A live env's address space shares the kernel's upper-half PML4 entries
 *   (and the UENVS/UPAGES slots); PML4 entry UVPT_INDEX maps the PML4
 *   itself, read-only to the user. Everything the env owns lies below UTOP
 *   and is freed by env_free.
 * - curenv is the env this CPU runs (or last ran) and is only changed with
 *   the kernel lock held. An env runs on at most one CPU at a time: it is
 *   ENV_RUNNING exactly while some CPU has it as curenv.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/assert.h>
#include <inc/elf.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <kern/trap.h>
#include <kern/monitor.h>
#include <kern/sched.h>
#include <kern/cpu.h>
#include <kern/spinlock.h>
#include <vmm/vmm.h>
#include <vmm/devexit.h>

struct Env *envs;
static struct Env *env_free_list;
/* One past the highest envs[] slot ever allocated (kern/env.h). */
int env_slots_used;
bool env_msgs = true;

/* The generation count occupies the bits above the env index. */
#define ENVGENSHIFT 12
static_assert((1 << ENVGENSHIFT) >= NENV);

/*
 * Convert an envid to an env pointer. envid 0 means the current env.
 * With checkperm, the caller must be the env itself or its parent.
 * Returns 0 on success, -E_BAD_ENV otherwise (*env_store = NULL).
 */
int envid2env(envid_t envid, struct Env **env_store, bool checkperm)
{
	struct Env *e;

	if (envid == 0) {
		*env_store = curenv;
		return 0;
	}
	e = &envs[ENVX(envid)];
	if (e->env_status == ENV_FREE || e->env_id != envid ||
	    (checkperm && e != curenv &&
	     e->env_parent_id != curenv->env_id)) {
		*env_store = NULL;
		return -E_BAD_ENV;
	}
	*env_store = e;
	return 0;
}

/* All envs free, on the list in order, so envs[0] is allocated first. */
void env_init(void)
{
	int i;

	env_free_list = NULL;
	for (i = NENV - 1; i >= 0; i--) {
		envs[i].env_id = 0;
		envs[i].env_status = ENV_FREE;
		envs[i].env_link = env_free_list;
		env_free_list = &envs[i];
	}
}

/* A fresh address space: the kernel's half plus the recursive slot. */
static int env_setup_vm(struct Env *e)
{
	struct PageInfo *pp = page_alloc(ALLOC_ZERO);
	int i;

	if (!pp)
		return -E_NO_MEM;
	pp->pp_ref++;
	e->env_pml4e = page2kva(pp);
	e->env_cr3 = page2pa(pp);
	for (i = PML4X(UENVS); i < NPTENTRIES; i++)
		e->env_pml4e[i] = kern_pml4[i];
	e->env_pml4e[UVPT_INDEX] = e->env_cr3 | PTE_P | PTE_U;
	return 0;
}

/*
 * Allocate and initialise an env with an empty address space.
 * Returns 0, -E_NO_FREE_ENV or -E_NO_MEM.
 */
int env_alloc(struct Env **newenv_store, envid_t parent_id, enum EnvType type)
{
	struct Env *e = env_free_list;
	int32_t generation;
	int r;

	if (!e)
		return -E_NO_FREE_ENV;
	if ((r = env_setup_vm(e)) < 0)
		return r;

	generation = (e->env_id + (1 << ENVGENSHIFT)) & ~(NENV - 1);
	if (generation <= 0) /* wrapped around: never hand out id <= 0 */
		generation = 1 << ENVGENSHIFT;
	e->env_id = generation | (e - envs);
	e->env_parent_id = parent_id;
	e->env_type = type;
	e->env_status = ENV_RUNNABLE;
	e->env_runs = 0;
	e->env_cpunum = -1;

	/* Ring 3, flat segments, interrupts on, no I/O privilege. */
	memset(&e->env_tf, 0, sizeof(e->env_tf));
	e->env_tf.tf_ds = GD_UD | 3;
	e->env_tf.tf_es = GD_UD | 3;
	e->env_tf.tf_ss = GD_UD | 3;
	e->env_tf.tf_rsp = USTACKTOP;
	e->env_tf.tf_cs = GD_UT | 3;
	e->env_tf.tf_eflags = FL_IF;

	e->env_pgfault_upcall = NULL;
	e->env_ipc_recving = false;
	e->env_ipc_dstva = NULL;
	e->env_ipc_value = 0;
	e->env_ipc_from = 0;
	e->env_ipc_perm = 0;
	e->env_ipc_handoff = 0;
	e->env_vcpu = NULL;

	env_free_list = e->env_link;
	e->env_link = NULL;
	env_slots_used = MAX(env_slots_used, (int)(e - envs) + 1);
	*newenv_store = e;

	if (env_msgs)
		cprintf("[%08x] new env %08x\n", curenv ? curenv->env_id : 0,
			e->env_id);
	return 0;
}

/*
 * Give env e zeroed, user-writable pages covering [va, va + len).
 * Returns 0 or -E_NO_MEM (pages already mapped are kept).
 */
static int region_alloc(struct Env *e, uintptr_t va, size_t len)
{
	uintptr_t p;

	for (p = ROUNDDOWN(va, PGSIZE); p < ROUNDUP(va + len, PGSIZE);
	     p += PGSIZE) {
		struct PageInfo *pp;
		if (page_lookup(e->env_pml4e, (void *)p, NULL))
			continue;
		if (!(pp = page_alloc(ALLOC_ZERO)))
			return -E_NO_MEM;
		if (page_insert(e->env_pml4e, pp, (void *)p,
				PTE_U | PTE_W) < 0) {
			page_free(pp);
			return -E_NO_MEM;
		}
	}
	return 0;
}

/* Copy len bytes to va in e's (already mapped) memory. */
static void copy_to_env(struct Env *e, uintptr_t va, const uint8_t *src,
			size_t len)
{
	while (len > 0) {
		struct PageInfo *pp = page_lookup(e->env_pml4e, (void *)va, NULL);
		size_t n = MIN(len, PGSIZE - PGOFF(va));

		assert(pp);
		memcpy((uint8_t *)page2kva(pp) + PGOFF(va), src, n);
		va += n;
		src += n;
		len -= n;
	}
}

/* Does ELF image [binary, binary + size) describe a loadable program? */
static bool elf_valid(const uint8_t *binary, size_t size)
{
	const struct Elf *elf = (const struct Elf *)binary;
	const struct Proghdr *ph;
	int i;

	if (size < sizeof(*elf) || elf->e_magic != ELF_MAGIC)
		return false;
	if (elf->e_phoff > size ||
	    elf->e_phnum * sizeof(*ph) > size - elf->e_phoff)
		return false;
	ph = (const struct Proghdr *)(binary + elf->e_phoff);
	for (i = 0; i < elf->e_phnum; i++, ph++) {
		if (ph->p_type != ELF_PROG_LOAD)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > size ||
		    ph->p_filesz > size - ph->p_offset ||
		    ph->p_va >= UTOP || ph->p_memsz > UTOP - ph->p_va)
			return false;
	}
	return elf->e_entry < UTOP;
}

/*
 * Load an ELF program into e's address space and give it a one-page
 * stack. Returns 0, -E_INVAL for a malformed image, or -E_NO_MEM.
 */
static int load_icode(struct Env *e, const uint8_t *binary, size_t size)
{
	const struct Elf *elf = (const struct Elf *)binary;
	const struct Proghdr *ph;
	int i, r;

	if (!elf_valid(binary, size))
		return -E_INVAL;
	ph = (const struct Proghdr *)(binary + elf->e_phoff);
	for (i = 0; i < elf->e_phnum; i++, ph++) {
		if (ph->p_type != ELF_PROG_LOAD)
			continue;
		if ((r = region_alloc(e, ph->p_va, ph->p_memsz)) < 0)
			return r;
		/* Pages are zeroed, so the bss needs nothing more. */
		copy_to_env(e, ph->p_va, binary + ph->p_offset, ph->p_filesz);
	}
	e->env_tf.tf_rip = elf->e_entry;
	return region_alloc(e, USTACKTOP - PGSIZE, PGSIZE);
}

/*
 * Create an env from an ELF image linked into the kernel. Used at boot,
 * so failure is fatal.
 */
void env_create(const uint8_t *binary, size_t size, enum EnvType type)
{
	struct Env *e;
	int r;

	if ((r = env_alloc(&e, 0, type)) < 0)
		panic("env_create: %e", r);
	if ((r = load_icode(e, binary, size)) < 0)
		panic("env_create: cannot load program: %e", r);
	/* The file system server drives the disk with in/out. */
	if (type == ENV_TYPE_FS)
		e->env_tf.tf_eflags |= FL_IOPL_3;
}

/* Free an env and everything it owns. */
void env_free(struct Env *e)
{
	/* Its page tables are about to go: leave them first. */
	if (PTE_ADDR(rcr3()) == e->env_cr3)
		lcr3(kern_cr3);

	if (env_msgs)
		cprintf("[%08x] free env %08x\n",
			curenv ? curenv->env_id : 0, e->env_id);
	/* Guest memory, EPT and VMCS first. */
	if (e->env_type == ENV_TYPE_GUEST)
		vmm_guest_free(e);
	else
		devexit_env_free(e);  /* its PC guests die with it */

	/* Unmap everything below UTOP; UTOP lies in PML4 slot 0. */
	static_assert(PML4X(UTOP - 1) == 0);
	pt_free_subtree(&host_ptfmt, &e->env_pml4e[0], PT_LEVEL_PML4);
	page_decref(pa2page(e->env_cr3));
	e->env_pml4e = NULL;
	e->env_cr3 = 0;

	e->env_status = ENV_FREE;
	e->env_link = env_free_list;
	env_free_list = e;
}

/*
 * Destroy env e. If it runs on another CPU, mark it dying: that CPU frees
 * it at its next trap. If e is the current env, run something else.
 */
void env_destroy(struct Env *e)
{
	if (e->env_status == ENV_RUNNING && curenv != e) {
		e->env_status = ENV_DYING;
		return;
	}
	env_free(e);
	if (curenv == e) {
		curenv = NULL;
		sched_yield();
	}
}

/* Is e alive, with a live parent that in_tree marks? */
static bool env_child_of_tree(const struct Env *e, const bool *in_tree)
{
	const struct Env *parent = &envs[ENVX(e->env_parent_id)];

	return e->env_status != ENV_FREE && e->env_parent_id != 0 &&
	       parent->env_id == e->env_parent_id &&
	       parent->env_status != ENV_FREE && in_tree[ENVX(parent->env_id)];
}

/*
 * Destroy root and every live env descended from it (by env_parent_id;
 * an env whose parent has already exited is no one's descendant any
 * more). The descendants go first, so that root, which may be curenv
 * and then never returns here, goes last.
 */
void env_destroy_tree(struct Env *root)
{
	/* Under the kernel lock: one user at a time. */
	static bool in_tree[NENV];
	bool grew = true;
	size_t i;

	memset(in_tree, 0, sizeof(in_tree));
	in_tree[ENVX(root->env_id)] = true;
	/* Each pass adds the children of what is in; a tree is at most
	 * NENV deep, and usually a few. */
	while (grew) {
		grew = false;
		for (i = 0; i < NENV; i++)
			if (!in_tree[i] && env_child_of_tree(&envs[i], in_tree)) {
				in_tree[i] = true;
				grew = true;
			}
	}
	/* The caller is root or root's parent (sys_env_destroy_tree), so
	 * curenv is in the tree only as root. */
	for (i = 0; i < NENV; i++)
		if (in_tree[i] && &envs[i] != root &&
		    envs[i].env_status != ENV_DYING)
			env_destroy(&envs[i]);
	if (root->env_status != ENV_DYING)
		env_destroy(root);
}

/* Number of envs that are not free (for leak checks and the monitor). */
size_t env_count_live(void)
{
	size_t i, n = 0;

	for (i = 0; i < NENV; i++)
		if (envs[i].env_status != ENV_FREE)
			n++;
	return n;
}

/* Switch to env e and run it: back to ring 3 with iretq. */
void env_run(struct Env *e)
{
	/* A guest that ran here last lets go of this CPU (its VMCS). */
	if (curenv && curenv != e && curenv->env_type == ENV_TYPE_GUEST)
		vmm_guest_leave(curenv);
	if (curenv && curenv != e && curenv->env_status == ENV_RUNNING)
		curenv->env_status = ENV_RUNNABLE;
	curenv = e;
	e->env_status = ENV_RUNNING;
	e->env_runs++;
	e->env_cpunum = cpunum();
	lcr3(e->env_cr3);

	/* A guest enters through the VMM (VM entry), not iretq. */
	if (e->env_type == ENV_TYPE_GUEST)
		vmm_env_run(e);
	unlock_kernel();
	trapframe_pop(&e->env_tf);
}

/* ---- Programs linked into the kernel ---------------------------------- */

const struct userprog *userprog_find(const char *name)
{
	const struct userprog *p;

	for (p = userprogs; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}
