/*
 * vmdiskfill: a guest's disk is exactly its image, and filling the
 * image's holes stops at the host's reserve (issue 19; fs/serv.c,
 * fs/openfile.c, fs/bitmap.c). Run in the guest JOS, with the guest's
 * file system idle (it shares the guest's bulk window: the host sees
 * one env per guest). Checks, in order, through its own opens of the
 * disk image, straight to the HOST's file-system server:
 *  - plain writes (FSREQ_WRITE) at the image's end, straddling it, far
 *    past it and at a negative offset get -E_INVAL, and the bytes just
 *    before the end are unchanged; a write just inside still works;
 *  - FSREQ_SET_SIZE, larger, smaller or equal: refused;
 *  - bulk writes at and straddling the end: -E_INVAL;
 *  - the image's size (FSREQ_STAT) is what it was;
 *  - then it writes, a bulk window at a time, every block that the
 *    guest's own file system marks free (its bitmap, read from the
 *    image), so the guest's files stay whole: on the host these are
 *    mostly holes of the sparse image, each a new host block. It stops
 *    at the first refusal, which must be -E_NO_DISK (the host keeps its
 *    reserve), or when every free block is written (the image is full);
 *    the last block written reads back as written;
 *  - the image's size is still what it was.
 * Prints "vmdiskfill: FAIL: ..." for each failed check, then a summary.
 * With the argument "press" it then keeps asking the host for the block
 * it was refused, until it is killed: a guest that does not give up.
 * Otherwise it maps fresh window pages over its own and syncs, as
 * vmbulkbad does, so the guest's server keeps a window of its own.
 */
#include <inc/lib.h>
#include <inc/vmx.h>

#ifdef VMM_GUEST
#include "hostfsprobe.h"

/* Bytes a test write moves: more than the straddle, less than a page. */
#define SMALL_WRITE 16
/* How far before the end a straddling write starts: plain, bulk. */
#define STRADDLE 8
#define STRADDLE_BULK (PGSIZE / 2)
/* An offset far past any image (1 TiB). */
#define FAR_OFFSET ((off_t)1 << 40)
/* The guest file systems this program can fill: up to this many bitmap
 * blocks (a 1 GiB image); the rest of a larger one is left alone. */
#define MAX_BITMAP_BLOCKS 8
#define MAX_BLOCKS (MAX_BITMAP_BLOCKS * BLKBITSIZE)

static char fd_page[PGSIZE] __attribute__((aligned(PGSIZE)));
static struct Fd *const fd = (struct Fd *)fd_page;
static char window[FSBULK_MAX] __attribute__((aligned(PGSIZE)));
static uint32_t guest_bitmap[MAX_BLOCKS / 32];
static off_t image_size;

static off_t stat_size(void)
{
	req.stat.req_fileid = fd->fd_file.id;
	if (call(FSREQ_STAT, NULL) < 0)
		return -1;
	return req.statRet.ret_size;
}

/* A plain write of n bytes of data at offset; the server's answer. */
static int write_at(off_t offset, const void *data, size_t n)
{
	fd->fd_offset = offset;
	req.write.req_fileid = fd->fd_file.id;
	req.write.req_n = n;
	memmove(req.write.req_buf, data, n);
	return call(FSREQ_WRITE, NULL);
}

/* A plain read of n (<= PGSIZE) bytes at offset into dst. */
static int read_at(off_t offset, void *dst, size_t n)
{
	int r;

	fd->fd_offset = offset;
	req.read.req_fileid = fd->fd_file.id;
	req.read.req_n = n;
	if ((r = call(FSREQ_READ, NULL)) > 0)
		memmove(dst, req.readRet.ret_buf, r);
	return r;
}

static int bulkwrite_at(off_t offset, size_t n)
{
	fd->fd_offset = offset;
	req.bulk.req_fileid = fd->fd_file.id;
	req.bulk.req_n = n;
	return call(FSREQ_BULKWRITE, NULL);
}

