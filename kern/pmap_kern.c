/*
 * The kernel's address space: mem_init builds the kernel's page tables
 * (the layout in inc/memlayout.h) with boot_map_region and switches to
 * them; mmio_map_region adds device mappings later. check_boot_pml4e
 * checks the result against inc/memlayout.h.
 *
 * Invariants:
 * - kern_pml4's upper half (and the UPAGES/UENVS slots) is shared by every
 *   address space; its lower-level tables are created at boot and never
 *   freed, so copying the PML4 entries is enough to share them.
 * - Below kmap_limit, physical memory is mapped at KERNBASE (KADDR and
 *   PADDR rely on it); it is KLINKSIZE until mem_init switches tables.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/assert.h>

#include <kern/pmap.h>
#include <kern/pmap_internal.h>
#include <kern/cpu.h>
#include <kern/env.h>

/* The direct map always covers the low 4 GiB, holes included. */
#define KMAP_MIN (4UL << 30)
/* Bytes of envs[], as mapped at UENVS. */
#define ENVS_SIZE ROUNDUP(NENV * sizeof(struct Env), PGSIZE)

pml4e_t *kern_pml4;           /* the kernel's PML4 (virtual address) */
physaddr_t kern_cr3;          /* ... and its physical address */
/* Until mem_init finishes, only the boot tables' 1 GiB is mapped. */
physaddr_t kmap_limit = KLINKSIZE;

static void check_boot_pml4e(void);

/* ---- Static kernel mappings ------------------------------------------- */

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

/* ---- Device registers ------------------------------------------------- */

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

/* ---- Self-checks ------------------------------------------------------------ */

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
