/*
 * Physical memory and the kernel's page tables.
 *
 * Invariants:
 * - pages[i] describes physical page i, for i < npages; npages covers the
 *   highest usable address in the boot memory map (capped at MAXPHYS).
 * - A page is on page_free_list iff it is usable RAM that nothing uses:
 *   never page 0, the I/O hole [IOPHYSMEM, EXTPHYSMEM), the AP start-up
 *   page, the kernel image or what boot_alloc handed out. Free pages have
 *   pp_ref == 0 and pp_link chaining them; allocated pages have
 *   pp_link == NULL.
 * - pp_ref counts the page-table entries (and other long-lived pointers,
 *   such as page-table pages held by the level above) referring to a page.
 *   The page returns to the free list when the count drops to zero.
 * - kern_pml4's upper half (and the UPAGES/UENVS slots) is shared by every
 *   address space; its lower-level tables are created at boot and never
 *   freed, so copying the PML4 entries is enough to share them.
 * - One walker, pt_walk(), serves every 4-level table: the host's and, in
 *   vmm/, the EPT/NPT ones. A struct ptfmt says how entries are encoded.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/assert.h>
#include <inc/multiboot.h>

#include <kern/pmap.h>
#include <kern/cpu.h>
#include <kern/env.h>

/* The most physical memory the kernel manages (pages[] is 16 B/page). */
#define MAXPHYS (64UL << 30)
/* The direct map always covers the low 4 GiB, holes included. */
#define KMAP_MIN (4UL << 30)
/* Bytes of envs[], as mapped at UENVS. */
#define ENVS_SIZE ROUNDUP(NENV * sizeof(struct Env), PGSIZE)
/* Entries of the boot memory map we keep. */
#define MAX_MEMRANGES 64

struct memrange {
	uint64_t base;
	uint64_t len;
	uint32_t type;
};

static struct memrange memranges[MAX_MEMRANGES];
static int nmemranges;

size_t npages;                /* amount of physical memory (in pages) */
struct PageInfo *pages;       /* physical page state array */
static struct PageInfo *page_free_list;
static size_t nfree;          /* length of page_free_list */

pml4e_t *kern_pml4;           /* the kernel's PML4 (virtual address) */
physaddr_t kern_cr3;          /* ... and its physical address */
/* Until mem_init finishes, only the boot tables' 1 GiB is mapped. */
physaddr_t kmap_limit = KLINKSIZE;

const struct ptfmt host_ptfmt = {
	.name = "host",
	.present = PTE_P,
	.table_perm = PTE_P | PTE_W | PTE_U,
	.large = PTE_PS,
};

/* From kern/kernel.ld: sdata is page-aligned, the first writable byte. */
extern char end[], sdata[];

static void check_page_free_list(void);
static void check_page_alloc(void);
static void check_page(void);
static void check_boot_pml4e(void);

/* ---- The boot memory map ------------------------------------------------ */

/*
 * Copy the boot loader's memory map into the kernel: the low pages it lives
 * in become free memory once page_init has run.
 */
static void read_boot_mmap(uint32_t magic, physaddr_t mbinfo_pa)
{
	struct multiboot_info *mbi;
	uintptr_t p, lim;

	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		panic("not booted by a Multiboot loader (magic %08x)", magic);
	mbi = KADDR(mbinfo_pa);
	if (!(mbi->flags & MB_FLAG_MMAP) || mbi->mmap_length == 0)
		panic("the boot loader gave no memory map");

	p = (uintptr_t)KADDR(mbi->mmap_addr);
	lim = p + mbi->mmap_length;
	while (p < lim && nmemranges < MAX_MEMRANGES) {
		struct memory_map *e = (struct memory_map *)p;
		if (e->length > 0) {
			memranges[nmemranges].base = e->base_addr;
			memranges[nmemranges].len = e->length;
			memranges[nmemranges].type = e->type;
			nmemranges++;
		}
		p += e->size + sizeof(e->size);
	}
}

static const char *memtype_name(uint32_t type)
{
	switch (type) {
	case MB_TYPE_USABLE:
		return "usable";
	case MB_TYPE_ACPI_RECLM:
		return "ACPI data";
	case MB_TYPE_ACPI_NVS:
		return "ACPI NVS";
	case MB_TYPE_BAD:
		return "bad";
	default:
		return "reserved";
	}
}

