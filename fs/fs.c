/*
 * The file system proper: files' block trees, directories and path
 * names, on top of the block cache (bc.c) and the free-block bitmap
 * (bitmap.c). The on-disk format and its invariants are in inc/fs.h.
 *
 * Invariants kept here, besides those of inc/fs.h:
 *  - A block is zeroed when it is allocated, before any pointer to it is
 *    stored, and the bytes of a file's last block past f_size are zero:
 *    so holes, tables and reused blocks never show old data.
 *  - A pointer to a block is cleared when the block is freed, and a
 *    freed block leaves the cache unwritten.
 *  - Every block number read from the disk is checked (blockno_ok)
 *    before it is used: a corrupt disk gives errors, not wild accesses.
 *  - Pointers into the cache (struct File *, table entries) stay valid
 *    across evictions: an evicted block is written back first and comes
 *    back on the next touch.
 */
#include "fs.h"

static void check_super(void)
{
	struct Super *s = diskaddr(SUPER_BLOCKNO);
	uint64_t nsecs = disk_nsectors();

	/* Read it in while super is NULL: the fault handler consults it. */
	if (s->s_magic != FS_MAGIC)
		panic("bad file system magic number %08x", s->s_magic);
	if (s->s_nblocks > DISKSIZE / BLKSIZE)
		panic("file system is too large (%u blocks)", s->s_nblocks);
	if (s->s_nblocks <= BITMAP_BLOCKNO + NBITMAPBLOCKS(s->s_nblocks))
		panic("file system is too small (%u blocks)", s->s_nblocks);
	if (nsecs && (uint64_t)s->s_nblocks * BLKSECTS > nsecs)
		panic("file system (%u blocks) is larger than its disk",
		      s->s_nblocks);
	if (s->s_root.f_type != FTYPE_DIR)
		panic("the root is not a directory");
	super = s;
	cprintf("superblock is good\n");
}

/* Find the disk's file system and check it. Needs the disk attached
 * first (ide_set_disk, or host_open in a guest). */
void fs_init(void)
{
	bc_init();
	check_super();
	bitmap_init();
}

/* ---- Files' blocks ------------------------------------------------------ */

/*
 * *ptab holds the number of a table of NINDIRECT block numbers, or 0 if
 * there is none yet. Point *pslot at the table's entry idx; if there is
 * no table, allocate one when alloc, else return -E_NOT_FOUND.
 */
static int table_slot(uint32_t *ptab, uint32_t idx, uint32_t **pslot,
		      bool alloc)
{
	int r;

	if (*ptab == 0) {
		if (!alloc)
			return -E_NOT_FOUND;
		if ((r = alloc_block()) < 0)
			return r;
		*ptab = r;
	} else if (!blockno_ok(*ptab)) {
		return -E_UNSPECIFIED;
	}
	*pslot = (uint32_t *)diskaddr(*ptab) + idx;
	return 0;
}

/*
 * Point *ppdiskbno at the slot that holds the disk block number of f's
 * block filebno (the slot holds 0 if there is no such block). With
 * alloc, missing tables on the way are allocated. Errors: -E_NOT_FOUND
 * (a table is missing and !alloc), -E_NO_DISK, -E_INVAL (filebno is
 * past the largest file).
 */
int file_block_walk(struct File *f, uint32_t filebno, uint32_t **ppdiskbno,
		    bool alloc)
{
	uint32_t *mid;
	int r;

	if (filebno < NDIRECT) {
		*ppdiskbno = &f->f_direct[filebno];
		return 0;
	}
	filebno -= NDIRECT;
	if (filebno < NINDIRECT)
		return table_slot(&f->f_indirect, filebno, ppdiskbno, alloc);
	filebno -= NINDIRECT;
	if (filebno >= NDINDIRECT)
		return -E_INVAL;
	r = table_slot(&f->f_dindirect, filebno / NINDIRECT, &mid, alloc);
	if (r < 0)
		return r;
	return table_slot(mid, filebno % NINDIRECT, ppdiskbno, alloc);
}

/* Set *blk to f's block filebno in the cache, allocating it if needed. */
int file_get_block(struct File *f, uint32_t filebno, char **blk)
{
	uint32_t *slot;
	int r;

	if ((r = file_block_walk(f, filebno, &slot, true)) < 0)
		return r;
	if (*slot == 0) {
		if ((r = alloc_block()) < 0)
			return r;
		*slot = r;
	} else if (!blockno_ok(*slot)) {
		return -E_UNSPECIFIED;
	}
	*blk = diskaddr(*slot);
	return 0;
}

