/*
 * The disk of a guest's file-system server (VMM_GUEST builds only, in
 * place of ide.c): a file of the HOST's file system (the path the VMM
 * gives with VMCALL_DISK: vmm -d, by default HOST_DISK_PATH), reached
 * through the host's file-system server with the requests of inc/fs.h,
 * each sent and answered by one VMCALL_IPC_CALL hypercall (ipc_host_call,
 * lib/ipc.c; inc/vmx.h). A guest may do no port I/O: this is its only
 * way to a disk. host_read and host_write keep ide_read's and
 * ide_write's contract: whole sectors inside the disk, 0 or an error.
 *
 * Invariants:
 *  - host_open succeeds once, before any other call here; from then on
 *    hostfd is the host server's Fd page of the open file (shared with
 *    us: the host mapped it over our page), host_fileid its id and
 *    host_nsecs its size in sectors. The file stays open on the host for
 *    as long as we map hostfd, that is for the server's whole life.
 *  - The host server reads a request's file offset from fd_offset in the
 *    shared Fd page, so each read or write request stores its offset
 *    there first; one request is out at a time, and its reply comes
 *    before the next goes, so nothing else moves the offset in between.
 *  - Each request is delivered once, by one IPC_CALL hypercall that
 *    also waits for its reply (ipc_host_call repeats the call only while
 *    the host server is not receiving, when nothing was delivered): we
 *    wait from the moment the request is delivered, so the host server
 *    never waits for us (and other guests never wait behind us).
 *  - A request never reaches past host_nsecs: the file never grows,
 *    and a reply shorter than asked for is an error, not a partial read.
 *  - Bulk I/O (inc/fs.h): while bulk_mapped, the pages of bulkwin are
 *    the host server's bulk window for us, and a read or write moves up
 *    to FSBULK_MAX bytes in one request through it. The host ends the
 *    window at our FSREQ_SYNC, so bulk_mapped goes false there and the
 *    next transfer maps it again (FSBULK_PAGES requests, once per sync).
 *    When the host refuses a window (all in use), transfers fall back to
 *    FSREQ_READ / FSREQ_WRITE, a page or less per request.
 */
#include <inc/vmx.h>
#include "fs.h"

/* A request page goes writable: the host server writes its reply in it. */
#define HOST_REQ_PERM (PTE_P | PTE_U | PTE_W)

/* The request page we send to the host server, and its reply. */
static union Fsipc hostreq __attribute__((aligned(PGSIZE)));

/* The most bytes one read or one write request moves (inc/fs.h). */
#define HOST_READ_MAX sizeof(hostreq.readRet.ret_buf)
#define HOST_WRITE_MAX sizeof(hostreq.write.req_buf)

/* The page the host's Fd page replaces at open (see the invariants). */
static union {
	struct Fd fd;
	char pad[PGSIZE];
} hostfd_page __attribute__((aligned(PGSIZE)));
static struct Fd *const hostfd = &hostfd_page.fd;

static int host_fileid;
static uint64_t host_nsecs;

/* The bulk window's pages (see the invariants). */
static char bulkwin[FSBULK_MAX] __attribute__((aligned(PGSIZE)));
static bool bulk_mapped;
/* The host refused us a window: page-sized requests until our next sync. */
static bool bulk_refused;

/*
 * Send request type (hostreq already filled in) to the host server and
 * wait for its answer; a page sent back (FSREQ_OPEN's Fd) lands at
 * dstpg, whose perm goes to *perm. Returns the server's result.
 */
static int host_request(int type, void *dstpg, int *perm)
{
	return ipc_host_call(VMM_HOST_FS, type, &hostreq, HOST_REQ_PERM,
			     dstpg, perm);
}

/*
 * Open the disk the host gave this guest (VMCALL_DISK; HOST_DISK_PATH
 * from a host that names none) for reading and writing, and learn its
 * size. The path is left in host_path for messages.
 */
char host_path[MAXPATHLEN];

int host_open(void)
{
	int perm, r;

	if (host_disk_path(hostreq.open.req_path, MAXPATHLEN) < 0)
		strcpy(hostreq.open.req_path, HOST_DISK_PATH);
	strcpy(host_path, hostreq.open.req_path);
	hostreq.open.req_omode = O_RDWR;
	if ((r = host_request(FSREQ_OPEN, &hostfd_page, &perm)) < 0)
		return r;
	if (!(perm & PTE_P) || hostfd->fd_dev_id != DEVID_FILE)
		return -E_INVAL;
	host_fileid = hostfd->fd_file.id;

	hostreq.stat.req_fileid = host_fileid;
	if ((r = host_request(FSREQ_STAT, NULL, NULL)) < 0)
		return r;
	if (hostreq.statRet.ret_isdir)
		return -E_INVAL;
	host_nsecs = hostreq.statRet.ret_size / SECTSIZE;
	return 0;
}

/* The disk's size in sectors: the host file's whole sectors. */
uint64_t host_nsectors(void)
{
	return host_nsecs;
}

/* Do nsecs sectors from secno lie inside the file? Then their offset. */
static int host_range(uint32_t secno, size_t nsecs, off_t *offset)
{
	if (nsecs == 0 || secno >= host_nsecs || nsecs > host_nsecs - secno)
		return -E_INVAL;
	*offset = (off_t)secno * SECTSIZE;
	return 0;
}

