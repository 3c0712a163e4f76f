/*
 * The file-system server: an env of type ENV_TYPE_FS that owns the disk
 * and answers the requests of inc/fs.h, one at a time, over IPC.
 *
 * Invariants:
 *  - The open-file table and each client's share of it: fs/openfile.c.
 *  - Nothing a client sends can crash the server: each request field is
 *    read once (READ_ONCE: the client may rewrite the shared page while
 *    the server works) and checked before use, and a reply to a client
 *    that does not wait for it is dropped.
 *  - Bulk window w (inc/fs.h) owns the FSBULK_PAGES pages at
 *    bulk_va(w, 0 ..). It is in use exactly while w_owner is not 0; its
 *    pages are mapped here only then (each on the owner's FSREQ_BULKMAP).
 *    An env owns at most one window. A window ends (its pages unmapped
 *    here) at its owner's FSREQ_SYNC, or at the first request after the
 *    owner died: a window never outlives its owner by more than one
 *    request, and a client gets at most FSBULK_PAGES pages of ours.
 *  - A bulk request moves at most FSBULK_MAX bytes, inside the file's
 *    size: each request's work is bounded, and a client never reaches
 *    past the end of the file it treats as a disk.
 *  - An open a guest made, or one opened O_FIXED (the user-space VMM's
 *    disk images), has a fixed size (openfile.c): every request
 *    that could change a file's bytes or size passes
 *    openfile_change_check first, which keeps a fixed-size open inside
 *    the file's bytes and its size as it is. So a guest's image never
 *    grows, and a write past its end changes nothing.
 *  - While a guest's request is served, the blocks it allocates (the
 *    holes of its sparse image that it fills) may not take the disk
 *    below the host's reserve (fs/bitmap.c): serve() says whose request
 *    it is before each handler runs, and a write through a fixed-size
 *    open counts as a guest's (openfile_change_check).
 *  - A reply to a guest is tried once: a guest waits for its reply from
 *    the moment its request is delivered (VMCALL_IPC_CALL), so one that
 *    is not waiting never will be, and the server never waits on it.
 *  - The block cache is shared by all clients and not charged to any:
 *    bc.c bounds it at BC_MAXCACHED pages whoever fills it, and evicts
 *    (writing back first) without losing a byte. A guest's requests can
 *    fill it with its image's blocks (its bulk transfers of whole blocks
 *    bypass it), which costs the host only re-reads of what was evicted:
 *    time, bounded per request, which a guest can cost the host anyway
 *    with its CPU share. So no per-client share is enforced there; when
 *    a guest ends, its blocks are evicted like any others.
 *  - A guest (ENV_TYPE_GUEST: a kernel nobody here trusts) may open only
 *    the disk image the host gave it (sys_vmm_ctl's disk, vmm -d), may
 *    use only files it opened itself, and may send only the requests a
 *    guest's disk needs (guest_may): no other host file is its to read,
 *    write, remove or copy, and no request of its holds the server for
 *    a whole-disk operation.
 */
#include <inc/x86.h>
#include <inc/fd.h>
#include <inc/vmmctl.h>
#include "fs.h"

/* Where a request page arrives: just below the disk map. */
#define REQVA (DISKMAP - PGSIZE)
/* Yields to wait for a host client to take its reply, before giving
 * up; a guest gets one try (see the invariants). */
#define REPLY_TRIES 20000
#define GUEST_REPLY_TRIES 1
/* An I/O port that is harmless to read: POST diagnostics. */
#define IO_PROBE_PORT 0x80
/* Every open mode bit the server knows. */
#define OPEN_MODES (O_ACCMODE | O_CREAT | O_TRUNC | O_EXCL | O_MKDIR | O_FIXED)

/* Where the bulk windows' pages live, in this env only. */
#define BULK_VA OPENFD_END

static_assert(BULK_VA + FSBULK_WINDOWS * FSBULK_MAX <= USTACKTOP - PGSIZE);

/* Read x once from memory a client can change under us. */
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))

/* The owner of each bulk window (0: free). */
static envid_t bulk_owner[FSBULK_WINDOWS];

/* The request page: the client's union Fsipc. */
static union Fsipc *const fsreq = (union Fsipc *)REQVA;

/* Set by serve() before each handler runs: who sent the request. */
static envid_t requester;

