/*
 * Physical memory: the boot loader's memory map, the boot-time bump
 * allocator (boot_alloc), pages[] and the page allocator (page_init,
 * page_alloc, page_free, page_decref), with the allocator's self-checks.
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
 */
#include <inc/mmu.h>
#include <inc/string.h>
#include <inc/assert.h>
#include <inc/multiboot.h>

#include <kern/pmap.h>
#include <kern/pmap_internal.h>

/* The most physical memory the kernel manages (pages[] is 16 B/page). */
#define MAXPHYS (64UL << 30)
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

/* ---- The boot memory map ------------------------------------------------ */

/*
 * Copy the boot loader's memory map into the kernel: the low pages it lives
 * in become free memory once page_init has run.
 */
void read_boot_mmap(uint32_t magic, physaddr_t mbinfo_pa)
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
void detect_memory(void)
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
void *boot_alloc(size_t n)
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

/* ---- The free list ---------------------------------------------------- */

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

/* ---- Self-checks ------------------------------------------------------------ */

/* Every page on the free list is usable RAM the kernel does not use. */
void check_page_free_list(void)
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
void check_page_alloc(void)
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
