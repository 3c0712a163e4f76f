/*
 * Nested page tables (EPT on VT-x, NPT on AMD-V): each guest's
 * guest-physical to host-physical map, and the checked helpers through
 * which the host reaches guest memory. "EPT" in names means either.
 *
 * Invariants:
 * - The table is 4 levels deep (SDM Vol. 3C 28.3.2; APM Vol. 2 15.25.5),
 *   walked by the host's pt_walk() with nested_fmt->walk. Only 4 KiB
 *   leaves are ever made here; an entry that points to a table grants
 *   everything, so every access is decided by the leaf alone.
 * - A leaf holds one reference to the page it maps (pp_ref); a table page
 *   is referenced once by the entry that points to it; the root once by
 *   its owner (struct Vm). ept_free() drops them all.
 * - A leaf's permission never has W without R (that would be an EPT
 *   misconfiguration, SDM Vol. 3C 28.3.3.1); an EPT leaf's memory type is
 *   always write-back. NPT cannot express execute-only: it needs R.
 * - Nothing is mapped outside guest RAM: at or above gphysz, or in the
 *   legacy hole [GUEST_LOWMEM_END, GUEST_HIGHMEM_START) (inc/vmx.h),
 *   but a PC guest's VGA text memory (guest_ram()).
 *   ept_map_from_env() and guest_populate() check it; ept_map_hva2gpa()
 *   and ept_page_insert() see only the root, so their callers must.
 * - Every guest-physical address that comes from a guest goes through
 *   guest_gpa2kva() before the host touches the memory behind it.
 * - A VM's ept_gen (struct Vm) is bumped each time one of its present
 *   leaves is replaced (guest_page_insert) and when its tables are freed
 *   (ept_vm_free). ept_map_hva2gpa and ept_page_insert see only a root:
 *   they bump nothing, so they are for tables no vCPU runs on (the EPT
 *   self-test's); ept_lookup_gpa's entry is not to be changed by its
 *   callers for the same reason. No other code here changes a present
 *   leaf.
 * - Callers hold the kernel lock; nothing here is reentrant.
 *
 * Flushing cached translations (SDM Vol. 3C 28.4.3) is the vendor code's
 * job: vmm/vtx/setup.c does INVEPT each time it loads a guest's VMCS on a CPU,
 * vmm/amdv/run.c flushes the guest's ASID each time the guest comes back to a
 * CPU, which also covers a root page reused after ept_free(). Changing a
 * present leaf (overwrite in ept_map_hva2gpa, ept_page_insert) while the
 * guest runs on another CPU needs a flush there too. Making an absent
 * entry present needs none: nothing is cached from an entry with R/W/X
 * all clear (SDM Vol. 3C 28.4.2).
 */
#include <inc/error.h>
#include <inc/string.h>
#include <inc/assert.h>
#include <inc/env.h>

#include <kern/pmap.h>
#include <vmm/ept.h>
#include <vmm/xstate.h>

/* With 4 levels, the EPT translates 48-bit guest-physical addresses
 * (SDM Vol. 3C 28.3.2). */
#define EPT_GPA_BITS 48
#define EPT_GPA_LIMIT (1UL << EPT_GPA_BITS)

/* sys_ept_map's __EPTE_* (inc/vmx.h) are the entry's own bits. */
static_assert(__EPTE_READ == EPTE_R);
static_assert(__EPTE_WRITE == EPTE_W);
static_assert(__EPTE_EXEC == EPTE_X);
static_assert(__EPTE_FULL == EPTE_PERM);
/* Guest RAM is whole pages (gphysz is page-aligned too), so checking one
 * address of a page checks the page. */
static_assert(GUEST_LOWMEM_END % PGSIZE == 0);
static_assert(GUEST_HIGHMEM_START % PGSIZE == 0);