/* Is the requester a guest? (Never so in a guest's own server.) */
static bool requester_guest(void)
{
	const volatile struct Env *e = &envs[ENVX(requester)];

	return e->env_id == requester && e->env_type == ENV_TYPE_GUEST;
}

/*
 * May the requesting guest open path? Only its own disk image, whose
 * path the kernel keeps for its VM (vmm -d; unique among live VMs). The
 * requester is one of the VM's vCPUs: VMMCTL_INFO finds the VM by the
 * vCPU's env id as well as by the VM's id (vm_find, vmm/vm.c).
 */
static int guest_may_open(const char *path, int omode)
{
#ifdef VMM_GUEST
	return 0;
#else
	struct vmm_info info;
	int r;

	if ((r = sys_vmm_ctl(VMMCTL_INFO, requester, &info, sizeof(info))) < 0)
		return r;
	if (strcmp(path, info.disk) != 0 ||
	    (omode & (O_CREAT | O_MKDIR | O_TRUNC)))
		return -E_PERM;
	return 0;
#endif
}

/* The requester's open file fileid (openfile.c). */
static int lookup(int fileid, struct OpenFile **po)
{
	return openfile_lookup(requester, requester_guest(), fileid, po);
}

/* Copy a client's path, which must end within MAXPATHLEN bytes. */
static int copy_path(char *dst, const char *src)
{
	int i;

	for (i = 0; i < MAXPATHLEN; i++)
		if ((dst[i] = READ_ONCE(src[i])) == 0)
			return 0;
	return -E_BAD_PATH;
}

/* ---- Bulk windows ------------------------------------------------------- */

/* The address of page i of bulk window w. */
static char *bulk_va(int w, int i)
{
	return (char *)(BULK_VA + (uintptr_t)w * FSBULK_MAX +
			(uintptr_t)i * PGSIZE);
}

/* Is env id alive (not yet freed)? */
static bool env_alive(envid_t id)
{
	const volatile struct Env *e = &envs[ENVX(id)];

	return e->env_id == id && e->env_status != ENV_FREE;
}

/* End window w: unmap its pages here (the owner keeps its mappings). */
static void bulk_end(int w)
{
	int i;

	for (i = 0; i < FSBULK_PAGES; i++)
		sys_page_unmap(0, bulk_va(w, i));
	bulk_owner[w] = 0;
}

/* End the windows of owners that died. Runs before each request. */
static void bulk_reap(void)
{
	int w;

	for (w = 0; w < FSBULK_WINDOWS; w++)
		if (bulk_owner[w] && !env_alive(bulk_owner[w]))
			bulk_end(w);
}

/* The window of env who, or -1. */
static int bulk_find(envid_t who)
{
	int w;

	for (w = 0; w < FSBULK_WINDOWS; w++)
		if (bulk_owner[w] == who)
			return w;
	return -1;
}

/* Find or make the file that path and omode ask for (see inc/fs.h). */
static int open_file(const char *path, int omode, struct File **pf)
{
	int r;

	if (omode & O_MKDIR)
		return file_create(path, pf, FTYPE_DIR);
	if (!(omode & O_CREAT))
		return file_open(path, pf);
	r = file_create(path, pf, FTYPE_REG);
	if (r == -E_FILE_EXISTS && !(omode & O_EXCL))
		r = file_open(path, pf);
	return r;
}

static int serve_open(void **pg, int *perm)
{
	char path[MAXPATHLEN];
	int omode = READ_ONCE(fsreq->open.req_omode), r;
	struct OpenFile *o;
	struct File *f;

	if ((r = copy_path(path, fsreq->open.req_path)) < 0)
		return r;
	if ((omode & ~OPEN_MODES) || (omode & O_ACCMODE) == O_ACCMODE)
		return -E_INVAL;
	if (requester_guest() && (r = guest_may_open(path, omode)) < 0)
		return r;
	if ((r = openfile_alloc(requester,
				requester_guest() || (omode & O_FIXED), &o)) < 0)
		return r;
	if ((r = open_file(path, omode, &f)) < 0)
		return r;
	if (omode & O_MKDIR)
		omode = (omode & ~(O_ACCMODE | O_TRUNC)) | O_RDONLY;
	if (f->f_type == FTYPE_DIR &&
	    ((omode & O_ACCMODE) != O_RDONLY || (omode & O_TRUNC)))
		return -E_INVAL;
	if ((omode & O_TRUNC) && (r = file_set_size(f, 0)) < 0)
		return r;

	o->o_file = f;
	o->o_mode = omode;
	o->o_fd->fd_dev_id = DEVID_FILE;
	o->o_fd->fd_offset = 0;
	o->o_fd->fd_omode = omode;
	o->o_fd->fd_file.id = o->o_fileid;
	*pg = o->o_fd;
	*perm = PTE_P | PTE_U | PTE_W | PTE_SHARE;
	return 0;
}