/* Is physical page [pa, pa + PGSIZE) entirely inside usable RAM? */
static bool page_is_usable(physaddr_t pa)
{
	int i;

	for (i = 0; i < nmemranges; i++)
		if (memranges[i].type == MB_TYPE_USABLE &&
		    pa >= memranges[i].base &&
		    pa + PGSIZE <= memranges[i].base + memranges[i].len)
			return true;
	return false;
}

/* Sets npages from the end of the highest usable range. */
static void detect_memory(void)
{
	uint64_t maxpa = 0, total = 0;
	int i;

	for (i = 0; i < nmemranges; i++) {
		struct memrange *r = &memranges[i];
		cprintf("  e820: [%016lx, %016lx) %s\n", r->base,
			r->base + r->len, memtype_name(r->type));
		if (r->type != MB_TYPE_USABLE)
			continue;
		total += r->len;
		maxpa = MAX(maxpa, r->base + r->len);
	}
	if (maxpa > MAXPHYS) {
		cprintf("Using only the first %lu MiB of physical memory\n",
			MAXPHYS >> 20);
		maxpa = MAXPHYS;
	}
	npages = maxpa / PGSIZE;
	cprintf("Physical memory: %luK available, highest address %lx\n",
		total / 1024, maxpa);
}

/* ---- Boot-time allocation ------------------------------------------------ */

/*
 * A simple bump allocator for the structures mem_init sets up before the
 * page allocator exists. Returns zeroed memory at a page-aligned address in
 * the direct map; boot_alloc(0) returns the next free address.
 * The boot page tables map only the first KLINKSIZE of memory, so the
 * total must stay below that.
 */
static void *boot_alloc(size_t n)
{
	static uintptr_t nextfree;
	uintptr_t result;

	if (!nextfree)
		nextfree = ROUNDUP(KERNBASE + PADDR(end), PGSIZE);
	result = nextfree;
	if (n > KLINKSIZE - (result - KERNBASE))
		panic("boot_alloc: out of memory (%lu bytes wanted)", n);
	nextfree = ROUNDUP(result + n, PGSIZE);
	memset((void *)result, 0, nextfree - result);
	return (void *)result;
}

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

/*
 * Map [va, va + size) to [pa, pa + size) in pml4 with permission perm|P,
 * using pages of 4 KiB (level PT_LEVEL_PT) or 2 MiB (PT_LEVEL_PD).
 * Only for static kernel mappings made at boot: panics on failure.
 */
static void boot_map_region(pml4e_t *pml4, uintptr_t va, size_t size,
			    physaddr_t pa, uint64_t perm, int level)
{
	size_t step = (size_t)PGSIZE << (9 * level);
	size_t off;

	assert(va % step == 0 && pa % step == 0 && size % step == 0);
	for (off = 0; off < size; off += step) {
		pte_t *e = pt_walk(&host_ptfmt, pml4, va + off, level, true);
		if (!e)
			panic("boot_map_region: out of memory at va %lx", va + off);
		*e = (pa + off) | perm | PTE_P | (level > 0 ? PTE_PS : 0);
	}
}

/* ---- Setting up the kernel address space ------------------------------- */

/*
 * Build the kernel's page tables (the layout in inc/memlayout.h), switch to
 * them and initialise the physical page allocator. Runs once, on the boot
 * CPU, with the boot tables of kern/entry.S still active.
 */