/*
 * SDM Vol. 3C 28.3.2: an entry is used if any of bits 2:0 (R/W/X) is set;
 * bit 7 in a PDPT or PD entry maps a 1 GiB / 2 MiB page. Tables get every
 * access bit so that only the leaf restricts the guest.
 */
const struct nested_format ept_format = {
	.walk = { .name = "ept", .present = EPTE_PERM,
		  .table_perm = EPTE_PERM, .large = EPTE_LARGE },
	.read = EPTE_R,
	.write = EPTE_W,
	.exec = EPTE_X,
	.leaf_attr = EPTE_MT_WB,
	.exec_only = true,
};

/*
 * APM Vol. 2 15.25.5: nested entries are long-mode entries, and every
 * guest access counts as a user access, so tables carry P|RW|US and a
 * readable leaf P|US. NX needs EFER.NXE on the host (vmm/amdv/setup.c sets it).
 */
const struct nested_format npt_format = {
	.walk = { .name = "npt", .present = PTE_P,
		  .table_perm = PTE_P | PTE_W | PTE_U, .large = PTE_PS },
	.read = PTE_P | PTE_U,
	.write = PTE_W,
	.noexec = PTE_NX,
	.exec_only = false,
};

/* EPT until vmm_init() finds an AMD-V CPU. */
const struct nested_format *nested_fmt = &ept_format;

/* Is perm a leaf permission we may install: some of R/W/X, W only with R,
 * and X without R only where the format can say it? */
static bool ept_perm_ok(int perm)
{
	if (perm == 0 || (perm & ~EPTE_PERM) != 0)
		return false;
	if (!(perm & EPTE_R) && !nested_fmt->exec_only)
		return false;
	return !(perm & EPTE_W) || (perm & EPTE_R);
}

/* The leaf bits for perm (EPTE_R/W/X), and back. */
static epte_t leaf_bits(int perm)
{
	const struct nested_format *f = nested_fmt;
	epte_t e = f->leaf_attr;

	if (perm & EPTE_R)
		e |= f->read;
	if (perm & EPTE_W)
		e |= f->write;
	e |= (perm & EPTE_X) ? f->exec : f->noexec;
	return e;
}

static int leaf_perm(epte_t e)
{
	const struct nested_format *f = nested_fmt;
	int perm = 0;

	if ((e & f->read) == f->read)
		perm |= EPTE_R;
	if (e & f->write)
		perm |= EPTE_W;
	if (f->exec ? (e & f->exec) : !(e & f->noexec))
		perm |= EPTE_X;
	return perm;
}

static bool present(epte_t e)
{
	return e & nested_fmt->walk.present;
}

static int ept_lookup(epte_t *eptrt, void *gpa, int create,
		      epte_t **epte_out, uint64_t *ntables);
static int ept_map(epte_t *eptrt, void *hva, void *gpa, int perm,
		   int overwrite, struct Vm *vm);

/*
 * Find the 4 KiB leaf entry for gpa in the EPT rooted at eptrt, creating
 * missing tables when `create` is set. Returns 0 with *epte_out set (the
 * entry itself may be empty), -E_INVAL for a NULL root or a gpa beyond
 * what 4 levels translate, -E_NOT_FOUND when a table is missing and
 * !create, -E_NO_MEM when a table cannot be allocated.
 */
int ept_lookup_gpa(epte_t *eptrt, void *gpa, int create, epte_t **epte_out)
{
	return ept_lookup(eptrt, gpa, create, epte_out, NULL);
}

/* ept_lookup_gpa, adding the table pages it allocates to *ntables (a
 * guest's overhead_pages) unless ntables is NULL. */
static int ept_lookup(epte_t *eptrt, void *gpa, int create,
		      epte_t **epte_out, uint64_t *ntables)
{
	uintptr_t a = (uintptr_t)gpa;
	epte_t *e;

	if (!eptrt || a >= EPT_GPA_LIMIT)
		return -E_INVAL;
	/* Only 4 KiB leaves are made here, so pt_walk's NULL can only mean a
	 * missing table or a failed allocation. */
	e = pt_walk_count(&nested_fmt->walk, eptrt, a, PT_LEVEL_PT, create,
			  ntables);
	if (!e)
		return create ? -E_NO_MEM : -E_NOT_FOUND;
	*epte_out = e;
	return 0;
}