/* Like file_get_block, but a hole gives *blk = NULL, not a new block. */
static int file_peek_block(struct File *f, uint32_t filebno, char **blk)
{
	uint32_t *slot;
	int r;

	*blk = NULL;
	r = file_block_walk(f, filebno, &slot, false);
	if (r == -E_NOT_FOUND)
		return 0;
	if (r < 0)
		return r;
	if (*slot == 0)
		return 0;
	if (!blockno_ok(*slot))
		return -E_UNSPECIFIED;
	*blk = diskaddr(*slot);
	return 0;
}

/* File blocks that one slot at this depth covers (0: a data block). */
static uint64_t tree_span(int depth)
{
	return depth == 0 ? 1 : depth == 1 ? NINDIRECT : NDINDIRECT;
}

/*
 * *pblk is the root of a tree of the given depth (0: a data block; 1: a
 * table of data blocks; 2: a table of tables). Free every data block of
 * it at index keep or later, and every table left with nothing to hold.
 */
static void free_tree(uint32_t *pblk, uint64_t keep, int depth)
{
	uint64_t child_span, i;
	uint32_t *tab;

	if (*pblk == 0 || keep >= tree_span(depth))
		return;
	if (!blockno_ok(*pblk)) {
		/* Garbage: forget it rather than free someone else's block. */
		if (keep == 0)
			*pblk = 0;
		return;
	}
	if (depth > 0) {
		child_span = tree_span(depth - 1);
		tab = diskaddr(*pblk);
		/* The first child may keep some blocks; the rest keep none. */
		i = keep / child_span;
		free_tree(&tab[i], keep % child_span, depth - 1);
		for (i++; i < NINDIRECT; i++)
			free_tree(&tab[i], 0, depth - 1);
	}
	if (keep == 0) {
		free_block(*pblk);
		*pblk = 0;
	}
}

/* Free f's blocks from file block keep on. */
static void file_free_blocks(struct File *f, uint64_t keep)
{
	uint64_t i;

	for (i = keep; i < NDIRECT; i++)
		free_tree(&f->f_direct[i], 0, 0);
	free_tree(&f->f_indirect, keep > NDIRECT ? keep - NDIRECT : 0, 1);
	free_tree(&f->f_dindirect,
		  keep > NDIRECT + NINDIRECT ? keep - NDIRECT - NINDIRECT : 0,
		  2);
}

/*
 * Apply fn to each block of the tree at blk (see free_tree), a table's
 * entries before the table itself: written back in that order, a table
 * never names blocks whose data is not on the disk yet.
 */
static void tree_apply(uint32_t blk, int depth, void (*fn)(uint32_t))
{
	uint32_t *tab, i;

	if (blk == 0 || !blockno_ok(blk))
		return;
	if (depth > 0) {
		tab = diskaddr(blk);
		for (i = 0; i < NINDIRECT; i++)
			tree_apply(tab[i], depth - 1, fn);
	}
	fn(blk);
}

/* tree_apply over every block of f, data and tables. */
static void file_blocks_apply(struct File *f, void (*fn)(uint32_t))
{
	int i;

	for (i = 0; i < NDIRECT; i++)
		tree_apply(f->f_direct[i], 0, fn);
	tree_apply(f->f_indirect, 1, fn);
	tree_apply(f->f_dindirect, 2, fn);
}

static void flush_blockno(uint32_t blk)
{
	flush_block(diskaddr(blk));
}

/* ---- Directories and paths ---------------------------------------------- */

