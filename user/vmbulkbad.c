/*
 * vmbulkbad: hostile bulk requests (inc/fs.h: FSREQ_BULKMAP,
 * FSREQ_BULKREAD, FSREQ_BULKWRITE, FSREQ_DROP) from inside the guest JOS
 * to the HOST's file-system server get errors, and the server goes on.
 * Run it at the guest's shell while the guest's file system is idle: it
 * shares the guest's bulk window (the host sees one env per guest).
 * Checks, in order:
 *  - window pages out of range (-1, FSBULK_PAGES, huge): -E_INVAL;
 *  - a bulk read or write with no window, or reaching a window page not
 *    mapped: -E_INVAL;
 *  - lengths 0, FSBULK_MAX + 1, 2^63, ~0: -E_INVAL;
 *  - offsets past the end of the disk image, straddling it, negative,
 *    huge: -E_INVAL (a disk never grows, and nothing outside it moves);
 *  - bad file ids, and a write through a read-only open: -E_INVAL;
 *  - the image's size is unchanged afterwards, a good bulk read returns
 *    the bytes a page-sized read returns, and a sync (FSREQ_SYNCSTEP, as
 *    the guest's server syncs) ends the window;
 *  - nothing outside its own disk: opening another host file, or its
 *    disk with O_TRUNC or O_CREAT, and the requests a guest's disk does
 *    not need (FSREQ_REMOVE, FSREQ_COPY, whole-disk FSREQ_SYNC,
 *    FSREQ_SET_SIZE) get -E_PERM.
 * At the end it maps fresh window pages over its own and syncs again:
 * a page received from the host stays at its guest-physical address,
 * and the guest kernel will reuse ours, so they must not stay the pages
 * the guest's server uses as its window.
 * Prints "vmbulkbad: FAIL: ..." for each failed check, and a summary.
 * A bad write the server wrongly took would land past the image's end
 * (the size check catches it) or nowhere: the guest's data is never at
 * risk.
 */
#include <inc/lib.h>
#include <inc/vmx.h>

#ifdef VMM_GUEST
#include "hostfsprobe.h"

/* Window pages this program maps (the rest stay unmapped on purpose
 * unless the guest's server mapped them already: see check_unmapped). */
#define NMAPPED 4
/* An offset that straddles the image's end by less than a page. */
#define STRADDLE 512

/* Fd pages of our two opens of the disk image (read-write, read-only). */
static char rwfd_page[PGSIZE] __attribute__((aligned(PGSIZE)));
static char rofd_page[PGSIZE] __attribute__((aligned(PGSIZE)));
static struct Fd *const rwfd = (struct Fd *)rwfd_page;
static struct Fd *const rofd = (struct Fd *)rofd_page;
static char window[FSBULK_MAX] __attribute__((aligned(PGSIZE)));
static char pagebuf[PGSIZE];
/* Where an Fd page would land if an open it must not get succeeded. */
static char scratch_page[PGSIZE] __attribute__((aligned(PGSIZE)));
static off_t image_size;

static int bulkmap(int page, void *dst)
{
	req.bulkmap.req_page = page;
	return call(FSREQ_BULKMAP, dst);
}

/* A bulk request through fd of n bytes at offset. */
static int bulk(int type, struct Fd *fd, off_t offset, size_t n)
{
	fd->fd_offset = offset;
	req.bulk.req_fileid = fd->fd_file.id;
	req.bulk.req_n = n;
	return call(type, NULL);
}

static int open_image(struct Fd *fd, int mode)
{
	int r;

	if ((r = host_disk_path(req.open.req_path, MAXPATHLEN)) < 0)
		return r;
	req.open.req_omode = mode;
	return call(FSREQ_OPEN, fd);
}

static off_t stat_size(void)
{
	req.stat.req_fileid = rwfd->fd_file.id;
	if (call(FSREQ_STAT, NULL) < 0)
		return -1;
	return req.statRet.ret_size;
}

/* A host file that exists beside every guest disk (GNUmakefile). */
#define OTHER_HOST_FILE "/vmm/fs.img.orig"

static void check_outside_disk(void)
{
	struct Fd *scratch = (struct Fd *)scratch_page;

	strcpy(req.open.req_path, OTHER_HOST_FILE);
	req.open.req_omode = O_RDONLY;
	expect("OPEN of another host file", call(FSREQ_OPEN, scratch),
	       -E_PERM);
	if (host_disk_path(req.open.req_path, MAXPATHLEN) >= 0) {
		req.open.req_omode = O_RDWR | O_TRUNC;
		expect("OPEN of its disk with O_TRUNC",
		       call(FSREQ_OPEN, scratch), -E_PERM);
	}
	strcpy(req.remove.req_path, OTHER_HOST_FILE);
	expect("REMOVE", call(FSREQ_REMOVE, NULL), -E_PERM);
	req.copy.req_fileid = rwfd->fd_file.id;
	req.copy.req_src_fileid = rofd->fd_file.id;
	req.copy.req_from = 0;
	expect("COPY", call(FSREQ_COPY, NULL), -E_PERM);
	expect("whole-disk SYNC", call(FSREQ_SYNC, NULL), -E_PERM);
	req.set_size.req_fileid = rwfd->fd_file.id;
	req.set_size.req_size = 0;
	expect("SET_SIZE", call(FSREQ_SET_SIZE, NULL), -E_PERM);
}