/*
 * Point leaf *e at pp with perm (and, on EPT, the write-back memory type:
 * bits 5:3 of a 4 KiB leaf, SDM Vol. 3C 28.3.2, Table 28-6). The new
 * reference is
 * * taken before the old one is dropped, so re-installing the page already
 * there cannot free it. True if a present leaf was replaced (the caller
 * bumps its VM's ept_gen).
 */
static bool ept_set_leaf(epte_t *e, struct PageInfo *pp, int perm)
{
	epte_t old = *e;

	pp->pp_ref++;
	*e = page2pa(pp) | leaf_bits(perm);
	if (!present(old))
		return false;
	page_decref(pa2page(EPTE_ADDR(old)));
	return true;
}

/*
 * Map the page whose direct-map address is hva at guest-physical gpa with
 * perm (EPTE_R/W/X), write-back. The page gains a reference. An existing
 * mapping at gpa is replaced (losing its reference) only if `overwrite`,
 * else -E_INVAL. Also -E_INVAL for unaligned addresses or a bad perm;
 * -E_NO_MEM when a table cannot be allocated.
 */
int ept_map_hva2gpa(epte_t *eptrt, void *hva, void *gpa, int perm,
		    int overwrite)
{
	return ept_map(eptrt, hva, gpa, perm, overwrite, NULL);
}

/* ept_map_hva2gpa; with vm (whose root eptrt is) given, counting the
 * tables it makes in its overhead and bumping its ept_gen if a present
 * leaf is replaced. */
static int ept_map(epte_t *eptrt, void *hva, void *gpa, int perm,
		   int overwrite, struct Vm *vm)
{
	epte_t *e;
	int r;

	if (PGOFF(hva) || PGOFF(gpa) || !ept_perm_ok(perm))
		return -E_INVAL;
	if ((r = ept_lookup(eptrt, gpa, 1, &e,
			    vm ? &vm->overhead_pages : NULL)) < 0)
		return r;
	if (present(*e) && !overwrite)
		return -E_INVAL;
	if (ept_set_leaf(e, pa2page(PADDR(hva)), perm) && vm)
		vm->ept_gen++;
	return 0;
}

/*
 * Like page_insert(): map pp at gpa with perm, replacing whatever was
 * there. For pages the host hands to a running guest (IPC).
 */
int ept_page_insert(epte_t *eptrt, struct PageInfo *pp, void *gpa, int perm)
{
	return ept_map_hva2gpa(eptrt, page2kva(pp), gpa, perm, 1);
}

/* ept_page_insert into vm's tables, counting the tables it makes. */
int guest_page_insert(struct Vm *vm, struct PageInfo *pp, uint64_t gpa,
		      int perm)
{
	return ept_map(vm->ept_root, page2kva(pp), (void *)gpa, perm, 1, vm);
}

/*
 * The leaf entry for gpa when every table on the way is there, else
 * NULL: pt_walk's look-up without allocation, with its checks (a missing
 * table, or a large entry on the way). Here, built -O2 with the exit
 * path, because every MMIO exit's instruction fetch walks the nested
 * tables once per guest paging level and once for the bytes: through
 * pt_walk (kern/pmap.c, -O0) each walk cost about 280 instructions.
 */
static epte_t *ept_find(epte_t *eptrt, uint64_t gpa)
{
	const struct ptfmt *f = &nested_fmt->walk;
	epte_t *table = eptrt;
	int lvl;

	if (!eptrt || gpa >= EPT_GPA_LIMIT)
		return NULL;
	for (lvl = PT_LEVEL_PML4; lvl > PT_LEVEL_PT; lvl--) {
		epte_t e = table[PGX(gpa, lvl)];

		if (!(e & f->present) ||
		    (lvl < PT_LEVEL_PML4 && (e & f->large)))
			return NULL;
		table = KADDR(PTE_ADDR(e));
	}
	return &table[PGX(gpa, PT_LEVEL_PT)];
}

