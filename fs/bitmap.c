/*
 * The free-block bitmap: allocating and freeing disk blocks, and the
 * share of the disk that only the host's own programs may fill.
 *
 * Invariants (besides the on-disk ones of inc/fs.h):
 *  - nfree is the number of blocks in [first_data_block(), s_nblocks)
 *    that the bitmap (the cached copy) marks free: bitmap_init counts
 *    them, alloc_block_cached and free_block keep it.
 *  - While guest_allocating is set (fs/serv.c sets it for exactly the
 *    requests a guest sends), an allocation that would leave fewer than
 *    host_reserve() blocks free fails with -E_NO_DISK: guests, all of
 *    them together, never take the disk below that reserve, which the
 *    host's own programs (and the file system's own tables, allocated
 *    for them) may use to the last block. A guest's disk image is
 *    sparse, so filling its holes is the only way a guest allocates;
 *    this is the one place every such allocation passes.
 *  - A block is handed out only after its bit is cleared, so two files
 *    never get one block, and (see fs.c) it is zeroed before anything
 *    points to it.
 */
#include "fs.h"

/* Bits in one word of the bitmap. */
#define WORDBITS 32
/* The host's reserve is 1 / 2^HOST_RESERVE_SHIFT of the disk (6.25%):
 * like the blocks a Unix file system keeps for root, enough that the
 * host can still write, sync and start a guest when guests have taken
 * every block they may (8 MiB of the 128 MiB default disk). */
#define HOST_RESERVE_SHIFT 4

struct Super *super;
uint32_t *bitmap;

/* Where alloc_block starts looking: just past the last block it gave. */
static uint32_t alloc_hint;
/* Free data blocks (see the invariants). */
static uint32_t nfree;
/* Are the allocations of now a guest's? (See the invariants.) */
static bool guest_allocating;

/* When set, told of each block alloc_block hands out, before anything can
 * write the block: the self-checks (check.c) save its old contents. */
void (*alloc_block_watch)(uint32_t blockno);

/* The first block that may hold file data. */
uint32_t first_data_block(void)
{
	return BITMAP_BLOCKNO + NBITMAPBLOCKS(super->s_nblocks);
}

/* Can b be a file's block (as opposed to garbage on a corrupt disk)? */
bool blockno_ok(uint32_t b)
{
	return b >= first_data_block() && b < super->s_nblocks;
}

bool block_is_free(uint32_t blockno)
{
	if (!super || !bitmap || blockno >= super->s_nblocks)
		return false;
	return (bitmap[blockno / WORDBITS] >> (blockno % WORDBITS)) & 1;
}

/* Blocks that guests may never take (see the invariants). */
static uint32_t host_reserve(void)
{
	return super->s_nblocks >> HOST_RESERVE_SHIFT;
}

/* See fs.h and the invariants. */
void fs_alloc_for_guest(bool guest)
{
	guest_allocating = guest;
}

/* Mark blockno free, and forget its cached copy. */
void free_block(uint32_t blockno)
{
	if (!blockno_ok(blockno))
		panic("free_block: bad block number %08x", blockno);
	if (block_is_free(blockno)) {
		/* Only a corrupt disk (a block in two files) gets here. */
		warn("free_block: block %08x is already free", blockno);
		return;
	}
	bc_discard(blockno);
	bitmap[blockno / WORDBITS] |= 1U << (blockno % WORDBITS);
	nfree++;
}

/*
 * A free block, marked in use, or -E_NO_DISK (every block in use, or a
 * guest's allocation would eat into the host's reserve). With cache, it
 * also gets a cached page of zeros (marked dirty, so the zeros reach
 * the disk); without, the caller writes the whole block to the disk.
 */
int alloc_block_cached(bool cache)
{
	uint32_t first = first_data_block(), ndata, i, b;

	if (guest_allocating && nfree <= host_reserve())
		return -E_NO_DISK;
	ndata = super->s_nblocks - first;
	if (alloc_hint < first || alloc_hint >= super->s_nblocks)
		alloc_hint = first;
	for (i = 0; i < ndata; i++) {
		b = first + (alloc_hint - first + i) % ndata;
		if (!block_is_free(b))
			continue;
		bitmap[b / WORDBITS] &= ~(1U << (b % WORDBITS));
		nfree--;
		alloc_hint = b + 1;
		if (alloc_block_watch)
			alloc_block_watch(b);
		if (cache)
			bc_map_zero(b);
		return b;
	}
	return -E_NO_DISK;
}

/* Allocate a block, zeroed in the cache. Returns its number, or
 * -E_NO_DISK. The bitmap reaches the disk with the next flush or sync. */
int alloc_block(void)
{
	return alloc_block_cached(true);
}

void flush_bitmap(void)
{
	uint32_t b;

	for (b = BITMAP_BLOCKNO; b < first_data_block(); b++)
		flush_block(diskaddr(b));
}

/* Count the free data blocks; words with no free block are skipped
 * whole (the user library has no popcount: libgcc is not linked). */
static uint32_t count_free(void)
{
	uint32_t b = first_data_block(), end = super->s_nblocks, n = 0;

	while (b < end) {
		if (b % WORDBITS == 0 && bitmap[b / WORDBITS] == 0) {
			b += WORDBITS;
			continue;
		}
		n += block_is_free(b);
		b++;
	}
	return n;
}

/* Read in and check the bitmap (super must be set), and count it. */
void bitmap_init(void)
{
	uint32_t b, first = first_data_block();
	uint32_t *bm = diskaddr(BITMAP_BLOCKNO);

	/* Read every bitmap block in before bitmap is set: the fault handler
	 * consults the bitmap, which must not fault in turn. */
	for (b = BITMAP_BLOCKNO; b < first; b++)
		(void)*(volatile uint32_t *)diskaddr(b);
	bitmap = bm;
	for (b = 0; b < first; b++)
		if (block_is_free(b))
			panic("reserved block %08x is marked free", b);
	bc_set_pinned(first);
	alloc_hint = first;
	nfree = count_free();
	cprintf("bitmap is good\n");
}
