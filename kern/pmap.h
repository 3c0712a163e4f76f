/*
 * Physical page allocator and page tables: kern/pmap_phys.c (pages[],
 * page_alloc, page_free), kern/pmap.c (pt_walk, page_insert,
 * user_mem_check...), kern/pmap_kern.c (mem_init, mmio_map_region).
 */
#ifndef JOS_KERN_PMAP_H
#define JOS_KERN_PMAP_H
#ifndef JOS_KERNEL
#error "This is a JOS kernel header; user programs should not #include it"
#endif

#include <inc/memlayout.h>
#include <inc/assert.h>

extern char bootstacktop[], bootstack[];

extern struct PageInfo *pages;
extern size_t npages;
extern pml4e_t *kern_pml4;
extern physaddr_t kern_cr3;
/* Physical addresses below this are reachable through KERNBASE. */
extern physaddr_t kmap_limit;

/*
 * How one kind of page table encodes its entries. The host's tables and
 * the VMM's EPT/NPT share the walker in pmap.c; only these bits differ.
 */
struct ptfmt {
	const char *name;
	uint64_t present;    /* an entry is valid if any of these bits is set */
	uint64_t table_perm; /* bits of an entry that points to a table */
	uint64_t large;      /* bit marking a large (2 MiB/1 GiB) leaf */
};
extern const struct ptfmt host_ptfmt;

/* Levels of the walk: 0 is the page table (4 KiB leaves), 3 the PML4. */
#define PT_LEVEL_PT 0
#define PT_LEVEL_PD 1
#define PT_LEVEL_PDPT 2
#define PT_LEVEL_PML4 3

/* Converts a kernel virtual address to the physical address it maps. */
#define PADDR(kva) _paddr(__FILE__, __LINE__, kva)

static inline physaddr_t _paddr(const char *file, int line, const void *kva)
{
	uintptr_t va = (uintptr_t)kva;
	if (va >= KERNLINK && va < KERNLINK + KLINKSIZE)
		return va - KERNLINK;
	if (va >= KERNBASE && va - KERNBASE < kmap_limit)
		return va - KERNBASE;
	_panic(file, line, "PADDR called with invalid kva %016lx",
	       (unsigned long)va);
}

/* Converts a physical address to its address in the direct map. */
#define KADDR(pa) _kaddr(__FILE__, __LINE__, pa)

static inline void *_kaddr(const char *file, int line, physaddr_t pa)
{
	if (pa >= kmap_limit)
		_panic(file, line, "KADDR called with invalid pa %016lx",
		       (unsigned long)pa);
	return (void *)(pa + KERNBASE);
}

enum {
	/* For page_alloc, zero the returned physical page. */
	ALLOC_ZERO = 1 << 0,
};

void mem_init(uint32_t boot_magic, physaddr_t mbinfo_pa);
void page_init(void);
struct PageInfo *page_alloc(int alloc_flags);
void page_free(struct PageInfo *pp);
void page_decref(struct PageInfo *pp);
size_t page_free_count(void);

pte_t *pt_walk(const struct ptfmt *f, pte_t *root, uintptr_t va, int level,
	       bool create);
pte_t *pt_walk_count(const struct ptfmt *f, pte_t *root, uintptr_t va,
		     int level, bool create, uint64_t *nalloc);
void pt_free_subtree(const struct ptfmt *f, pte_t *entry, int level);
pte_t *pml4e_walk(pml4e_t *pml4, const void *va, int create);
int page_insert(pml4e_t *pml4, struct PageInfo *pp, void *va, int perm);
void page_remove(pml4e_t *pml4, void *va);
struct PageInfo *page_lookup(pml4e_t *pml4, void *va, pte_t **pte_store);
void tlb_invalidate(pml4e_t *pml4, void *va);
void *mmio_map_region(physaddr_t pa, size_t size);

struct Env;
int user_mem_check(struct Env *env, const void *va, size_t len, int perm);
void user_mem_assert(struct Env *env, const void *va, size_t len, int perm);

static inline physaddr_t page2pa(struct PageInfo *pp)
{
	return (physaddr_t)(pp - pages) << PGSHIFT;
}

static inline struct PageInfo *pa2page(physaddr_t pa)
{
	if (PGNUM(pa) >= npages)
		panic("pa2page called with invalid pa %016lx", (unsigned long)pa);
	return &pages[PGNUM(pa)];
}

static inline void *page2kva(struct PageInfo *pp)
{
	return KADDR(page2pa(pp));
}

#endif /* !JOS_KERN_PMAP_H */
