/*
 * The file device ('f'): descriptors for files of the file-system server,
 * spoken to over IPC with the protocol of inc/fs.h. The Fd page itself is
 * the server's (FSREQ_OPEN maps it here, shared); the server keeps the
 * offset in it, so reads and writes just name the file id.
 */
#include <inc/lib.h>

/*
 * The request page. Page-aligned, since it travels as a page; and in the
 * data section, not the bss, so that every program that links the fd
 * layer keeps its own bss last (user/testbss writes past its end).
 */
union Fsipc fsipcbuf __attribute__((aligned(PGSIZE), section(".data.fsipc")));

/* The server's env id, looked up once: it never changes while we live. */
static envid_t fsenv;

/*
 * Send request type with fsipcbuf (already filled in) and wait for the
 * answer. dstva receives the reply page (FSREQ_OPEN only) or is NULL.
 * Returns the server's result.
 */
static int fsipc(int type, void *dstva)
{
	volatile char *touch = fsipcbuf._pad;

	if (fsenv == 0 && (fsenv = ipc_find_env(ENV_TYPE_FS)) == 0)
		return -E_NOT_FOUND;
	/* After fork the page is copy-on-write, hence read-only, and the
	 * kernel will not send it with PTE_W: a write makes it ours. */
	*touch = *touch;
	ipc_send(fsenv, type, &fsipcbuf, PTE_P | PTE_W | PTE_U);
	return ipc_recv(NULL, dstva, NULL);
}

/*
 * Write path, made absolute and with "." and ".." resolved (the server
 * takes every component literally), into out (MAXPATHLEN bytes).
 * -E_BAD_PATH if the result does not fit.
 */
static int normalize(const char *path, char *out)
{
	size_t len = 0, n;
	const char *comp;

	out[0] = 0;
	while (*path) {
		while (*path == '/')
			path++;
		comp = path;
		while (*path && *path != '/')
			path++;
		n = path - comp;
		if (n == 0 || (n == 1 && comp[0] == '.'))
			continue;
		if (n == 2 && comp[0] == '.' && comp[1] == '.') {
			/* Back to the previous '/'; ".." of "/" is "/". */
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			out[len] = 0;
			continue;
		}
		if (len + 1 + n + 1 > MAXPATHLEN)
			return -E_BAD_PATH;
		out[len++] = '/';
		memmove(out + len, comp, n);
		len += n;
		out[len] = 0;
	}
	if (len == 0)
		strcpy(out, "/");
	return 0;
}

/* Open path with mode (O_* of inc/lib.h); returns the descriptor number. */
int open(const char *path, int mode)
{
	struct Fd *fd;
	int r;

	if (strnlen(path, MAXPATHLEN) >= MAXPATHLEN)
		return -E_BAD_PATH;
	if ((r = fd_alloc(&fd)) < 0)
		return r;
	if ((r = normalize(path, fsipcbuf.open.req_path)) < 0)
		return r;
	fsipcbuf.open.req_omode = mode;
	if ((r = fsipc(FSREQ_OPEN, fd)) < 0) {
		fd_close(fd, false);
		return r;
	}
	return fd2num(fd);
}

/* Closing a file: flush it, then fd_close unmaps the page, which is what
 * tells the server the file is closed. */
static int devfile_flush(struct Fd *fd)
{
	fsipcbuf.flush.req_fileid = fd->fd_file.id;
	return fsipc(FSREQ_FLUSH, NULL);
}

/* Read up to n bytes, a page (the most one request carries) at a time,
 * stopping early only at end of file. */
static ssize_t devfile_read(struct Fd *fd, void *buf, size_t n)
{
	size_t got = 0, want;
	int r;

	while (got < n) {
		want = MIN(n - got, (size_t)PGSIZE);
		fsipcbuf.read.req_fileid = fd->fd_file.id;
		fsipcbuf.read.req_n = want;
		if ((r = fsipc(FSREQ_READ, NULL)) < 0)
			return got > 0 ? (ssize_t)got : r;
		assert((size_t)r <= want);
		memmove((char *)buf + got, fsipcbuf.readRet.ret_buf, r);
		got += r;
		if ((size_t)r < want)
			break;
	}
	return got;
}