/*
 * The page mapped at gpa, or NULL; its R/W/X bits go to *perm_store when
 * that is not NULL.
 */
struct PageInfo *ept_page_lookup(epte_t *eptrt, uint64_t gpa, int *perm_store)
{
	epte_t *e = ept_find(eptrt, gpa);

	if (!e || !present(*e))
		return NULL;
	if (perm_store)
		*perm_store = leaf_perm(*e);
	return pa2page(EPTE_ADDR(*e));
}

/*
 * Tear down a whole EPT: every mapped page loses its reference, every
 * table page and finally the root (referenced once, by its owner) are
 * freed.
 */
void ept_free(epte_t *eptrt)
{
	int i;

	if (!eptrt)
		return;
	for (i = 0; i < NPTENTRIES; i++)
		pt_free_subtree(&nested_fmt->walk, &eptrt[i], PT_LEVEL_PML4);
	page_decref(pa2page(PADDR(eptrt)));
}

/* ---- Guest memory ------------------------------------------------------- */

/* Is gpa guest RAM: below gphysz and outside the legacy hole? A PC
 * guest's VGA text memory in the hole is RAM too (its screen: xv6 and
 * the host kernel write it; nothing reads it back for them). */
bool guest_ram(const struct Vm *vm, uint64_t gpa)
{
	if (gpa >= vm->gphysz)
		return false;
	if (vm->pc.kind != VMM_KIND_JOS && gpa >= GUEST_VGA_TEXT_START &&
	    gpa < GUEST_VGA_TEXT_END)
		return true;
	return gpa < GUEST_LOWMEM_END || gpa >= GUEST_HIGHMEM_START;
}

/*
 * Back the RAM page holding gpa with a zeroed host page, mapped R|W|X,
 * unless one is there already. Returns 0, -E_INVAL outside guest RAM or
 * -E_NO_MEM.
 */
int guest_populate(struct Vm *vm, uint64_t gpa)
{
	uint64_t page = ROUNDDOWN(gpa, PGSIZE);
	struct PageInfo *pp;
	epte_t *e;
	int r;

	if (!guest_ram(vm, gpa))
		return -E_INVAL;
	if ((r = ept_lookup(vm->ept_root, (void *)page, 1, &e,
			    &vm->overhead_pages)) < 0)
		return r;
	if (present(*e))
		return 0;
	if (!(pp = page_alloc(ALLOC_ZERO)))
		return -E_NO_MEM;
	/* Absent before: no ept_gen bump (nothing cached used it). */
	(void)ept_set_leaf(e, pp, EPTE_PERM);
	return 0;
}

/*
 * THE gate between guest-physical addresses a guest hands us and host
 * memory: the kernel address of [gpa, gpa + len), or NULL unless
 *  - len >= 1 and gpa + len does not wrap,
 *  - the range lies inside one page (the host never assumes two guest
 *    pages are contiguous in host memory),
 *  - the page is guest RAM (populated here if need be),
 *  - its EPT entry grants every bit of perm (EPTE_R for reading, EPTE_W
 *    for writing; perm must name at least one).
 */