/*
 * Have the host map its bulk window over bulkwin, page by page. False
 * if it will not (then we use the page-sized requests).
 */
static bool bulk_map(void)
{
	int i, perm;

	if (bulk_mapped || bulk_refused)
		return bulk_mapped;
	for (i = 0; i < FSBULK_PAGES; i++) {
		hostreq.bulkmap.req_page = i;
		if (host_request(FSREQ_BULKMAP, bulkwin + i * PGSIZE,
				 &perm) < 0 || !(perm & PTE_P)) {
			bulk_refused = true;
			return false;
		}
	}
	bulk_mapped = true;
	return true;
}

/*
 * After a bulk request failed with -E_INVAL: if we thought the window
 * mapped, another env of this guest may have ended it (its FSREQ_SYNC
 * ends the guest's window: the host sees the guest as one env), so map
 * it again. True if it is mapped anew.
 */
static bool bulk_remap(void)
{
	if (!bulk_mapped)
		return false;
	bulk_mapped = false;
	return bulk_map();
}

/*
 * One bulk request: type (FSREQ_BULKREAD or FSREQ_BULKWRITE) of n bytes
 * (at most FSBULK_MAX) at offset, through bulkwin. 0, or an error.
 */
static int bulk_request(int type, off_t offset, size_t n)
{
	int r;

	hostfd->fd_offset = offset;
	hostreq.bulk.req_fileid = host_fileid;
	hostreq.bulk.req_n = n;
	if ((r = host_request(type, NULL, NULL)) < 0)
		return r;
	/* The file never grows, so only a broken host moves less. */
	return (size_t)r == n ? 0 : -E_NO_DISK;
}

/* Read len bytes at offset into dst through the bulk window. */
static int bulk_read(off_t offset, char *dst, size_t len)
{
	size_t done, n;
	int r;

	for (done = 0; done < len; done += n) {
		n = MIN(len - done, FSBULK_MAX);
		if ((r = bulk_request(FSREQ_BULKREAD, offset + done, n)) < 0)
			return r;
		memmove(dst + done, bulkwin, n);
	}
	return 0;
}

/* Write len bytes from src at offset through the bulk window. */
static int bulk_write(off_t offset, const char *src, size_t len)
{
	size_t done, n;
	int r;

	for (done = 0; done < len; done += n) {
		n = MIN(len - done, FSBULK_MAX);
		memmove(bulkwin, src + done, n);
		if ((r = bulk_request(FSREQ_BULKWRITE, offset + done, n)) < 0)
			return r;
	}
	return 0;
}

/* Read nsecs sectors from secno into dst. 0, or a negative error. */
int host_read(uint32_t secno, void *dst, size_t nsecs)
{
	size_t len = nsecs * SECTSIZE, done, n;
	char *p = dst;
	off_t offset;
	int r;

	if ((r = host_range(secno, nsecs, &offset)) < 0)
		return r;
	if (bulk_map() && (r = bulk_read(offset, p, len)) != -E_INVAL)
		return r;
	if (bulk_remap())
		return bulk_read(offset, p, len);
	for (done = 0; done < len; done += n) {
		n = MIN(len - done, HOST_READ_MAX);
		hostfd->fd_offset = offset + done;
		hostreq.read.req_fileid = host_fileid;
		hostreq.read.req_n = n;
		if ((r = host_request(FSREQ_READ, NULL, NULL)) < 0)
			return r;
		if ((size_t)r != n)
			return -E_EOF;
		memmove(p + done, hostreq.readRet.ret_buf, n);
	}
	return 0;
}

/* Write nsecs sectors from src to secno. 0, or a negative error. */
int host_write(uint32_t secno, const void *src, size_t nsecs)
{
	size_t len = nsecs * SECTSIZE, done, n;
	const char *p = src;
	off_t offset;
	int r;

	if ((r = host_range(secno, nsecs, &offset)) < 0)
		return r;
	if (bulk_map() && (r = bulk_write(offset, p, len)) != -E_INVAL)
		return r;
	if (bulk_remap())
		return bulk_write(offset, p, len);
	for (done = 0; done < len; done += n) {
		n = MIN(len - done, HOST_WRITE_MAX);
		hostfd->fd_offset = offset + done;
		hostreq.write.req_fileid = host_fileid;
		hostreq.write.req_n = n;
		memmove(hostreq.write.req_buf, p + done, n);
		if ((r = host_request(FSREQ_WRITE, NULL, NULL)) < 0)
			return r;
		/* The file never grows, so only a broken host writes less. */
		if ((size_t)r != n)
			return -E_NO_DISK;
	}
	return 0;
}

/*
 * Have the host server write its dirty blocks (ours among them) to disk.
 * That ends our bulk window too (see the invariants).
 */
int host_sync(void)
{
	int r = 0;

	bulk_mapped = bulk_refused = false;
	/* In steps (FSREQ_SYNCSTEP): other guests' requests go in between. */
	do {
		hostreq.sync.req_from = r;
		r = host_request(FSREQ_SYNCSTEP, NULL, NULL);
	} while (r > 0);
	return r;
}

/* Have the host server drop its cache of our disk (FSREQ_DROP). */
int host_drop(void)
{
	hostreq.drop.req_fileid = host_fileid;
	return host_request(FSREQ_DROP, NULL, NULL);
}
