/*
 * Page tables: the one walker for every 4-level table (pt_walk), and the
 * classic JOS operations on an address space built on it (page_insert,
 * page_lookup, page_remove, tlb_invalidate), plus the checks of user
 * pointers (user_mem_check, user_mem_assert).
 *
 * The rest of what kern/pmap.h declares lives next door:
 * - kern/pmap_phys.c: physical memory: the boot memory map, boot_alloc,
 *   pages[], page_init, page_alloc, page_free, page_decref,
 *   page_free_count.
 * - kern/pmap_kern.c: the kernel's address space: mem_init,
 *   boot_map_region, mmio_map_region, kern_pml4, check_boot_pml4e.
 * - kern/pmap_internal.h: what only these three files share.
 *
 * Invariants:
 * - pp_ref counts the page-table entries (and other long-lived pointers,
 *   such as page-table pages held by the level above) referring to a page
 *   (kern/pmap_phys.c frees it when the count drops to zero).
 * - One walker, pt_walk(), serves every 4-level table: the host's and, in
 *   vmm/, the EPT/NPT ones. A struct ptfmt says how entries are encoded.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>
#include <inc/assert.h>

#include <kern/pmap.h>
#include <kern/pmap_internal.h>
#include <kern/env.h>

const struct ptfmt host_ptfmt = {
	.name = "host",
	.present = PTE_P,
	.table_perm = PTE_P | PTE_W | PTE_U,
	.large = PTE_PS,
};

/* ---- The page table walker ------------------------------------------------ */

/*
 * Walk the 4-level table `root` to the entry that maps va at `level`
 * (PT_LEVEL_PT for a 4 KiB page, PT_LEVEL_PD for a 2 MiB page).
 * Missing intermediate tables are allocated (zeroed, referenced once by the
 * entry pointing to them) when `create` is set, else NULL is returned.
 * NULL is also returned when a large page already maps va above `level`,
 * or when a table cannot be allocated.
 */
pte_t *pt_walk(const struct ptfmt *f, pte_t *root, uintptr_t va, int level,
	       bool create)
{
	return pt_walk_count(f, root, va, level, create, NULL);
}

/*
 * pt_walk, adding to *nalloc (unless nalloc is NULL) the table pages it
 * allocates: for owners that account for their tables (a guest's nested
 * tables, vmm/ept.c).
 */
pte_t *pt_walk_count(const struct ptfmt *f, pte_t *root, uintptr_t va,
		     int level, bool create, uint64_t *nalloc)
{
	pte_t *table = root;
	int lvl;

	for (lvl = PT_LEVEL_PML4; lvl > level; lvl--) {
		pte_t *e = &table[PGX(va, lvl)];

		if (!(*e & f->present)) {
			struct PageInfo *pp;
			if (!create || !(pp = page_alloc(ALLOC_ZERO)))
				return NULL;
			pp->pp_ref++;
			if (nalloc)
				(*nalloc)++;
			*e = page2pa(pp) | f->table_perm;
		} else if (lvl < PT_LEVEL_PML4 && (*e & f->large)) {
			return NULL;
		}
		table = KADDR(PTE_ADDR(*e));
	}
	return &table[PGX(va, level)];
}

/*
 * Tear down what *entry (an entry of a table at `level`) points to: drop a
 * reference to every page mapped below it, free every table page below it,
 * and clear the entry. For env and guest teardown; the walk is the same
 * for every table format.
 */
void pt_free_subtree(const struct ptfmt *f, pte_t *entry, int level)
{
	pte_t *table;
	int i;

	if (!(*entry & f->present))
		return;
	if (level == PT_LEVEL_PT || (level < PT_LEVEL_PML4 && (*entry & f->large))) {
		/* A leaf: 4 KiB page. Large leaves are never refcounted pages. */
		if (level == PT_LEVEL_PT)
			page_decref(pa2page(PTE_ADDR(*entry)));
		*entry = 0;
		return;
	}
	table = KADDR(PTE_ADDR(*entry));
	for (i = 0; i < NPTENTRIES; i++)
		pt_free_subtree(f, &table[i], level - 1);
	page_decref(pa2page(PTE_ADDR(*entry)));
	*entry = 0;
}