static int set_size(off_t size)
{
	req.set_size.req_fileid = fd->fd_file.id;
	req.set_size.req_size = size;
	return call(FSREQ_SET_SIZE, NULL);
}

static void check_plain_writes(void)
{
	char junk[SMALL_WRITE], tail[STRADDLE], after[STRADDLE];

	memset(junk, 0x5A, sizeof(junk));
	expect("reading the image's last bytes",
	       read_at(image_size - STRADDLE, tail, STRADDLE), STRADDLE);
	expect("WRITE at the image's end",
	       write_at(image_size, junk, SMALL_WRITE), -E_INVAL);
	expect("WRITE straddling the image's end",
	       write_at(image_size - STRADDLE, junk, SMALL_WRITE), -E_INVAL);
	expect("WRITE a page past the end",
	       write_at(image_size + PGSIZE, junk, SMALL_WRITE), -E_INVAL);
	expect("WRITE 1 TiB in", write_at(FAR_OFFSET, junk, SMALL_WRITE),
	       -E_INVAL);
	expect("WRITE at a negative offset",
	       write_at(-PGSIZE, junk, SMALL_WRITE), -E_INVAL);
	expect("re-reading the last bytes",
	       read_at(image_size - STRADDLE, after, STRADDLE), STRADDLE);
	expect("the last bytes after the refused writes",
	       memcmp(tail, after, STRADDLE), 0);
	/* The same bytes written back: a write inside the image is fine. */
	expect("WRITE of the last bytes, unchanged",
	       write_at(image_size - STRADDLE, tail, STRADDLE), STRADDLE);
	expect("SET_SIZE a page larger", set_size(image_size + PGSIZE),
	       -E_PERM);
	expect("SET_SIZE a page smaller", set_size(image_size - PGSIZE),
	       -E_PERM);
	expect("SET_SIZE to its size", set_size(image_size), -E_PERM);
	expect("the image's size after the plain writes", stat_size(),
	       image_size);
}

/* Map the whole bulk window over ours; false if the host will not. */
static bool map_window(void)
{
	int i;

	for (i = 0; i < FSBULK_PAGES; i++) {
		req.bulkmap.req_page = i;
		if (call(FSREQ_BULKMAP, window + i * PGSIZE) < 0)
			return false;
	}
	return true;
}

static void check_bulk_writes(void)
{
	expect("BULKWRITE at the image's end",
	       bulkwrite_at(image_size, PGSIZE), -E_INVAL);
	expect("BULKWRITE straddling the end",
	       bulkwrite_at(image_size - STRADDLE_BULK, PGSIZE), -E_INVAL);
	expect("the image's size after the bulk writes", stat_size(),
	       image_size);
}

/* The byte every byte of block b is filled with. */
static uint8_t pattern(uint32_t b)
{
	return (uint8_t)(b * 7 + 1);
}

static bool guest_block_free(uint32_t b)
{
	return (guest_bitmap[b / 32] >> (b % 32)) & 1;
}

/* Read the guest file system's superblock and bitmap from the image;
 * the number of blocks to look at, or 0. */
static uint32_t read_guest_bitmap(uint32_t *first)
{
	struct Super s;
	uint32_t i, nbm;

	if (read_at((off_t)SUPER_BLOCKNO * BLKSIZE, &s, sizeof(s)) !=
		    (int)sizeof(s) ||
	    s.s_magic != FS_MAGIC)
		return 0;
	nbm = MIN(NBITMAPBLOCKS(s.s_nblocks), (uint32_t)MAX_BITMAP_BLOCKS);
	for (i = 0; i < nbm; i++)
		if (read_at((off_t)(BITMAP_BLOCKNO + i) * BLKSIZE,
			    (char *)guest_bitmap + i * BLKSIZE,
			    BLKSIZE) != BLKSIZE)
			return 0;
	*first = BITMAP_BLOCKNO + NBITMAPBLOCKS(s.s_nblocks);
	return MIN(MIN(s.s_nblocks, (uint32_t)MAX_BLOCKS),
		   (uint32_t)(image_size / BLKSIZE));
}