/* May name be a directory entry? */
static bool name_ok(const char *name)
{
	return name[0] && strnlen(name, MAXNAMELEN) < MAXNAMELEN &&
	       !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

/* Set *file to the entry called name in dir. */
int dir_lookup(struct File *dir, const char *name, struct File **file)
{
	uint32_t i, j, nblock = dir->f_size / BLKSIZE;
	struct File *f;
	char *blk;
	int r;

	for (i = 0; i < nblock; i++) {
		if ((r = file_peek_block(dir, i, &blk)) < 0)
			return r;
		if (!blk)
			continue;
		f = (struct File *)blk;
		for (j = 0; j < BLKFILES; j++)
			if (f[j].f_name[0] &&
			    strncmp(f[j].f_name, name, MAXNAMELEN) == 0) {
				*file = &f[j];
				return 0;
			}
	}
	return -E_NOT_FOUND;
}

/* Set *file to a free entry of dir, growing dir by a block if needed. */
int dir_alloc_file(struct File *dir, struct File **file)
{
	uint32_t i, j, nblock = dir->f_size / BLKSIZE;
	struct File *f;
	char *blk;
	int r;

	for (i = 0; i < nblock; i++) {
		if ((r = file_peek_block(dir, i, &blk)) < 0)
			return r;
		if (!blk)
			continue;
		f = (struct File *)blk;
		for (j = 0; j < BLKFILES; j++)
			if (f[j].f_name[0] == 0) {
				*file = &f[j];
				return 0;
			}
	}
	if (dir->f_size + BLKSIZE > MAXFILESIZE)
		return -E_NO_DISK;
	if ((r = file_get_block(dir, nblock, &blk)) < 0)
		return r;
	dir->f_size = (off_t)(nblock + 1) * BLKSIZE;
	*file = (struct File *)blk;
	return 0;
}

/* Does dir hold no entries? */
static bool dir_is_empty(struct File *dir)
{
	uint32_t i, j, nblock = dir->f_size / BLKSIZE;
	struct File *f;
	char *blk;

	for (i = 0; i < nblock; i++) {
		if (file_peek_block(dir, i, &blk) < 0)
			return false;
		if (!blk)
			continue;
		f = (struct File *)blk;
		for (j = 0; j < BLKFILES; j++)
			if (f[j].f_name[0])
				return false;
	}
	return true;
}

static const char *skip_slash(const char *p)
{
	while (*p == '/')
		p++;
	return p;
}

/*
 * Find the file at path (NUL-terminated). On success set *pf, and *pdir
 * to its directory (NULL for the root). If only the last element is
 * missing, return -E_NOT_FOUND with *pdir set to the directory it would
 * go in and the element copied to lastelem (MAXNAMELEN bytes); in every
 * other failure *pdir is NULL.
 */
int walk_path(const char *path, struct File **pdir, struct File **pf,
	      char *lastelem)
{
	struct File *dir = NULL, *f = &super->s_root;
	char name[MAXNAMELEN];
	const char *p = skip_slash(path), *start;
	int r;

	if (pdir)
		*pdir = NULL;
	*pf = NULL;
	if (lastelem)
		lastelem[0] = 0;
	while (*p) {
		dir = f;
		for (start = p; *p && *p != '/'; p++)
			;
		if (p - start >= MAXNAMELEN)
			return -E_BAD_PATH;
		memmove(name, start, p - start);
		name[p - start] = 0;
		p = skip_slash(p);
		if (dir->f_type != FTYPE_DIR)
			return -E_NOT_FOUND;
		if ((r = dir_lookup(dir, name, &f)) < 0) {
			if (r == -E_NOT_FOUND && *p == 0) {
				if (pdir)
					*pdir = dir;
				if (lastelem)
					strcpy(lastelem, name);
			}
			return r;
		}
	}
	if (pdir)
		*pdir = dir;
	*pf = f;
	return 0;
}

/* ---- Files -------------------------------------------------------------- */

/* Create a file (FTYPE_REG) or directory (FTYPE_DIR) at path. */
int file_create(const char *path, struct File **pf, uint32_t type)
{
	char name[MAXNAMELEN];
	struct File *dir, *f;
	int r;

	r = walk_path(path, &dir, &f, name);
	if (r == 0)
		return -E_FILE_EXISTS;
	if (r != -E_NOT_FOUND || dir == NULL)
		return r;
	if (!name_ok(name))
		return -E_BAD_PATH;
	if ((r = dir_alloc_file(dir, &f)) < 0)
		return r;
	memset(f, 0, sizeof(*f));
	strcpy(f->f_name, name);
	f->f_type = type;
	/* The new entry, a grown directory and the bitmap reach the disk. */
	flush_block(f);
	file_flush(dir);
	*pf = f;
	return 0;
}

int file_open(const char *path, struct File **pf)
{
	return walk_path(path, NULL, pf, NULL);
}

/*
 * Read up to count bytes of f from offset into buf. Returns the number
 * read: 0 at or past the end of the file.
 */
ssize_t file_read(struct File *f, void *buf, size_t count, off_t offset)
{
	char *dst = buf, *blk;
	off_t pos, end;
	size_t n;
	int r;

	if (offset < 0)
		return -E_INVAL;
	if (offset >= f->f_size)
		return 0;
	end = offset + (off_t)MIN(count, (size_t)(f->f_size - offset));
	for (pos = offset; pos < end; pos += n, dst += n) {
		n = MIN((off_t)BLKSIZE - pos % BLKSIZE, end - pos);
		if ((r = file_peek_block(f, pos / BLKSIZE, &blk)) < 0)
			return pos > offset ? pos - offset : r;
		if (blk)
			memmove(dst, blk + pos % BLKSIZE, n);
		else
			memset(dst, 0, n);
	}
	return end - offset;
}

/*
 * Write count bytes from buf to f at offset, growing f if needed.
 * Returns count, or less (or -E_NO_DISK) when the disk fills up.
 */
ssize_t file_write(struct File *f, const void *buf, size_t count,
		   off_t offset)
{
	const char *src = buf;
	off_t pos, end, old_size = f->f_size;
	char *blk;
	size_t n;
	int r = 0;

	if (offset < 0 || offset > MAXFILESIZE ||
	    count > (size_t)(MAXFILESIZE - offset))
		return -E_INVAL;
	end = offset + (off_t)count;
	if (end > old_size && (r = file_set_size(f, end)) < 0)
		return r;
	for (pos = offset; pos < end; pos += n, src += n) {
		n = MIN((off_t)BLKSIZE - pos % BLKSIZE, end - pos);
		if ((r = file_get_block(f, pos / BLKSIZE, &blk)) < 0)
			break;
		memmove(blk + pos % BLKSIZE, src, n);
	}
	if (r < 0) {
		/* Keep only what was written, and the size it had before. */
		if (end > old_size)
			file_set_size(f, pos > offset && pos > old_size ?
						 pos : old_size);
		return pos > offset ? pos - offset : r;
	}
	return count;
}

/*
 * Bulk transfers for a guest's disk image (FSREQ_BULKREAD/BULKWRITE in
 * fs/serv.c). The guest's own server caches its disk; caching it here
 * as well cost every block a second copy and a page fault, and the host
 * cache's memory. So whole blocks that are not in the cache move
 * straight between the caller's buffer and the disk, a run of blocks
 * contiguous on disk per IDE command; a hole written gets a new block
 * the same way. Cached blocks, holes read and partial blocks go through
 * the cache as in file_read/file_write: a cached block
 * is never bypassed, so the cache and the disk never disagree, and a
 * block written here is on the disk when the call returns.
 */
#define DIRECT_RUN_MAX (FSBULK_MAX / BLKSIZE)
static_assert(DIRECT_RUN_MAX * BLKSECTS <= 256); /* one IDE command */

/*
 * How many of f's blocks from filebno on (at most max) are allocated
 * (for a write: or get allocated now), not in the cache, and consecutive
 * on disk; the first one's disk block number in *first. 0 when filebno
 * itself is not such a block.
 */
static uint32_t direct_run(struct File *f, uint32_t filebno, uint32_t max,
			   uint32_t *first, bool write)
{
	uint32_t *slot, n;
	int b;

	for (n = 0; n < max; n++) {
		if (file_block_walk(f, filebno + n, &slot, write) < 0)
			break;
		/* A hole being written gets a block that is never cached:
		 * the data goes to the disk now, the block pointer and the
		 * bitmap (cached, dirty) at the next sync, so a crash before
		 * it leaves the block free, never a file with garbage. */
		if (*slot == 0 && write && (b = alloc_block_cached(false)) > 0)
			*slot = b;
		if (*slot == 0 || !blockno_ok(*slot) ||
		    va_is_mapped(diskaddr(*slot)))
			break;
		if (n == 0)
			*first = *slot;
		else if (*slot != *first + n)
			break;
	}
	return n;
}

/*
 * file_read or file_write (write: true) of count bytes at offset, which
 * must lie inside f (the caller checks, as bulk_check does), with whole
 * uncached blocks going straight to or from the disk.
 */
ssize_t file_bulk(struct File *f, void *buf, size_t count, off_t offset,
		  bool write)
{
	char *p = buf;
	off_t pos = offset, end = offset + (off_t)count;
	uint32_t run, first = 0;
	ssize_t n;
	int r;

	if (offset < 0 || offset > f->f_size || (off_t)count > f->f_size - offset)
		return -E_INVAL;
	while (pos < end) {
		run = 0;
		if (pos % BLKSIZE == 0 && end - pos >= BLKSIZE)
			run = direct_run(f, pos / BLKSIZE,
					 MIN((end - pos) / BLKSIZE,
					     (off_t)DIRECT_RUN_MAX),
					 &first, write);
		if (run) {
			n = (ssize_t)run * BLKSIZE;
			r = write ? disk_write(first * BLKSECTS, p,
					       run * BLKSECTS)
				  : disk_read(first * BLKSECTS, p,
					      run * BLKSECTS);
		} else {
			n = MIN((off_t)BLKSIZE - pos % BLKSIZE, end - pos);
			r = write ? file_write(f, p, n, pos)
				  : file_read(f, p, n, pos);
			if (r >= 0 && r != n)
				r = -E_UNSPECIFIED;
		}
		if (r < 0)
			return pos > offset ? pos - offset : r;
		pos += n;
		p += n;
	}
	return count;
}

/*
 * Set f's size. Shrinking frees the blocks past the end and zeroes the
 * rest of the new last block; growing allocates nothing (a hole).
 */
int file_set_size(struct File *f, off_t newsize)
{
	char *blk;
	size_t tail = newsize % BLKSIZE;
	int r;

	if (newsize < 0 || newsize > MAXFILESIZE)
		return -E_INVAL;
	if (newsize < f->f_size) {
		file_free_blocks(f, ROUNDUP((uint64_t)newsize, BLKSIZE) /
					    BLKSIZE);
		if (tail) {
			r = file_peek_block(f, newsize / BLKSIZE, &blk);
			if (r == 0 && blk)
				memset(blk + tail, 0, BLKSIZE - tail);
		}
	}
	f->f_size = newsize;
	return 0;
}

/*
 * One step of making dst a copy of src (see FSREQ_COPY in inc/fs.h):
 * from block index first on, each block src has copied, each hole of
 * src left a hole, at most FSCOPY_STEP_BLOCKS copied and
 * FSCOPY_STEP_SCAN indexes looked at. Step 0 first gives dst src's size.
 * Returns the index to continue from, or 0 when done. On an error (the
 * disk is full) dst is left empty rather than half a copy.
 */
int file_copy(struct File *dst, struct File *src, uint32_t first)
{
	uint64_t nblocks, i, end, ncopied = 0;
	char *from, *to;
	int r = 0;

	/* Empty first, then grow: dst's size covers each block we add. */
	if (first == 0 && ((r = file_set_size(dst, 0)) < 0 ||
			   (r = file_set_size(dst, src->f_size)) < 0))
		return r;
	/* Either size may have changed since step 0: stay inside both. */
	nblocks = ROUNDUP((uint64_t)MIN(src->f_size, dst->f_size), BLKSIZE) /
		  BLKSIZE;
	end = MIN(nblocks, (uint64_t)first + FSCOPY_STEP_SCAN);
	for (i = first; i < end && ncopied < FSCOPY_STEP_BLOCKS; i++) {
		if ((r = file_peek_block(src, i, &from)) < 0)
			break;
		if (from == NULL)
			continue;
		if ((r = file_get_block(dst, i, &to)) < 0)
			break;
		memmove(to, from, BLKSIZE);
		ncopied++;
	}
	if (r < 0) {
		file_set_size(dst, 0);
		return r;
	}
	/* Block indexes stay below MAXFILEBLOCKS, far below INT_MAX. */
	return i < nblocks ? (int)i : 0;
}

/* Write f's dirty blocks, its directory entry and the bitmap to disk. */
void file_flush(struct File *f)
{
	file_blocks_apply(f, flush_blockno);
	flush_block(f);
	flush_bitmap();
}

/*
 * Write f's blocks back and drop them from the cache (its entry stays):
 * its next read comes from the disk. Only the benchmarks need this.
 */
void file_drop(struct File *f)
{
	file_flush(f);
	file_blocks_apply(f, bc_drop);
}

/* Remove the file at path: a directory only if it is empty. */

int file_remove(const char *path)
{
	struct File *f;
	int r;

	if ((r = walk_path(path, NULL, &f, NULL)) < 0)
		return r;
	if (f == &super->s_root)
		return -E_INVAL;
	if (f->f_type == FTYPE_DIR && !dir_is_empty(f))
		return -E_NOT_SUPP;
	file_free_blocks(f, 0);
	memset(f, 0, sizeof(*f));
	flush_block(f);
	flush_bitmap();
	return 0;
}

/*
 * One step of fs_sync: write the dirty cached blocks from block first
 * on, stopping after FSSYNC_STEP_WRITES disk writes. Returns the block
 * to continue from, or 0 when it got to the end: then every block dirty
 * when the first step began is written, and the disk is made to keep
 * them.
 */
uint32_t fs_sync_step(uint32_t first)
{
	uint32_t b, nwrites = 0;
	int r;

	uint32_t end = super->s_nblocks;

	for (b = bc_next_cached(MAX(first, 1U), end); b < end;
	     b = bc_next_cached(b + 1, end)) {
		if (nwrites == FSSYNC_STEP_WRITES)
			return b;
		nwrites += flush_block(diskaddr(b)) > 0;
	}
	if ((r = disk_sync()) < 0)
		warn("fs_sync: the disk did not sync: %e", r);
	return 0;
}

/* Write every dirty cached block to disk, and make the disk keep it. */
void fs_sync(void)
{
	uint32_t b = 0;

	while ((b = fs_sync_step(b)) > 0)
		;
}