/* The host tables' walk to a 4 KiB page-table entry. */
pte_t *pml4e_walk(pml4e_t *pml4, const void *va, int create)
{
	return pt_walk(&host_ptfmt, pml4, (uintptr_t)va, PT_LEVEL_PT, create);
}

/* ---- Mapping pages --------------------------------------------------------- */

/*
 * Map physical page pp at virtual address va with permissions perm|PTE_P.
 * An existing mapping at va is removed first; re-inserting the same page
 * at the same address just changes its permissions.
 * Returns 0, or -E_NO_MEM if a page table could not be allocated.
 */
int page_insert(pml4e_t *pml4, struct PageInfo *pp, void *va, int perm)
{
	pte_t *pte = pml4e_walk(pml4, va, 1);

	if (!pte)
		return -E_NO_MEM;
	/* Take the new reference first: pp may be the page mapped here. */
	pp->pp_ref++;
	if (*pte & PTE_P)
		page_remove(pml4, va);
	*pte = page2pa(pp) | perm | PTE_P;
	return 0;
}

/*
 * Return the page mapped at va (NULL if none); if pte_store is not NULL,
 * store the address of its page-table entry there.
 */
struct PageInfo *page_lookup(pml4e_t *pml4, void *va, pte_t **pte_store)
{
	pte_t *pte = pml4e_walk(pml4, va, 0);

	if (!pte || !(*pte & PTE_P))
		return NULL;
	if (pte_store)
		*pte_store = pte;
	return pa2page(PTE_ADDR(*pte));
}

/* Unmap the page at va, if any, dropping its reference. */
void page_remove(pml4e_t *pml4, void *va)
{
	pte_t *pte;
	struct PageInfo *pp = page_lookup(pml4, va, &pte);

	if (!pp)
		return;
	*pte = 0;
	tlb_invalidate(pml4, va);
	page_decref(pp);
}

/* Flush va's TLB entry, if pml4 is the address space in use. */
void tlb_invalidate(pml4e_t *pml4, void *va)
{
	if (PTE_ADDR(rcr3()) == PADDR(pml4))
		invlpg(va);
}

/* ---- Checking user pointers ---------------------------------------------- */

/* The first bad address user_mem_check found. */
static uintptr_t user_mem_check_addr;

/*
 * May env touch [va, va + len) with permissions perm | PTE_U | PTE_P?
 * Every page must be mapped in env's tables with those bits and lie below
 * ULIM. Returns 0, or -E_FAULT with user_mem_check_addr set to the first
 * bad address. A range that wraps around is bad.
 */
int user_mem_check(struct Env *env, const void *va, size_t len, int perm)
{
	uintptr_t start = (uintptr_t)va, p, lim;
	uint64_t need = (uint64_t)perm | PTE_U | PTE_P;

	if (len == 0)
		return 0;
	if (start + len < start || start + len > ULIM) {
		user_mem_check_addr = start >= ULIM ? start : ULIM;
		return -E_FAULT;
	}
	lim = start + len;
	for (p = ROUNDDOWN(start, PGSIZE); p < lim; p += PGSIZE) {
		pte_t *pte = pml4e_walk(env->env_pml4e, (void *)p, 0);
		if (!pte || (*pte & need) != need) {
			user_mem_check_addr = MAX(p, start);
			return -E_FAULT;
		}
	}
	return 0;
}

/*
 * Like user_mem_check, but a bad range destroys env (and, if env is the
 * current env, does not return).
 */
void user_mem_assert(struct Env *env, const void *va, size_t len, int perm)
{
	if (user_mem_check(env, va, len, perm) < 0) {
		cprintf("[%08x] user_mem_check assertion failure for va %08lx\n",
			env->env_id, user_mem_check_addr);
		env_destroy(env);
	}
}

/* ---- Self-checks ------------------------------------------------------------ */