static int serve_set_size(void **pg, int *perm)
{
	int fileid = READ_ONCE(fsreq->set_size.req_fileid), r;
	off_t size = READ_ONCE(fsreq->set_size.req_size);
	struct OpenFile *o;

	if ((r = lookup(fileid, &o)) < 0 ||
	    (r = openfile_change_check(o, size, 0, true)) < 0)
		return r;
	return file_set_size(o->o_file, size);
}

static int serve_read(void **pg, int *perm)
{
	int fileid = READ_ONCE(fsreq->read.req_fileid), r;
	size_t n = READ_ONCE(fsreq->read.req_n);
	struct OpenFile *o;
	off_t offset;

	if ((r = lookup(fileid, &o)) < 0)
		return r;
	if (n > sizeof(fsreq->readRet.ret_buf) || !openfile_can_read(o))
		return -E_INVAL;
	offset = READ_ONCE(o->o_fd->fd_offset);
	r = file_read(o->o_file, fsreq->readRet.ret_buf, n, offset);
	if (r > 0)
		o->o_fd->fd_offset = offset + r;
	return r;
}

static int serve_write(void **pg, int *perm)
{
	int fileid = READ_ONCE(fsreq->write.req_fileid), r;
	size_t n = READ_ONCE(fsreq->write.req_n);
	struct OpenFile *o;
	off_t offset;

	if ((r = lookup(fileid, &o)) < 0)
		return r;
	if (n > sizeof(fsreq->write.req_buf))
		return -E_INVAL;
	offset = READ_ONCE(o->o_fd->fd_offset);
	if ((r = openfile_change_check(o, offset, n, false)) < 0)
		return r;
	r = file_write(o->o_file, fsreq->write.req_buf, n, offset);
	if (r > 0)
		o->o_fd->fd_offset = offset + r;
	return r;
}

static int serve_stat(void **pg, int *perm)
{
	int fileid = READ_ONCE(fsreq->stat.req_fileid), r;
	struct Fsret_stat *ret = &fsreq->statRet;
	struct OpenFile *o;

	if ((r = lookup(fileid, &o)) < 0)
		return r;
	memmove(ret->ret_name, o->o_file->f_name, MAXNAMELEN);
	ret->ret_name[MAXNAMELEN - 1] = 0;
	ret->ret_size = o->o_file->f_size;
	ret->ret_isdir = o->o_file->f_type == FTYPE_DIR;
	return 0;
}

static int serve_flush(void **pg, int *perm)
{
	int fileid = READ_ONCE(fsreq->flush.req_fileid), r;
	struct OpenFile *o;

	if ((r = lookup(fileid, &o)) < 0)
		return r;
	file_flush(o->o_file);
	return 0;
}

static int serve_remove(void **pg, int *perm)
{
	char path[MAXPATHLEN];
	struct File *f;
	int r;

	if ((r = copy_path(path, fsreq->remove.req_path)) < 0)
		return r;
	if ((r = file_open(path, &f)) < 0 || (r = file_remove(path)) < 0)
		return r;
	/* f's entry may hold another file soon: its open ids go stale. */
	openfile_forget(f);
	return 0;
}

/* The requester synced to the end: its bulk window ends (inc/fs.h). */
static void sync_done(void)
{
	int w;

	if ((w = bulk_find(requester)) >= 0)
		bulk_end(w);
}

static int serve_sync(void **pg, int *perm)
{
	fs_sync();
	sync_done();
	return 0;
}

static int serve_syncstep(void **pg, int *perm)
{
	uint32_t next = fs_sync_step(READ_ONCE(fsreq->sync.req_from));

	if (next == 0)
		sync_done();
	/* Block numbers are below DISKSIZE / BLKSIZE: they fit an int. */
	return (int)next;
}