static void check_bad_pages(void)
{
	expect("BULKMAP page -1", bulkmap(-1, window), -E_INVAL);
	expect("BULKMAP page FSBULK_PAGES", bulkmap(FSBULK_PAGES, window),
	       -E_INVAL);
	expect("BULKMAP page 2^31 - 1", bulkmap(0x7FFFFFFF, window), -E_INVAL);
}

static void check_bad_lengths(void)
{
	static const size_t bad_n[] = { 0, FSBULK_MAX + 1, 1UL << 63, ~0UL };
	char what[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_n); i++) {
		snprintf(what, sizeof(what), "BULKREAD of %lx bytes", bad_n[i]);
		expect(what, bulk(FSREQ_BULKREAD, rwfd, 0, bad_n[i]), -E_INVAL);
		snprintf(what, sizeof(what), "BULKWRITE of %lx bytes",
			 bad_n[i]);
		expect(what, bulk(FSREQ_BULKWRITE, rwfd, image_size, bad_n[i]),
		       -E_INVAL);
	}
}

static void check_bad_offsets(void)
{
	const off_t bad_off[] = { image_size, image_size - STRADDLE,
				  -PGSIZE, (off_t)1 << 62, image_size + PGSIZE };
	char what[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_off); i++) {
		snprintf(what, sizeof(what), "BULKREAD at %lx", bad_off[i]);
		expect(what, bulk(FSREQ_BULKREAD, rwfd, bad_off[i], PGSIZE),
		       -E_INVAL);
		snprintf(what, sizeof(what), "BULKWRITE at %lx", bad_off[i]);
		expect(what, bulk(FSREQ_BULKWRITE, rwfd, bad_off[i], PGSIZE),
		       -E_INVAL);
	}
}

static void check_bad_files(void)
{
	static const int bad_id[] = { -1, 0x7FFFFFFF, 12345678 };
	char what[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_id); i++) {
		snprintf(what, sizeof(what), "BULKREAD of file %d", bad_id[i]);
		req.bulk.req_fileid = bad_id[i];
		req.bulk.req_n = PGSIZE;
		expect(what, call(FSREQ_BULKREAD, NULL), -E_INVAL);
		req.drop.req_fileid = bad_id[i];
		expect("DROP of a bad file", call(FSREQ_DROP, NULL), -E_INVAL);
	}
	expect("BULKWRITE through a read-only open",
	       bulk(FSREQ_BULKWRITE, rofd, 0, PGSIZE), -E_INVAL);
}

/* A window page past NMAPPED that nobody mapped yet fails the request. */
static void check_unmapped(void)
{
	int r = bulk(FSREQ_BULKREAD, rwfd, 0, FSBULK_MAX);

	/* The guest's own server may have mapped the whole window already
	 * (it shares it): then the read is good. */
	if (r != (int)FSBULK_MAX)
		expect("BULKREAD past the mapped pages", r, -E_INVAL);
}

/* A good bulk read returns what a page-sized read does. */
static void check_good_read(void)
{
	int r;

	expect("BULKREAD of a page at 0", bulk(FSREQ_BULKREAD, rwfd, 0, PGSIZE),
	       PGSIZE);
	rwfd->fd_offset = 0;
	req.read.req_fileid = rwfd->fd_file.id;
	req.read.req_n = PGSIZE;
	r = call(FSREQ_READ, NULL);
	expect("READ of a page at 0", r, PGSIZE);
	memmove(pagebuf, req.readRet.ret_buf, PGSIZE);
	expect("bulk and page reads agree", memcmp(pagebuf, window, PGSIZE),
	       0);
}

static void run_checks(void)
{
	int i, r;

	if ((r = open_image(rwfd, O_RDWR)) < 0 ||
	    (r = open_image(rofd, O_RDONLY)) < 0) {
		printf("vmbulkbad: cannot open the disk image: %e\n", r);
		return;
	}
	image_size = stat_size();
	/* Before any window of ours: the guest's server may own one. */
	check_bad_pages();
	for (i = 0; i < NMAPPED; i++)
		expect("BULKMAP of a good page", bulkmap(i, window + i * PGSIZE),
		       0);
	check_unmapped();
	check_bad_lengths();
	check_bad_offsets();
	check_bad_files();
	expect("the image's size afterwards", stat_size(), image_size);
	check_good_read();
	check_outside_disk();
	expect("the image's size after the refused requests", stat_size(),
	       image_size);
	expect("SYNC", sync_steps(), 0);
	expect("BULKREAD after SYNC ended the window",
	       bulk(FSREQ_BULKREAD, rwfd, 0, PGSIZE), -E_INVAL);
	/* Fresh pages over ours (see the top), then end that window too. */
	for (i = 0; i < NMAPPED; i++)
		bulkmap(i, window + i * PGSIZE);
	sync_steps();
	report();
}
#endif /* VMM_GUEST */

void umain(int argc, char **argv)
{
	binaryname = "vmbulkbad";
#ifdef VMM_GUEST
	run_checks();
#else
	printf("vmbulkbad: not running in a virtual machine\n");
#endif
}
