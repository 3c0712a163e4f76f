/*
 * The file-system server's start-up self-checks, in the manner of the
 * classic JOS lab 5 server's own: the block cache, alloc_block,
 * file_open, file_get_block, file_flush, file_truncate and a rewrite of a
 * file. Each prints "<what> is good" once it passed, and panics naming
 * the failed condition otherwise. They use blocks they allocate and a
 * scratch file, FS_CHECK_PATH, never anyone's files. On a disk with
 * fewer than MAXWATCHED free blocks they step aside (saying so): a full
 * disk must still be served.
 *
 * Invariants:
 *  - The disk ends as it was, byte for byte. Every block the checks
 *    allocate is freed again and gets back its old contents, which
 *    watch_block saves from the disk when alloc_block hands the block out
 *    (before anything can write it). The scratch file's directory entry
 *    was a free one, all zeros (fsformat writes zeros, file_remove
 *    zeroes), and is zeroed again; a root directory that grew a block for
 *    it is cut back to its old size.
 *  - A crash in the middle damages nothing: the blocks the checks write
 *    are free on the disk or belong to the scratch file, which the next
 *    start removes (remove_leftover) before checking.
 *  - The disk traffic is a few dozen blocks, so a guest, whose every
 *    disk access is a round trip to the host, still starts quickly.
 */
#include "fs.h"

/* The blocks the checks may allocate in all (they take five, six if
 * the root directory must grow for the scratch file). */
#define MAXWATCHED 8

/* What the scratch file holds. The second replaces the first in place,
 * so the two have one length. */
#define TEXT1 "The FS self-check wrote this.\n"
#define TEXT2 "The FS self-check rewrote it.\n"
#define TEXTLEN (sizeof(TEXT1) - 1)
static_assert(sizeof(TEXT1) == sizeof(TEXT2));

/* Something other than zeros, for the block cache check. */
#define BC_PATTERN "block cache check"

/* Bits in one word of the bitmap. */
#define WORDBITS 32

/* 32-bit FNV-1a, to see that the bitmap came back as it was. */
#define FNV_OFFSET 2166136261U
#define FNV_PRIME 16777619U