static int serve_copy(void **pg, int *perm)
{
	int fileid = READ_ONCE(fsreq->copy.req_fileid);
	int src_fileid = READ_ONCE(fsreq->copy.req_src_fileid), r;
	uint32_t from = READ_ONCE(fsreq->copy.req_from);
	struct OpenFile *dst, *src;

	if ((r = lookup(fileid, &dst)) < 0 ||
	    (r = lookup(src_fileid, &src)) < 0)
		return r;
	/* Copying a file onto itself would empty it first. */
	if (!openfile_can_read(src) || dst->o_file == src->o_file ||
	    src->o_file->f_type != FTYPE_REG)
		return -E_INVAL;
	/* The copy ends up the source's size (but a fixed-size open keeps
	 * its size all along, so it may copy only a file of its size). */
	if ((r = openfile_change_check(dst, src->o_file->f_size, 0, true)) < 0)
		return r;
	return file_copy(dst->o_file, src->o_file, from);
}

static int serve_bulkmap(void **pg, int *perm)
{
	int page = READ_ONCE(fsreq->bulkmap.req_page), w, r;
	char *va;

	if (page < 0 || page >= FSBULK_PAGES)
		return -E_INVAL;
	if ((w = bulk_find(requester)) < 0) {
		if ((w = bulk_find(0)) < 0)
			return -E_MAX_OPEN;
		bulk_owner[w] = requester;
	}
	va = bulk_va(w, page);
	if (!va_is_mapped(va) &&
	    (r = sys_page_alloc(0, va, PTE_P | PTE_U | PTE_W)) < 0)
		return r;
	*pg = va;
	*perm = PTE_P | PTE_U | PTE_W | PTE_SHARE;
	return 0;
}

/*
 * Check a bulk request of the requester (see inc/fs.h): its open file,
 * its window, and the byte range [offset, offset + n). Then return the
 * window's first byte.
 */
static int bulk_check(bool write, struct OpenFile **po, size_t *pn,
		      off_t *poffset, char **pbuf)
{
	int fileid = READ_ONCE(fsreq->bulk.req_fileid), w, i, r;
	size_t n = READ_ONCE(fsreq->bulk.req_n);
	struct OpenFile *o;
	off_t offset, size;

	if ((r = lookup(fileid, &o)) < 0)
		return r;
	if (o->o_file->f_type != FTYPE_REG ||
	    (!write && !openfile_can_read(o)))
		return -E_INVAL;
	if ((w = bulk_find(requester)) < 0 || n == 0 || n > FSBULK_MAX)
		return -E_INVAL;
	for (i = 0; i < (int)(ROUNDUP(n, PGSIZE) / PGSIZE); i++)
		if (!va_is_mapped(bulk_va(w, i)))
			return -E_INVAL;
	offset = READ_ONCE(o->o_fd->fd_offset);
	size = o->o_file->f_size;
	if (offset < 0 || offset > size || (off_t)n > size - offset ||
	    (write && (r = openfile_change_check(o, offset, n, false)) < 0))
		return -E_INVAL;
	*po = o;
	*pn = n;
	*poffset = offset;
	*pbuf = bulk_va(w, 0);
	return 0;
}

/* FSREQ_BULKREAD (write false) or FSREQ_BULKWRITE, once checked. */
static int serve_bulk(bool write)
{
	struct OpenFile *o;
	off_t offset;
	char *buf;
	size_t n;
	int r;

	if ((r = bulk_check(write, &o, &n, &offset, &buf)) < 0)
		return r;
	r = file_bulk(o->o_file, buf, n, offset, write);
	if (r > 0)
		o->o_fd->fd_offset = offset + r;
	return r;
}

static int serve_bulkread(void **pg, int *perm)
{
	return serve_bulk(false);
}

static int serve_bulkwrite(void **pg, int *perm)
{
	return serve_bulk(true);
}

static int serve_drop(void **pg, int *perm)
{
	int fileid = READ_ONCE(fsreq->drop.req_fileid), r;
	struct OpenFile *o;

	if ((r = lookup(fileid, &o)) < 0)
		return r;
	if (o->o_file->f_type != FTYPE_REG)
		return -E_INVAL;
	file_drop(o->o_file);
#ifdef VMM_GUEST
	/* Cold means cold on the host too: its cache of our disk goes. */
	if ((r = host_drop()) < 0)
		return r;
#endif
	return 0;
}

/* A request's handler: returns the reply value, and may set a page. */
typedef int (*fshandler)(void **pg, int *perm);