/* page_insert, page_lookup and page_remove on a scratch address space. */
void check_page(void)
{
	struct PageInfo *ppml4, *pp0, *pp1, *pp2;
	pml4e_t *pml4;
	pte_t *pte, *pte2;
	size_t before = page_free_count();
	int i;
	char *va0 = (char *)0x400000, *va1 = va0 + PGSIZE;
	/* In another PML4 slot: needs a whole new chain of tables. */
	char *va_far = (char *)(PML4SIZE + PDPSIZE + PTSIZE);

	assert((ppml4 = page_alloc(ALLOC_ZERO)));
	ppml4->pp_ref++;
	pml4 = page2kva(ppml4);
	assert((pp0 = page_alloc(0)) && (pp1 = page_alloc(0)) &&
	       (pp2 = page_alloc(0)));

	/* Nothing mapped yet; lookups do not create tables. */
	assert(page_lookup(pml4, va0, NULL) == NULL);
	assert(pml4e_walk(pml4, va0, 0) == NULL);
	assert(page_free_count() == before - 4);

	/* The first insert creates PDPT, PD and PT: 3 table pages. */
	assert(page_insert(pml4, pp0, va0, PTE_W) == 0);
	assert(page_free_count() == before - 7);
	assert(pp0->pp_ref == 1);
	assert(page_lookup(pml4, va0, &pte) == pp0);
	assert(PTE_ADDR(*pte) == page2pa(pp0));
	assert((*pte & (PTE_P | PTE_W | PTE_U)) == (PTE_P | PTE_W));
	assert(pml4e_walk(pml4, va0, 0) == pte);

	/* A neighbour shares the page table. */
	assert(page_insert(pml4, pp1, va1, PTE_U) == 0);
	assert(page_free_count() == before - 7);
	assert(page_lookup(pml4, va1, &pte2) == pp1 && pte2 == pte + 1);

	/* Re-inserting the same page changes the permissions only. */
	assert(page_insert(pml4, pp0, va0, PTE_U) == 0);
	assert(pp0->pp_ref == 1);
	assert((*pte & (PTE_W | PTE_U)) == PTE_U);

	/* One page mapped twice holds two references. */
	assert(page_insert(pml4, pp1, va0, PTE_W) == 0);
	assert(pp1->pp_ref == 2 && pp0->pp_ref == 0);
	/* ... and pp0 went back to the free list when it was replaced. */
	assert(page_free_count() == before - 6);
	assert(page_alloc(0) == pp0);

	/* Removing one mapping leaves the other. */
	page_remove(pml4, va0);
	assert(pp1->pp_ref == 1);
	assert(page_lookup(pml4, va0, NULL) == NULL);
	assert(page_lookup(pml4, va1, NULL) == pp1);
	page_remove(pml4, va0); /* removing nothing is fine */

	/* A far address in a new slot; its tables are separate. */
	assert(page_insert(pml4, pp2, va_far, PTE_W | PTE_U) == 0);
	assert(page_lookup(pml4, va_far, &pte2) == pp2);
	assert(pte2 != pte && PML4X(va_far) != PML4X(va0));

	/* Large pages stop a 4 KiB walk. */
	pte2 = pt_walk(&host_ptfmt, pml4, PDPSIZE * 3, PT_LEVEL_PD, true);
	assert(pte2);
	*pte2 = PTE_P | PTE_PS;
	assert(pml4e_walk(pml4, (void *)(PDPSIZE * 3 + PGSIZE), 1) == NULL);
	*pte2 = 0;

	/* Tear down: everything goes back. */
	page_remove(pml4, va1);
	page_remove(pml4, va_far);
	assert(pp1->pp_ref == 0 && pp2->pp_ref == 0);
	page_free(pp0);
	for (i = 0; i < NPTENTRIES; i++)
		pt_free_subtree(&host_ptfmt, &pml4[i], PT_LEVEL_PML4);
	page_decref(ppml4);
	assert(page_free_count() == before);
	cprintf("check_page() succeeded!\n");
}
