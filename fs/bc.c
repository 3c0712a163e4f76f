/*
 * The block cache. The whole disk appears at DISKMAP: touching an
 * uncached block faults, and the fault handler reads the block in. The
 * processor's dirty bit says which cached blocks differ from the disk.
 *
 * Invariants:
 *  - A page in [DISKMAP, DISKMAP + nblocks * BLKSIZE) is mapped only
 *    while its block is cached, and it then holds the block's data as
 *    last written by the server. It has PTE_D exactly when it may differ
 *    from the disk: after reading or writing a block we remap the page
 *    onto itself, which clears PTE_D.
 *  - Evicting a block writes it back first, so dropping any unpinned
 *    page is invisible to the rest of the server: the next touch reads
 *    back what was there. Blocks below npinned (the superblock and the
 *    bitmap, which fs.c holds pointers into and which the fault handler
 *    reads) are never evicted.
 *  - ncached counts the mapped pages of the disk map, and stays at most
 *    BC_MAXCACHED: the cache never takes all of memory. cached_bits has
 *    a bit set for exactly those blocks (bc_count keeps both), so a
 *    sync visits cached blocks only (bc_next_cached), not every block
 *    of a large disk.
 *  - Disk transfers move runs of up to BC_RUN_MAX contiguous blocks in
 *    one disk_read or disk_write (in a guest, one host request): a write
 *    of a dirty block takes the dirty blocks right after it along, and
 *    a read miss reads ahead the in-use, uncached blocks after it. Only
 *    blocks the bitmap marks in use are read ahead (a free block is
 *    never read), and read-ahead never evicts: it stops where the cache
 *    is full.
 */
#include "fs.h"

/* The most blocks kept in memory at once (32 MiB), whichever clients'
 * requests brought them in: guests get no share of their own (why that
 * suffices: fs/serv.c's invariants). */
#ifndef BC_MAXCACHED
#define BC_MAXCACHED 8192
#endif
/* Blocks evicted at a time when the cache is full. */
#define BC_EVICT_BATCH 64
/* The most blocks one disk transfer moves: a host bulk request's worth
 * (inc/fs.h), and within one IDE command (256 sectors). */
#define BC_RUN_MAX (FSBULK_MAX / BLKSIZE)
static_assert(BC_RUN_MAX * BLKSECTS <= 256);

static uint32_t ncached;
/* A bit per block of the largest disk: is it cached? (See the top.) */
#define CACHED_WORD_BITS 64
static uint64_t cached_bits[DISKSIZE / BLKSIZE / CACHED_WORD_BITS];
static uint32_t npinned = BITMAP_BLOCKNO;
/* Where the next eviction scan starts (a clock hand). */
static uint32_t evict_hand;

/* How many blocks the disk map can hold: the bound before super exists. */
static uint32_t disk_nblocks(void)
{
	return super ? super->s_nblocks : DISKSIZE / BLKSIZE;
}

/* The address where block blockno of the disk is mapped. */
void *diskaddr(uint32_t blockno)
{
	if (blockno == 0 || blockno >= disk_nblocks())
		panic("bad block number %08x in diskaddr", blockno);
	return (char *)(DISKMAP + (uintptr_t)blockno * BLKSIZE);
}

/* Is va mapped? Each level of the page-table tree must be present. */
bool va_is_mapped(void *va)
{
	uintptr_t v = (uintptr_t)va;

	return (uvpml4e[v >> PML4XSHIFT] & PTE_P) &&
	       (uvpde[v >> PDPXSHIFT] & PTE_P) &&
	       (uvpd[v >> PDXSHIFT] & PTE_P) && (uvpt[PGNUM(v)] & PTE_P);
}

/* Has the page at va (which must be mapped) been written to? */
bool va_is_dirty(void *va)
{
	return (uvpt[PGNUM(va)] & PTE_D) != 0;
}

/* The block whose page holds va, which must lie in the disk map. */
uint32_t va2blockno(const void *va, const char *who)
{
	uintptr_t v = (uintptr_t)va;

	if (v < DISKMAP || v >= DISKMAP + DISKSIZE)
		panic("%s: %p is not in the disk map", who, va);
	return (v - DISKMAP) / BLKSIZE;
}

/* The page of block-map address addr was just mapped (in) or unmapped. */
static void bc_count(void *addr, bool in)
{
	uint32_t b = va2blockno(addr, "bc_count");
	uint64_t bit = 1ULL << (b % CACHED_WORD_BITS);

	if (in) {
		ncached++;
		cached_bits[b / CACHED_WORD_BITS] |= bit;
	} else {
		ncached--;
		cached_bits[b / CACHED_WORD_BITS] &= ~bit;
	}
}

/* The first cached block in [b, end), or end if there is none. */
uint32_t bc_next_cached(uint32_t b, uint32_t end)
{
	uint64_t word;

	while (b < end) {
		word = cached_bits[b / CACHED_WORD_BITS] >> (b % CACHED_WORD_BITS);
		if (word)
			return MIN(b + (uint32_t)__builtin_ctzll(word), end);
		b = ROUNDDOWN(b, CACHED_WORD_BITS) + CACHED_WORD_BITS;
	}
	return end;
}

/* Map addr onto its own page again: the new PTE has no PTE_D. */
static void clear_dirty(void *addr)
{
	int r;

	r = sys_page_map(0, addr, 0, addr, uvpt[PGNUM(addr)] & PTE_SYSCALL);
	if (r < 0)
		panic("clearing the dirty bit of %p: %e", addr, r);
}

/* Is block blockno cached and dirty? */
static bool block_is_dirty(uint32_t blockno)
{
	void *addr = (char *)DISKMAP + (uintptr_t)blockno * BLKSIZE;

	return blockno < disk_nblocks() && va_is_mapped(addr) &&
	       va_is_dirty(addr);
}