/* Write n bytes in pieces of at most FSWRITE_MAXBUF; stops early only
 * when the disk fills. */
static ssize_t devfile_write(struct Fd *fd, const void *buf, size_t n)
{
	size_t done = 0, piece;
	int r;

	while (done < n) {
		piece = MIN(n - done, (size_t)FSWRITE_MAXBUF);
		fsipcbuf.write.req_fileid = fd->fd_file.id;
		fsipcbuf.write.req_n = piece;
		memmove(fsipcbuf.write.req_buf, (const char *)buf + done,
			piece);
		if ((r = fsipc(FSREQ_WRITE, NULL)) < 0)
			return done > 0 ? (ssize_t)done : r;
		assert((size_t)r <= piece);
		done += r;
		if ((size_t)r < piece)
			break;
	}
	return done;
}

static int devfile_stat(struct Fd *fd, struct Stat *st)
{
	int r;

	fsipcbuf.stat.req_fileid = fd->fd_file.id;
	if ((r = fsipc(FSREQ_STAT, NULL)) < 0)
		return r;
	strlcpy(st->st_name, fsipcbuf.statRet.ret_name, sizeof(st->st_name));
	st->st_size = fsipcbuf.statRet.ret_size;
	st->st_isdir = fsipcbuf.statRet.ret_isdir;
	return 0;
}

static int devfile_trunc(struct Fd *fd, off_t newsize)
{
	fsipcbuf.set_size.req_fileid = fd->fd_file.id;
	fsipcbuf.set_size.req_size = newsize;
	return fsipc(FSREQ_SET_SIZE, NULL);
}

struct Dev devfile = {
	.dev_id = DEVID_FILE,
	.dev_name = "file",
	.dev_read = devfile_read,
	.dev_write = devfile_write,
	.dev_close = devfile_flush,
	.dev_stat = devfile_stat,
	.dev_trunc = devfile_trunc,
};

int remove(const char *path)
{
	int r;

	if (strnlen(path, MAXPATHLEN) >= MAXPATHLEN)
		return -E_BAD_PATH;
	if ((r = normalize(path, fsipcbuf.remove.req_path)) < 0)
		return r;
	return fsipc(FSREQ_REMOVE, NULL);
}

/*
 * Write every dirty block of the server to disk: FSREQ_SYNCSTEP from
 * block 0 on, until the server says it got to the end. In steps, so that
 * other clients' requests go in between.
 */
int sync(void)
{
	int r = 0;

	do {
		fsipcbuf.sync.req_from = r;
		r = fsipc(FSREQ_SYNCSTEP, NULL);
	} while (r > 0);
	return r;
}

/*
 * Make the file open as dstfd (for writing) a copy of the one open as
 * srcfd, inside the server (FSREQ_COPY): a sparse file's holes stay
 * holes, and the data never leaves the server. In steps of a bounded
 * number of blocks, so that other clients' requests go in between.
 */
int fcopy(int dstfd, int srcfd)
{
	struct Fd *dst, *src;
	int r;

	if ((r = fd_lookup(dstfd, &dst)) < 0 ||
	    (r = fd_lookup(srcfd, &src)) < 0)
		return r;
	if (dst->fd_dev_id != devfile.dev_id || src->fd_dev_id != devfile.dev_id)
		return -E_INVAL;
	r = 0;
	do {
		fsipcbuf.copy.req_fileid = dst->fd_file.id;
		fsipcbuf.copy.req_src_fileid = src->fd_file.id;
		fsipcbuf.copy.req_from = r;
		r = fsipc(FSREQ_COPY, NULL);
	} while (r > 0);
	return r;
}

/*
 * Write the file open as fd to disk and drop it from the server's block
 * cache (FSREQ_DROP), so that its next read comes from the disk: for
 * timing a cold read (user/fsbench.c).
 */
int fdrop(int fdnum)
{
	struct Fd *fd;
	int r;

	if ((r = fd_lookup(fdnum, &fd)) < 0)
		return r;
	if (fd->fd_dev_id != devfile.dev_id)
		return -E_INVAL;
	fsipcbuf.drop.req_fileid = fd->fd_file.id;
	return fsipc(FSREQ_DROP, NULL);
}