void *guest_gpa2kva(struct Vm *vm, uint64_t gpa, size_t len, int perm)
{
	uint64_t last;
	struct PageInfo *pp;
	int granted;

	if (!vm || len == 0 || perm == 0 || (perm & ~EPTE_PERM) != 0)
		return NULL;
	last = gpa + (len - 1);
	if (last < gpa || ROUNDDOWN(gpa, PGSIZE) != ROUNDDOWN(last, PGSIZE))
		return NULL;
	if (!guest_ram(vm, gpa))
		return NULL;
	/* One walk for a page already there (the MMIO decoder's fetch,
	 * on every exit); populate and walk again only for a new one. */
	pp = ept_page_lookup(vm->ept_root, ROUNDDOWN(gpa, PGSIZE), &granted);
	if (!pp) {
		if (guest_populate(vm, gpa) < 0)
			return NULL;
		pp = ept_page_lookup(vm->ept_root, ROUNDDOWN(gpa, PGSIZE),
				     &granted);
	}
	if (!pp || (granted & perm) != perm)
		return NULL;
	return (uint8_t *)page2kva(pp) + PGOFF(gpa);
}

/*
 * Give vm gphysz bytes of guest-physical memory, none of it mapped yet:
 * an empty nested PML4. Returns 0, -E_INVAL (gphysz 0, not page-aligned
 * or beyond what the tables translate) or -E_NO_MEM.
 */
int ept_vm_init(struct Vm *vm, uint64_t gphysz)
{
	struct PageInfo *root;

	if (gphysz == 0 || PGOFF(gphysz) || gphysz > EPT_GPA_LIMIT)
		return -E_INVAL;
	if (!(root = page_alloc(ALLOC_ZERO)))
		return -E_NO_MEM;
	root->pp_ref++;
	vm->gphysz = gphysz;
	vm->ept_root = page2kva(root);
	/* The root table: host memory beyond guest RAM. */
	vm->overhead_pages++;
	return 0;
}

/* Free vm's guest memory and nested tables (its vCPUs are gone). */
void ept_vm_free(struct Vm *vm)
{
	if (!vm->ept_root)
		return;
	ept_free(vm->ept_root);
	vm->ept_root = NULL;
	vm->ept_gen++;
}

/*
 * The body of sys_ept_map, after the envid lookups: map src's page at
 * srcva into guest at guest-physical gpa with EPT permission perm.
 * Each of these gives -E_INVAL, in this order:
 *  - guest is not an ENV_TYPE_GUEST with guest state, or src is a guest
 *    (it has no host memory to give);
 *  - srcva is not page-aligned or not below UTOP;
 *  - gpa is not page-aligned or not guest RAM (at or above gphysz, or in
 *    the legacy hole);
 *  - perm is 0, has bits outside __EPTE_FULL, or has write without read;
 *  - srcva is not mapped in src with PTE_U;
 *  - perm has write but src's mapping is not writable (read-only and
 *    copy-on-write pages must not become writable through a guest);
 *  - gpa is mapped already (no silent remap).
 * -E_NO_MEM if an EPT table cannot be allocated. On success the page's
 * pp_ref rises by exactly one; on failure nothing changes.
 */
int ept_map_from_env(struct Env *src, uintptr_t srcva, struct Env *guest,
		     uint64_t gpa, int perm)
{
	struct Vm *vm = guest->env_vcpu ? guest->env_vcpu->vm : NULL;
	struct PageInfo *pp;
	pte_t *pte;

	if (guest->env_type != ENV_TYPE_GUEST || !vm ||
	    src->env_type == ENV_TYPE_GUEST)
		return -E_INVAL;
	if (PGOFF(srcva) || srcva >= UTOP)
		return -E_INVAL;
	if (PGOFF(gpa) || !guest_ram(vm, gpa))
		return -E_INVAL;
	if (!ept_perm_ok(perm))
		return -E_INVAL;
	pp = page_lookup(src->env_pml4e, (void *)srcva, &pte);
	if (!pp || !(*pte & PTE_U))
		return -E_INVAL;
	if ((perm & __EPTE_WRITE) && !(*pte & PTE_W))
		return -E_INVAL;
	if (ept_page_lookup(vm->ept_root, gpa, NULL))
		return -E_INVAL;
	return ept_map(vm->ept_root, page2kva(pp), (void *)gpa, perm, 0, vm);
}