/*
 * Write the block at addr back to disk if it is cached and dirty, with
 * the dirty blocks that follow it (up to BC_RUN_MAX in all): their pages
 * are contiguous in the disk map, so one disk write takes them all.
 * Returns how many blocks it wrote (0: none was dirty).
 */
uint32_t flush_block(void *addr)
{
	uint32_t blockno = va2blockno(addr, "flush_block"), n, i;
	int r;

	addr = ROUNDDOWN(addr, BLKSIZE);
	if (!va_is_mapped(addr) || !va_is_dirty(addr))
		return 0;
	for (n = 1; n < BC_RUN_MAX && block_is_dirty(blockno + n); n++)
		;
	if ((r = disk_write(blockno * BLKSECTS, addr, n * BLKSECTS)) < 0)
		panic("writing blocks %08x+%u: %e", blockno, n, r);
	for (i = 0; i < n; i++)
		clear_dirty((char *)addr + i * BLKSIZE);
	return n;
}

/* Write back and unmap up to n unpinned cached blocks, in clock order. */
static void bc_evict(uint32_t n)
{
	uint32_t nblocks = disk_nblocks(), scanned;
	void *addr;

	for (scanned = 0; n > 0 && scanned < nblocks; scanned++) {
		if (evict_hand < npinned || evict_hand >= nblocks)
			evict_hand = npinned;
		addr = (char *)DISKMAP + (uintptr_t)evict_hand * BLKSIZE;
		evict_hand++;
		if (!va_is_mapped(addr))
			continue;
		flush_block(addr);
		if (sys_page_unmap(0, addr) < 0)
			panic("bc_evict: unmap %p", addr);
		bc_count(addr, false);
		n--;
	}
}

/* Map a fresh page at addr (a block's address), making room if needed. */
static void bc_alloc_page(void *addr)
{
	int r;

	if (ncached >= BC_MAXCACHED)
		bc_evict(BC_EVICT_BATCH);
	r = sys_page_alloc(0, addr, PTE_P | PTE_U | PTE_W);
	if (r == -E_NO_MEM) {
		bc_evict(BC_EVICT_BATCH);
		r = sys_page_alloc(0, addr, PTE_P | PTE_U | PTE_W);
	}
	if (r < 0)
		panic("block cache: allocating a page at %p: %e", addr, r);
	bc_count(addr, true);
}

/*
 * Map fresh pages for the blocks after blockno (whose page is mapped
 * already) worth reading ahead: in use, not cached, while the cache has
 * room without evicting. Returns how many blocks the read takes in all,
 * blockno included.
 */
static uint32_t bc_readahead(uint32_t blockno)
{
	uint32_t n, b;
	void *addr;

	if (!bitmap)
		return 1;
	for (n = 1; n < BC_RUN_MAX; n++) {
		b = blockno + n;
		addr = (char *)DISKMAP + (uintptr_t)b * BLKSIZE;
		if (b >= disk_nblocks() || block_is_free(b) ||
		    va_is_mapped(addr) || ncached >= BC_MAXCACHED ||
		    sys_page_alloc(0, addr, PTE_P | PTE_U | PTE_W) < 0)
			break;
		bc_count(addr, true);
	}
	return n;
}

/* Fault handler: read in the block the server touched, and some after. */
static void bc_pgfault(struct UTrapframe *utf)
{
	void *addr = (void *)utf->utf_fault_va;
	uintptr_t v = (uintptr_t)addr;
	uint32_t blockno, n, i;
	int r;

	if (v < DISKMAP || v >= DISKMAP + DISKSIZE || (utf->utf_err & PTE_P))
		panic("FS page fault outside the block cache: va %08lx "
		      "rip %08lx err %lx", v, utf->utf_rip, utf->utf_err);
	blockno = (v - DISKMAP) / BLKSIZE;
	if (blockno >= disk_nblocks())
		panic("reading non-existent block %08x", blockno);
	addr = ROUNDDOWN(addr, BLKSIZE);
	bc_alloc_page(addr);
	n = bc_readahead(blockno);
	if ((r = disk_read(blockno * BLKSECTS, addr, n * BLKSECTS)) < 0)
		panic("reading blocks %08x+%u: %e", blockno, n, r);
	for (i = 0; i < n; i++)
		clear_dirty((char *)addr + i * BLKSIZE);
	/* Nothing may read a free block: that would be a server bug. */
	if (bitmap && block_is_free(blockno))
		panic("reading free block %08x", blockno);
}

/*
 * Give block blockno (just allocated) a cached page of zeros, marked
 * dirty so the zeros reach the disk; without reading the block first.
 */
void bc_map_zero(uint32_t blockno)
{
	char *addr = diskaddr(blockno);

	if (!va_is_mapped(addr))
		bc_alloc_page(addr);
	memset(addr, 0, BLKSIZE);
}

/* Drop block blockno (just freed) from the cache without writing it. */
void bc_discard(uint32_t blockno)
{
	char *addr = diskaddr(blockno);

	if (!va_is_mapped(addr))
		return;
	if (sys_page_unmap(0, addr) < 0)
		panic("bc_discard: unmap %p", addr);
	bc_count(addr, false);
}

/* Write block blockno back if dirty, then drop it from the cache. */
void bc_drop(uint32_t blockno)
{
	char *addr = diskaddr(blockno);

	if (blockno < npinned)
		return;
	flush_block(addr);
	bc_discard(blockno);
}

/* Blocks [0, n) stay cached for good (see the invariants). */
void bc_set_pinned(uint32_t n)
{
	npinned = n;
}

void bc_init(void)
{
	set_pgfault_handler(bc_pgfault);
}