/* A failed check stops the server, naming the condition and its line. */
#define CHECK(cond) \
	((cond) ? (void)0 : panic("FS self-check failed: %s", #cond))

/* The blocks allocated during the checks, with their old contents. */
static struct {
	uint32_t blockno;
	char old[BLKSIZE];
} watched[MAXWATCHED];
static uint32_t nwatched;

/* One block as the disk holds it, read past the cache. */
static char rawbuf[BLKSIZE];

static void raw_read(uint32_t blockno, void *dst)
{
	int r = disk_read(blockno * BLKSECTS, dst, BLKSECTS);

	if (r < 0)
		panic("FS self-check: reading block %08x: %e", blockno, r);
}

static void raw_write(uint32_t blockno, const void *src)
{
	int r = disk_write(blockno * BLKSECTS, src, BLKSECTS);

	if (r < 0)
		panic("FS self-check: writing block %08x: %e", blockno, r);
}

/* alloc_block_watch while the checks run. A block seen before keeps the
 * contents saved then: those are the ones it had before the checks. */
static void watch_block(uint32_t blockno)
{
	uint32_t i;

	for (i = 0; i < nwatched; i++)
		if (watched[i].blockno == blockno)
			return;
	if (nwatched == MAXWATCHED)
		panic("FS self-check: more than %d blocks allocated",
		      MAXWATCHED);
	raw_read(blockno, watched[nwatched].old);
	watched[nwatched++].blockno = blockno;
}

/* Give every watched block, free again by now, its old contents. */
static void restore_watched(void)
{
	uint32_t i;

	for (i = 0; i < nwatched; i++) {
		CHECK(block_is_free(watched[i].blockno));
		/* A cached copy would no longer match the disk. */
		CHECK(!va_is_mapped(diskaddr(watched[i].blockno)));
		raw_write(watched[i].blockno, watched[i].old);
	}
	nwatched = 0;
}

static uint32_t count_free(void)
{
	uint32_t b, n = 0;

	for (b = 0; b < super->s_nblocks; b++)
		n += block_is_free(b);
	return n;
}

static uint32_t bitmap_hash(void)
{
	uint32_t i, h = FNV_OFFSET;
	uint32_t nwords = NBITMAPBLOCKS(super->s_nblocks) * BLKBITSIZE /
			  WORDBITS;

	for (i = 0; i < nwords; i++)
		h = (h ^ bitmap[i]) * FNV_PRIME;
	return h;
}

/* Is blockno marked free in the bitmap on the disk (not the cache's)? */
static bool free_on_disk(uint32_t blockno)
{
	const uint32_t *words = (const uint32_t *)rawbuf;
	uint32_t bit = blockno % BLKBITSIZE;

	raw_read(BITMAP_BLOCKNO + blockno / BLKBITSIZE, rawbuf);
	return (words[bit / WORDBITS] >> (bit % WORDBITS)) & 1;
}

/* f's directory entry as the disk holds it (in rawbuf). */
static const struct File *entry_on_disk(const struct File *f)
{
	raw_read(va2blockno(f, "fs_check"), rawbuf);
	return (const struct File *)(rawbuf + PGOFF(f));
}

static bool all_zero(const char *p, size_t n)
{
	while (n > 0 && *p == 0)
		p++, n--;
	return n == 0;
}

/* Drop a clean cached block, so that the next touch reads the disk. */
static void evict(void *blk)
{
	CHECK(va_is_mapped(blk) && !va_is_dirty(blk));
	bc_discard(va2blockno(blk, "fs_check"));
	CHECK(!va_is_mapped(blk));
}

/* A scratch file left by a check that a crash interrupted. */
static void remove_leftover(void)
{
	struct File *f;

	if (file_open(FS_CHECK_PATH, &f) < 0)
		return;
	cprintf("FS: removing %s, left by an interrupted self-check\n",
		FS_CHECK_PATH);
	CHECK(file_remove(FS_CHECK_PATH) == 0);
}

/* A block written through the cache reaches the disk when flushed, and
 * comes back from the disk after its page is dropped. */
static void check_bc(void)
{
	char *blk;
	int b;

	CHECK((b = alloc_block()) > 0);
	blk = diskaddr(b);
	/* A new block is cached, zeroed, and dirty (the zeros must reach
	 * the disk). */
	CHECK(va_is_mapped(blk) && va_is_dirty(blk) && all_zero(blk, BLKSIZE));
	strcpy(blk, BC_PATTERN);
	flush_block(blk);
	CHECK(!va_is_dirty(blk));
	raw_read(b, rawbuf);
	CHECK(memcmp(rawbuf, blk, BLKSIZE) == 0);
	evict(blk);
	CHECK(strcmp(blk, BC_PATTERN) == 0);
	CHECK(va_is_mapped(blk) && !va_is_dirty(blk));
	free_block(b);
	CHECK(block_is_free(b) && !va_is_mapped(blk));
	cprintf("block cache is good\n");
}

/* Two blocks: distinct data blocks, taken from the free ones, zeroed;
 * freeing them gives them back. */
static void check_alloc_block(void)
{
	uint32_t nfree = count_free();
	int a, b;

	CHECK((a = alloc_block()) > 0 && (b = alloc_block()) > 0);
	CHECK(a != b && blockno_ok(a) && blockno_ok(b));
	CHECK(!block_is_free(a) && !block_is_free(b));
	CHECK(count_free() == nfree - 2);
	CHECK(all_zero(diskaddr(a), BLKSIZE) && all_zero(diskaddr(b), BLKSIZE));
	free_block(a);
	free_block(b);
	CHECK(block_is_free(a) && block_is_free(b) && count_free() == nfree);
	cprintf("alloc_block is good\n");
}

/* The scratch file: missing, then created, then found where it is. */
static struct File *check_file_open(void)
{
	struct File *f, *g;

	CHECK(file_open(FS_CHECK_PATH, &f) == -E_NOT_FOUND);
	CHECK(file_create(FS_CHECK_PATH, &f, FTYPE_REG) == 0);
	CHECK(f->f_size == 0 && f->f_type == FTYPE_REG);
	CHECK(file_open(FS_CHECK_PATH, &g) == 0 && g == f);
	CHECK(file_create(FS_CHECK_PATH, &g, FTYPE_REG) == -E_FILE_EXISTS);
	/* A regular file is no directory. */
	CHECK(file_open(FS_CHECK_PATH "/x", &g) == -E_NOT_FOUND);
	CHECK(file_open("/", &g) == 0 && g == &super->s_root);
	cprintf("file_open is good\n");
	return f;
}

/* A block written and flushed comes back from the disk as written. */
static void check_file_get_block(struct File *f)
{
	char *blk;

	CHECK(file_write(f, TEXT1, TEXTLEN, 0) == (ssize_t)TEXTLEN);
	CHECK(f->f_size == TEXTLEN && f->f_direct[0] != 0);
	file_flush(f);
	evict(diskaddr(f->f_direct[0]));
	CHECK(file_get_block(f, 0, &blk) == 0);
	CHECK(blk == diskaddr(f->f_direct[0]));
	CHECK(memcmp(blk, TEXT1, TEXTLEN) == 0);
	CHECK(file_get_block(f, MAXFILEBLOCKS, &blk) == -E_INVAL);
	cprintf("file_get_block is good\n");
}

/* A changed block is dirty until file_flush, which writes it out, with
 * the file's directory entry and the bitmap that has the block in use. */
static void check_file_flush(struct File *f)
{
	uint32_t b = f->f_direct[0];
	char *blk = diskaddr(b);
	const struct File *ondisk;

	memcpy(blk, TEXT2, TEXTLEN);
	CHECK(va_is_dirty(blk));
	file_flush(f);
	CHECK(!va_is_dirty(blk) && !va_is_dirty(f));
	raw_read(b, rawbuf);
	CHECK(memcmp(rawbuf, TEXT2, TEXTLEN) == 0);
	ondisk = entry_on_disk(f);
	CHECK(ondisk->f_size == TEXTLEN && ondisk->f_direct[0] == b);
	CHECK(!free_on_disk(b));
	cprintf("file_flush is good\n");
}

/* Truncating to 0 frees the block, in the cache and, once flushed, in
 * the bitmap and the directory entry on the disk. nfree: the free
 * blocks while the file was empty. */
static void check_file_truncate(struct File *f, uint32_t nfree)
{
	uint32_t old = f->f_direct[0];
	const struct File *ondisk;

	CHECK(file_set_size(f, 0) == 0);
	CHECK(f->f_size == 0 && f->f_direct[0] == 0);
	CHECK(block_is_free(old) && !va_is_mapped(diskaddr(old)));
	CHECK(count_free() == nfree);
	file_flush(f);
	CHECK(!va_is_dirty(f) && free_on_disk(old));
	ondisk = entry_on_disk(f);
	CHECK(ondisk->f_size == 0 && ondisk->f_direct[0] == 0);
	cprintf("file_truncate is good\n");
}

/* Grown again and rewritten, the file reads back its new contents; the
 * new block shows nothing of what a block held before. */
static void check_file_rewrite(struct File *f)
{
	char buf[TEXTLEN + 1], *blk;

	CHECK(file_set_size(f, TEXTLEN) == 0);
	CHECK(file_get_block(f, 0, &blk) == 0);
	CHECK(all_zero(blk, BLKSIZE));
	memcpy(blk, TEXT1, TEXTLEN);
	file_flush(f);
	CHECK(!va_is_dirty(blk) && !va_is_dirty(f));
	evict(blk);
	CHECK(file_read(f, buf, sizeof(buf), 0) == (ssize_t)TEXTLEN);
	CHECK(memcmp(buf, TEXT1, TEXTLEN) == 0);
	cprintf("file rewrite is good\n");
}

/* Remove the scratch file and undo what creating it did, then check that
 * the free blocks are those of the start (nfree of them, the bitmap
 * hashing to hash) and restore the watched blocks' contents. */
static void clean_up(off_t root_size, uint32_t nfree, uint32_t hash)
{
	struct File *f;

	CHECK(file_remove(FS_CHECK_PATH) == 0);
	CHECK(file_open(FS_CHECK_PATH, &f) == -E_NOT_FOUND);
	if (super->s_root.f_size > root_size) {
		/* The root grew a block for the scratch entry. */
		CHECK(file_set_size(&super->s_root, root_size) == 0);
		file_flush(&super->s_root);
	}
	CHECK(count_free() == nfree && bitmap_hash() == hash);
	restore_watched();
}

/* Run every check; needs fs_init first. */
void fs_check(void)
{
	off_t root_size;
	uint32_t nfree, nfree_empty, hash;
	struct File *f;

	remove_leftover();
	root_size = super->s_root.f_size;
	nfree = count_free();
	if (nfree < MAXWATCHED) {
		/* A full disk is no reason to refuse to serve it. */
		cprintf("FS self-check skipped: %u free blocks\n", nfree);
		return;
	}
	hash = bitmap_hash();
	alloc_block_watch = watch_block;

	check_bc();
	check_alloc_block();
	f = check_file_open();
	nfree_empty = count_free();
	check_file_get_block(f);
	check_file_flush(f);
	check_file_truncate(f, nfree_empty);
	check_file_rewrite(f);

	alloc_block_watch = NULL;
	clean_up(root_size, nfree, hash);
}