/*
 * Write every block the guest's file system marks free, a run of up to
 * FSBULK_PAGES at a time, until the host refuses one. Returns 0 (all
 * written) or the refusal; *written counts the blocks written, *last is
 * the last of them, *refused the block refused.
 */
static int fill(uint32_t *written, uint32_t *last, uint32_t *refused)
{
	uint32_t first, nblocks, b, run, i;
	int r;

	if (!(nblocks = read_guest_bitmap(&first))) {
		expect("reading its own file system's bitmap", 0, 1);
		return -E_INVAL;
	}
	for (b = first; b < nblocks; b += MAX(run, 1U)) {
		for (run = 0; run < FSBULK_PAGES && b + run < nblocks &&
			      guest_block_free(b + run);
		     run++)
			memset(window + run * BLKSIZE, pattern(b + run),
			       BLKSIZE);
		if (run == 0)
			continue;
		r = bulkwrite_at((off_t)b * BLKSIZE, run * BLKSIZE);
		i = r > 0 ? r / BLKSIZE : 0;
		*written += i;
		if (i > 0)
			*last = b + i - 1;
		if (i == run)
			continue;
		/* Refused, perhaps part-way: ask again for the refused block
		 * alone, to learn why. */
		*refused = b + i;
		memset(window, pattern(*refused), BLKSIZE);
		r = bulkwrite_at((off_t)*refused * BLKSIZE, BLKSIZE);
		return r < 0 ? r : -E_INVAL;
	}
	return 0;
}

static void check_fill(bool press)
{
	uint32_t written = 0, last = 0, refused = 0, i;
	static char blk[BLKSIZE];
	int r = fill(&written, &last, &refused);

	if (r == 0)
		printf("vmdiskfill: wrote %u blocks: its image is full\n",
		       written);
	else
		printf("vmdiskfill: wrote %u blocks into its image's free "
		       "blocks, then the host refused: %e\n", written, r);
	if (r != 0)
		expect("the refusal", r, -E_NO_DISK);
	if (written > 0) {
		expect("reading back the last block written",
		       read_at((off_t)last * BLKSIZE, blk, BLKSIZE), BLKSIZE);
		for (i = 0; i < BLKSIZE && (uint8_t)blk[i] == pattern(last);
		     i++)
			;
		expect("the last block's bytes as written", i, BLKSIZE);
	}
	expect("the image's size after filling it", stat_size(), image_size);
	report();
	if (!press || r == 0)
		return;
	printf("vmdiskfill: pressing on\n");
	for (;;)
		bulkwrite_at((off_t)refused * BLKSIZE, BLKSIZE);
}

static void run_checks(bool press)
{
	int r;

	/* The guest's own file system's blocks reach the image first, so
	 * its bitmap there is the one it uses (see fill). */
	sync();
	if ((r = host_disk_path(req.open.req_path, MAXPATHLEN)) >= 0) {
		req.open.req_omode = O_RDWR;
		r = call(FSREQ_OPEN, fd);
	}
	if (r < 0) {
		printf("vmdiskfill: cannot open the disk image: %e\n", r);
		return;
	}
	image_size = stat_size();
	printf("vmdiskfill: the image is %ld bytes\n", (long)image_size);
	check_plain_writes();
	if (!map_window()) {
		printf("vmdiskfill: the host gave no bulk window\n");
		return;
	}
	check_bulk_writes();
	check_fill(press);
	/* Fresh pages over ours, then end that window too (vmbulkbad). */
	sync_steps();
	map_window();
	sync_steps();
}
#endif /* VMM_GUEST */

void umain(int argc, char **argv)
{
	binaryname = "vmdiskfill";
#ifdef VMM_GUEST
	run_checks(argc > 1 && strcmp(argv[1], "press") == 0);
#else
	printf("vmdiskfill: not running in a virtual machine\n");
#endif
}
