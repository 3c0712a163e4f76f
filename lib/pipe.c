/*
 * Pipes (device 'p'): a one-page ring buffer shared by the read end and
 * the write end, at the data address (fd2data) of each.
 *
 * There is no message when an end closes. Instead each end's Fd page and
 * the buffer page are counted: every mapping of an end's Fd page comes
 * with a mapping of the buffer, so
 *     pageref(buffer) == pageref(read end) + pageref(write end),
 * and one end sees the other is gone exactly when pageref(its Fd page)
 * == pageref(buffer). For that to hold at every instant another env may
 * look, the buffer is mapped before an Fd page (dup) and unmapped after
 * it (close); and the two counts are read within one time slice
 * (thisenv->env_runs unchanged), since our own view could change between
 * them otherwise.
 */
#include <inc/lib.h>

/* Bytes the ring holds: the rest of the page after the two positions. */
#define PIPEBUFSIZ (PGSIZE - 2 * sizeof(uint64_t))

struct Pipe {
	uint64_t p_rpos;           /* bytes read so far, ever */
	uint64_t p_wpos;           /* bytes written so far, ever */
	uint8_t p_buf[PIPEBUFSIZ]; /* byte i lives at p_buf[i % PIPEBUFSIZ] */
};

static_assert(sizeof(struct Pipe) == PGSIZE);

#define PERM_SHARED (PTE_P | PTE_U | PTE_W | PTE_SHARE)

/* Make p[0] the read end and p[1] the write end of a new pipe. */
int pipe(int p[2])
{
	struct Fd *rfd, *wfd;
	void *va;
	int r;

	if ((r = fd_alloc(&rfd)) < 0 ||
	    (r = sys_page_alloc(0, rfd, PERM_SHARED)) < 0)
		return r;
	if ((r = fd_alloc(&wfd)) < 0 ||
	    (r = sys_page_alloc(0, wfd, PERM_SHARED)) < 0)
		goto undo_r;
	va = fd2data(rfd);
	if ((r = sys_page_alloc(0, va, PERM_SHARED)) < 0)
		goto undo_w;
	if ((r = sys_page_map(0, va, 0, fd2data(wfd), PERM_SHARED)) < 0)
		goto undo_data;

	rfd->fd_dev_id = DEVID_PIPE;
	rfd->fd_omode = O_RDONLY;
	wfd->fd_dev_id = DEVID_PIPE;
	wfd->fd_omode = O_WRONLY;
	p[0] = fd2num(rfd);
	p[1] = fd2num(wfd);
	return 0;

undo_data:
	sys_page_unmap(0, va);
undo_w:
	sys_page_unmap(0, wfd);
undo_r:
	sys_page_unmap(0, rfd);
	return r;
}

/* Is the other end of fd (whose buffer is p) closed? */
static bool other_end_closed(struct Fd *fd, struct Pipe *p)
{
	uint32_t runs;
	int nfd, np;

	for (;;) {
		runs = thisenv->env_runs;
		nfd = pageref(fd);
		np = pageref(p);
		/* Both counts from one time slice: a consistent view. */
		if (runs == thisenv->env_runs)
			return nfd == np;
	}
}

int pipeisclosed(int fdnum)
{
	struct Fd *fd;
	int r;

	if ((r = fd_lookup(fdnum, &fd)) < 0)
		return r;
	return other_end_closed(fd, (struct Pipe *)fd2data(fd));
}

/*
 * Reads whatever is there, up to n bytes, waiting only while the ring is
 * empty; 0 (end of file) once it is empty and the writers are gone.
 */
static ssize_t devpipe_read(struct Fd *fd, void *buf, size_t n)
{
	struct Pipe *p = (struct Pipe *)fd2data(fd);
	volatile struct Pipe *vp = p;
	uint8_t *dst = buf;
	size_t i;

	if (n == 0)
		return 0;
	while (vp->p_rpos == vp->p_wpos) {
		if (other_end_closed(fd, p))
			return 0;
		sys_yield();
	}
	for (i = 0; i < n && vp->p_rpos != vp->p_wpos; i++) {
		dst[i] = vp->p_buf[vp->p_rpos % PIPEBUFSIZ];
		vp->p_rpos++;
	}
	return i;
}

/*
 * Writes all n bytes, waiting for room as needed; stops short (or returns
 * 0) if the readers go away meanwhile.
 */
static ssize_t devpipe_write(struct Fd *fd, const void *buf, size_t n)
{
	struct Pipe *p = (struct Pipe *)fd2data(fd);
	volatile struct Pipe *vp = p;
	const uint8_t *src = buf;
	size_t i;

	for (i = 0; i < n; i++) {
		while (vp->p_wpos - vp->p_rpos >= PIPEBUFSIZ) {
			if (other_end_closed(fd, p))
				return i;
			sys_yield();
		}
		vp->p_buf[vp->p_wpos % PIPEBUFSIZ] = src[i];
		vp->p_wpos++;
	}
	return n;
}

/* The Fd page goes first, the buffer after it (see the top). fd_close
 * then finds the Fd page already unmapped, which is harmless. */
static int devpipe_close(struct Fd *fd)
{
	void *data = fd2data(fd);

	sys_page_unmap(0, fd);
	return sys_page_unmap(0, data);
}

static int devpipe_stat(struct Fd *fd, struct Stat *st)
{
	volatile struct Pipe *p = (struct Pipe *)fd2data(fd);

	strcpy(st->st_name, "<pipe>");
	st->st_size = p->p_wpos - p->p_rpos;
	return 0;
}

struct Dev devpipe = {
	.dev_id = DEVID_PIPE,
	.dev_name = "pipe",
	.dev_read = devpipe_read,
	.dev_write = devpipe_write,
	.dev_close = devpipe_close,
	.dev_stat = devpipe_stat,
};