void mem_init(uint32_t boot_magic, physaddr_t mbinfo_pa)
{
	uintptr_t kmap_size;
	size_t pages_size;
	int i;

	read_boot_mmap(boot_magic, mbinfo_pa);
	detect_memory();

	kern_pml4 = boot_alloc(PGSIZE);
	kern_cr3 = PADDR(kern_pml4);

	pages_size = ROUNDUP(npages * sizeof(struct PageInfo), PGSIZE);
	pages = boot_alloc(pages_size);
	envs = boot_alloc(ENVS_SIZE);

	page_init();
	check_page_free_list();
	check_page_alloc();
	check_page();

	/* The direct map: all of physical memory, 2 MiB pages, kernel only. */
	kmap_size = ROUNDUP(MAX((uint64_t)npages * PGSIZE, KMAP_MIN), PTSIZE);
	boot_map_region(kern_pml4, KERNBASE, kmap_size, 0, PTE_W | PTE_G,
			PT_LEVEL_PD);

	/* The kernel image at its link address: text and rodata read-only. */
	boot_map_region(kern_pml4, KERNLINK + KERNLOAD,
			(uintptr_t)sdata - (KERNLINK + KERNLOAD), KERNLOAD,
			PTE_G, PT_LEVEL_PT);
	boot_map_region(kern_pml4, (uintptr_t)sdata,
			ROUNDUP((uintptr_t)end, PGSIZE) - (uintptr_t)sdata,
			PADDR(sdata), PTE_W | PTE_G, PT_LEVEL_PT);

	/* Kernel stacks, each above an unmapped guard gap. */
	for (i = 0; i < NCPU; i++)
		boot_map_region(kern_pml4, kstacktop(i) - KSTKSIZE, KSTKSIZE,
				PADDR(percpu_kstacks[i]), PTE_W, PT_LEVEL_PT);

	/* pages[] and envs[], read-only to user programs. */
	boot_map_region(kern_pml4, UPAGES, pages_size, PADDR(pages), PTE_U,
			PT_LEVEL_PT);
	boot_map_region(kern_pml4, UENVS, ENVS_SIZE, PADDR(envs), PTE_U,
			PT_LEVEL_PT);

	/* Create the upper-half tables now so every address space can share
	 * them by copying PML4 entries (see the invariants above). */
	if (!pt_walk(&host_ptfmt, kern_pml4, MMIOBASE, PT_LEVEL_PT, true))
		panic("mem_init: out of memory");

	check_boot_pml4e();

	lcr3(kern_cr3);
	kmap_limit = kmap_size;
}

/*
 * Put every usable physical page that the kernel does not already use on
 * the free list.
 */
void page_init(void)
{
	physaddr_t kern_lo = KERNLOAD;
	physaddr_t kern_hi = PADDR(boot_alloc(0));
	size_t i;

	page_free_list = NULL;
	nfree = 0;
	/* Walk downwards so that the list hands out low pages first. */
	for (i = npages; i-- > 0;) {
		physaddr_t pa = (physaddr_t)i << PGSHIFT;
		bool used = i == 0 || pa == MPENTRY_PADDR ||
			    (pa >= IOPHYSMEM && pa < EXTPHYSMEM) ||
			    (pa >= kern_lo && pa < kern_hi) ||
			    !page_is_usable(pa);

		pages[i].pp_ref = used ? 1 : 0;
		pages[i].pp_link = NULL;
		if (!used) {
			pages[i].pp_link = page_free_list;
			page_free_list = &pages[i];
			nfree++;
		}
	}
}

/* ---- The page allocator -------------------------------------------------- */

/*
 * Allocate a physical page, zeroed if ALLOC_ZERO is in alloc_flags.
 * The caller owns the reference: pp_ref stays 0 until the page is mapped.
 * Returns NULL when memory is exhausted.
 */
struct PageInfo *page_alloc(int alloc_flags)
{
	struct PageInfo *pp = page_free_list;

	if (!pp)
		return NULL;
	page_free_list = pp->pp_link;
	pp->pp_link = NULL;
	nfree--;
	if (alloc_flags & ALLOC_ZERO)
		memset(page2kva(pp), 0, PGSIZE);
	return pp;
}

/* Return a page to the free list. Only when pp_ref reached 0. */
void page_free(struct PageInfo *pp)
{
	if (pp->pp_ref != 0 || pp->pp_link != NULL)
		panic("page_free: page %lx still in use (ref %d) or already free",
		      page2pa(pp), pp->pp_ref);
	pp->pp_link = page_free_list;
	page_free_list = pp;
	nfree++;
}

/* Drop a reference; free the page when none is left. */
void page_decref(struct PageInfo *pp)
{
	if (--pp->pp_ref == 0)
		page_free(pp);
}