static const fshandler handlers[FSREQ_NREQ] = {
	[FSREQ_OPEN] = serve_open,     [FSREQ_SET_SIZE] = serve_set_size,
	[FSREQ_READ] = serve_read,     [FSREQ_WRITE] = serve_write,
	[FSREQ_STAT] = serve_stat,     [FSREQ_FLUSH] = serve_flush,
	[FSREQ_REMOVE] = serve_remove, [FSREQ_SYNC] = serve_sync,
	[FSREQ_COPY] = serve_copy,     [FSREQ_BULKMAP] = serve_bulkmap,
	[FSREQ_BULKREAD] = serve_bulkread,
	[FSREQ_BULKWRITE] = serve_bulkwrite,
	[FSREQ_DROP] = serve_drop,     [FSREQ_SYNCSTEP] = serve_syncstep,
};

/* The requests a guest's disk needs (fs/host.c); a guest gets no other. */
static const bool guest_may[FSREQ_NREQ] = {
	[FSREQ_OPEN] = true,     [FSREQ_STAT] = true,
	[FSREQ_READ] = true,     [FSREQ_WRITE] = true,
	[FSREQ_BULKMAP] = true,  [FSREQ_BULKREAD] = true,
	[FSREQ_BULKWRITE] = true, [FSREQ_SYNCSTEP] = true,
	[FSREQ_DROP] = true,     [FSREQ_FLUSH] = true,
};

/*
 * Send r (and pg) back to the client. Unlike ipc_send, never panic: a
 * client that died gets nothing, and one that never waits for its reply
 * loses it after REPLY_TRIES tries (a guest: GUEST_REPLY_TRIES).
 */
static void reply(envid_t to, int r, void *pg, int perm)
{
	int i, e, tries = requester_guest() ? GUEST_REPLY_TRIES : REPLY_TRIES;

	for (i = 0; i < tries; i++) {
		e = sys_ipc_try_send(to, r, pg ? pg : (void *)UTOP, perm);
		if (e != -E_IPC_NOT_RECV)
			return;
		sys_yield();
	}
}

/* Answer requests for ever. */
static void serve(void)
{
	uint64_t req;
	envid_t whom;
	int perm, r, pgperm;
	void *pg;

	for (;;) {
		if (sys_ipc_recv(fsreq) < 0)
			continue;
		req = thisenv->env_ipc_value;
		whom = thisenv->env_ipc_from;
		perm = thisenv->env_ipc_perm;
		pg = NULL;
		pgperm = 0;
		requester = whom;
		fs_alloc_for_guest(requester_guest());
		bulk_reap();
		if (!(perm & PTE_P) || !(perm & PTE_W))
			r = -E_INVAL;
		else if (req >= FSREQ_NREQ || !handlers[req])
			r = -E_INVAL;
		else if (!guest_may[req] && requester_guest())
			r = -E_PERM;
		else
			r = handlers[req](&pg, &pgperm);
		reply(whom, r, pg, pgperm);
		if (perm & PTE_P)
			sys_page_unmap(0, fsreq);
	}
}

#ifdef VMM_GUEST
/*
 * A guest has no disk and may do no port I/O (the VMM stops it at the
 * first): its disk is a file of the host's file system (host.c).
 */
static bool disk_attach(void)
{
	int r;

	if ((r = host_open()) < 0) {
		cprintf("FS: cannot open the host's %s: %e, exiting\n",
			host_path, r);
		return false;
	}
	cprintf("FS: the disk is the host's %s, %lu sectors\n",
		host_path, host_nsectors());
	return true;
}
#else
/* The disk is IDE disk FS_DISKNO, driven with port I/O (ide.c). */
static bool disk_attach(void)
{
	/* The kernel gives an FS env I/O privilege; check, and use it. */
	if ((read_eflags() & FL_IOPL_MASK) != FL_IOPL_3) {
		cprintf("FS: no I/O privilege, exiting\n");
		return false;
	}
	(void)inb(IO_PROBE_PORT);
	cprintf("FS can do I/O\n");

	if (!ide_probe_disk1()) {
		cprintf("FS: no file system disk (IDE disk 1), exiting\n");
		return false;
	}
	ide_set_disk(FS_DISKNO);
	return true;
}
#endif

void umain(int argc, char **argv)
{
	binaryname = "fs";
	cprintf("FS is running\n");

	if (!disk_attach())
		return;
	openfile_init();
	fs_init();
	/* The classic lab-5 self-checks; they leave the disk as it was. */
	fs_check();
	serve();
}