/* Number of pages on the free list (used by leak tests). */
size_t page_free_count(void)
{
	return nfree;
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

/*
 * Map [pa, pa + size) uncached at the next free addresses of the MMIO
 * window and return the address that corresponds to pa. For device
 * registers (LAPIC, IOAPIC); panics when the window is full.
 */
void *mmio_map_region(physaddr_t pa, size_t size)
{
	static uintptr_t base = MMIOBASE;
	physaddr_t lo = ROUNDDOWN(pa, PGSIZE);
	size_t len = ROUNDUP(pa + size, PGSIZE) - lo;
	uintptr_t va = base;

	if (len > MMIOLIM - base)
		panic("mmio_map_region: MMIO window exhausted");
	boot_map_region(kern_pml4, va, len, lo, PTE_W | PTE_PCD | PTE_PWT,
			PT_LEVEL_PT);
	base += len;
	return (void *)(va + (pa - lo));
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

/* Every page on the free list is usable RAM the kernel does not use. */
static void check_page_free_list(void)
{
	struct PageInfo *pp;
	size_t count = 0;
	physaddr_t kern_hi = PADDR(boot_alloc(0));

	assert(page_free_list);
	for (pp = page_free_list; pp; pp = pp->pp_link) {
		physaddr_t pa;

		assert(pp >= pages && pp < pages + npages);
		assert(((char *)pp - (char *)pages) % sizeof(*pp) == 0);
		pa = page2pa(pp);
		assert(pa != 0);
		assert(pa != MPENTRY_PADDR);
		assert(pa < IOPHYSMEM || pa >= EXTPHYSMEM);
		assert(pa < KERNLOAD || pa >= kern_hi);
		assert(pp->pp_ref == 0);
		assert(page_is_usable(pa));
		count++;
	}
	assert(count == nfree);
	cprintf("check_page_free_list() succeeded!\n");
}

/* page_alloc and page_free, including running out of memory. */
static void check_page_alloc(void)
{
	struct PageInfo *pp0, *pp1, *pp2, *pp, *saved;
	size_t before = nfree, n;
	unsigned char *c;

	pp0 = page_alloc(0);
	pp1 = page_alloc(0);
	pp2 = page_alloc(0);
	assert(pp0 && pp1 && pp2);
	assert(pp0 != pp1 && pp1 != pp2 && pp0 != pp2);
	assert(page2pa(pp0) < (physaddr_t)npages * PGSIZE);
	assert(nfree == before - 3);

	/* With the free list emptied, allocation fails cleanly. */
	saved = page_free_list;
	n = nfree;
	page_free_list = NULL;
	nfree = 0;
	assert(!page_alloc(0));

	/* Freed pages come back, and ALLOC_ZERO zeroes. */
	memset(page2kva(pp0), 0x5a, PGSIZE);
	page_free(pp0);
	pp = page_alloc(ALLOC_ZERO);
	assert(pp == pp0);
	for (c = page2kva(pp); c < (unsigned char *)page2kva(pp) + PGSIZE; c++)
		assert(*c == 0);
	assert(!page_alloc(0));

	page_free_list = saved;
	nfree = n;
	page_free(pp0);
	page_free(pp1);
	page_free(pp2);
	assert(nfree == before);
	cprintf("check_page_alloc() succeeded!\n");
}

/* page_insert, page_lookup and page_remove on a scratch address space. */
static void check_page(void)
{
	struct PageInfo *ppml4, *pp0, *pp1, *pp2;
	pml4e_t *pml4;
	pte_t *pte, *pte2;
	size_t before = nfree;
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
	assert(nfree == before - 4);

	/* The first insert creates PDPT, PD and PT: 3 table pages. */
	assert(page_insert(pml4, pp0, va0, PTE_W) == 0);
	assert(nfree == before - 7);
	assert(pp0->pp_ref == 1);
	assert(page_lookup(pml4, va0, &pte) == pp0);
	assert(PTE_ADDR(*pte) == page2pa(pp0));
	assert((*pte & (PTE_P | PTE_W | PTE_U)) == (PTE_P | PTE_W));
	assert(pml4e_walk(pml4, va0, 0) == pte);

	/* A neighbour shares the page table. */
	assert(page_insert(pml4, pp1, va1, PTE_U) == 0);
	assert(nfree == before - 7);
	assert(page_lookup(pml4, va1, &pte2) == pp1 && pte2 == pte + 1);

	/* Re-inserting the same page changes the permissions only. */
	assert(page_insert(pml4, pp0, va0, PTE_U) == 0);
	assert(pp0->pp_ref == 1);
	assert((*pte & (PTE_W | PTE_U)) == PTE_U);

	/* One page mapped twice holds two references. */
	assert(page_insert(pml4, pp1, va0, PTE_W) == 0);
	assert(pp1->pp_ref == 2 && pp0->pp_ref == 0);
	/* ... and pp0 went back to the free list when it was replaced. */
	assert(nfree == before - 6);
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
	assert(nfree == before);
	cprintf("check_page() succeeded!\n");
}

/*
 * Translate va through pml4, large pages included; ~0 if unmapped.
 * *perm receives the leaf entry's flags, *leaf_span (if not NULL) the
 * size of the page the leaf maps.
 */
static physaddr_t check_walk(pml4e_t *pml4, uintptr_t va, uint64_t *perm,
			     uint64_t *leaf_span)
{
	pte_t *table = pml4;
	int lvl;

	for (lvl = PT_LEVEL_PML4; lvl >= PT_LEVEL_PT; lvl--) {
		pte_t e = table[PGX(va, lvl)];
		uint64_t span = (uint64_t)PGSIZE << (9 * lvl);

		if (!(e & PTE_P))
			return ~(physaddr_t)0;
		if (lvl == PT_LEVEL_PT ||
		    (lvl < PT_LEVEL_PML4 && (e & PTE_PS))) {
			if (perm)
				*perm = PTE_FLAGS(e);
			if (leaf_span)
				*leaf_span = span;
			return PTE_ADDR(e) + (va & (span - 1) & ~(PGSIZE - 1UL));
		}
		table = KADDR(PTE_ADDR(e));
	}
	return ~(physaddr_t)0;
}

static physaddr_t check_va2pa(pml4e_t *pml4, uintptr_t va, uint64_t *perm)
{
	return check_walk(pml4, va, perm, NULL);
}

/* The kernel's own page tables match inc/memlayout.h. */
static void check_boot_pml4e(void)
{
	uint64_t perm, span, span_left;
	uintptr_t va;
	size_t i, n;
	int cpu;

	/*
	 * The direct map covers all of memory, kernel-only, writable. One
	 * translation per leaf: inside a leaf, va and pa advance together,
	 * so the rest of it maps right if its first page checked here does.
	 * (Page by page, one walk per 4 KiB, cost a 64 MiB guest's boot
	 * 4.5 M instructions.)
	 */
	for (i = 0; i < npages; i += span_left >> PGSHIFT) {
		va = KERNBASE + ((uintptr_t)i << PGSHIFT);
		assert(check_walk(kern_pml4, va, &perm, &span) ==
		       (physaddr_t)i << PGSHIFT);
		assert((perm & (PTE_W | PTE_U)) == PTE_W);
		span_left = span - (va & (span - 1));
	}

	/* The kernel image: text read-only, data writable. */
	for (va = KERNLINK + KERNLOAD; va < (uintptr_t)end; va += PGSIZE) {
		assert(check_va2pa(kern_pml4, va, &perm) == va - KERNLINK);
		assert(!(perm & PTE_U));
		assert(!!(perm & PTE_W) == (va >= (uintptr_t)sdata));
	}
	assert(check_va2pa(kern_pml4, KERNLINK, NULL) == ~(physaddr_t)0);

	/* Kernel stacks with unmapped guard gaps. */
	for (cpu = 0; cpu < NCPU; cpu++) {
		uintptr_t top = kstacktop(cpu);
		for (i = 0; i < KSTKSIZE; i += PGSIZE)
			assert(check_va2pa(kern_pml4, top - KSTKSIZE + i, NULL) ==
			       PADDR(percpu_kstacks[cpu]) + i);
		for (i = 0; i < KSTKGAP; i += PGSIZE)
			assert(check_va2pa(kern_pml4, top - KSTKSIZE - KSTKGAP + i,
					   NULL) == ~(physaddr_t)0);
	}

	/* pages[] at UPAGES, readable but not writable by users. */
	n = ROUNDUP(npages * sizeof(struct PageInfo), PGSIZE);
	for (i = 0; i < n; i += PGSIZE) {
		assert(check_va2pa(kern_pml4, UPAGES + i, &perm) ==
		       PADDR(pages) + i);
		assert((perm & (PTE_W | PTE_U)) == PTE_U);
	}

	for (i = 0; i < ENVS_SIZE; i += PGSIZE) {
		assert(check_va2pa(kern_pml4, UENVS + i, &perm) ==
		       PADDR(envs) + i);
		assert((perm & (PTE_W | PTE_U)) == PTE_U);
	}

	/* Nothing else in the user half; no user access above ULIM. */
	for (i = 0; i < NPTENTRIES; i++) {
		if (i == PML4X(UPAGES) || i == PML4X(UENVS))
			assert(kern_pml4[i] & PTE_P);
		else if (i < NPTENTRIES / 2)
			assert(!(kern_pml4[i] & PTE_P));
	}
	assert(check_va2pa(kern_pml4, 0, NULL) == ~(physaddr_t)0);
	assert(check_va2pa(kern_pml4, UTOP - PGSIZE, NULL) == ~(physaddr_t)0);
	cprintf("check_boot_pml4e() succeeded!\n");
}
