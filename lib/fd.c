/*
 * File descriptors: the bookkeeping of the descriptor table at FDTABLE
 * and the device-independent calls (read, write, close, dup...), which
 * find the descriptor's struct Dev and hand the work to it.
 *
 * There is no table in memory besides the pages themselves: descriptor n
 * is open exactly when page FDTABLE + n * PGSIZE is mapped (inc/fd.h), so
 * fork and spawn pass descriptors on just by sharing those pages
 * (PTE_SHARE), and the sharers see one offset.
 */
#include <inc/lib.h>

/* The descriptors and their data lie below the user stack. */
static_assert(FILEDATA + MAXFD * FDDATASIZE <= USTACKTOP - PGSIZE);

/* Every device a descriptor can belong to. */
static struct Dev *const devtab[] = { &devfile, &devpipe, &devcons };

static struct Fd *num2fd(int fdnum)
{
	return (struct Fd *)(FDTABLE + (uint64_t)fdnum * PGSIZE);
}

/* Is the page at va mapped in this env? Walks the recursive views from
 * the top so that no missing level is read. */
static bool va_mapped(uintptr_t va)
{
	return (uvpml4e[PML4X(va)] & PTE_P) && (uvpde[va >> PDPXSHIFT] & PTE_P) &&
	       (uvpd[va >> PDXSHIFT] & PTE_P) && (uvpt[PGNUM(va)] & PTE_P);
}

int fd2num(struct Fd *fd)
{
	return ((uintptr_t)fd - FDTABLE) / PGSIZE;
}

char *fd2data(struct Fd *fd)
{
	return (char *)(FILEDATA + (uint64_t)fd2num(fd) * FDDATASIZE);
}

/*
 * Find the lowest free descriptor and store its (unmapped) page address
 * in *fd_store. Nothing is allocated: the caller maps the page (or a
 * server sends one there). -E_MAX_OPEN when all MAXFD are in use.
 */
int fd_alloc(struct Fd **fd_store)
{
	int i;

	for (i = 0; i < MAXFD; i++) {
		if (!va_mapped((uintptr_t)num2fd(i))) {
			*fd_store = num2fd(i);
			return 0;
		}
	}
	*fd_store = NULL;
	return -E_MAX_OPEN;
}

/* The open descriptor fdnum, or -E_INVAL if it is out of range or closed. */
int fd_lookup(int fdnum, struct Fd **fd_store)
{
	if (fdnum < 0 || fdnum >= MAXFD ||
	    !va_mapped((uintptr_t)num2fd(fdnum)))
		return -E_INVAL;
	*fd_store = num2fd(fdnum);
	return 0;
}

/*
 * Close fd: let its device clean up, then unmap the page. If must_exist
 * and fd is not an open descriptor of ours (a stale pointer), return
 * -E_INVAL; otherwise such an fd is silently ignored.
 */
int fd_close(struct Fd *fd, bool must_exist)
{
	struct Fd *check;
	struct Dev *dev;
	int r;

	if (fd_lookup(fd2num(fd), &check) < 0 || check != fd)
		return must_exist ? -E_INVAL : 0;
	r = dev_lookup(fd->fd_dev_id, &dev);
	if (r >= 0)
		r = dev->dev_close ? dev->dev_close(fd) : 0;
	/* Unmap even when the device failed: the descriptor is gone either way. */
	sys_page_unmap(0, fd);
	return r;
}

int dev_lookup(int devid, struct Dev **dev_store)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(devtab); i++) {
		if (devtab[i]->dev_id == devid) {
			*dev_store = devtab[i];
			return 0;
		}
	}
	cprintf("[%08x] unknown device type %d\n", thisenv->env_id, devid);
	*dev_store = NULL;
	return -E_INVAL;
}

/* Descriptor and its device, the first step of every call below. */
static int lookup_both(int fdnum, struct Fd **fd, struct Dev **dev)
{
	int r;

	if ((r = fd_lookup(fdnum, fd)) < 0)
		return r;
	return dev_lookup((*fd)->fd_dev_id, dev);
}

int close(int fdnum)
{
	struct Fd *fd;
	int r;

	if ((r = fd_lookup(fdnum, &fd)) < 0)
		return r;
	return fd_close(fd, true);
}

void close_all(void)
{
	int i;

	for (i = 0; i < MAXFD; i++)
		close(i);
}

/*
 * Make newfdnum a second name for oldfdnum (closing newfdnum first). Both
 * share one Fd page, so one offset; the data pages go along, shared, so
 * a pipe's buffer is the same for both. The data page(s) are mapped
 * before the Fd page: pipeisclosed compares their reference counts, and
 * the data page must never have fewer references than the Fd page.
 */
int dup(int oldfdnum, int newfdnum)
{
	struct Fd *oldfd, *newfd;
	char *oldva, *newva;
	uint64_t i;
	int r;

	if ((r = fd_lookup(oldfdnum, &oldfd)) < 0)
		return r;
	if (newfdnum < 0 || newfdnum >= MAXFD)
		return -E_INVAL;
	if (oldfdnum == newfdnum)
		return newfdnum;
	close(newfdnum);

	newfd = num2fd(newfdnum);
	oldva = fd2data(oldfd);
	newva = fd2data(newfd);
	for (i = 0; i < FDDATASIZE; i += PGSIZE) {
		if (!va_mapped((uintptr_t)oldva + i))
			continue;
		if ((r = sys_page_map(0, oldva + i, 0, newva + i,
				      uvpt[PGNUM(oldva + i)] & PTE_SYSCALL)) < 0)
			goto fail;
	}
	if ((r = sys_page_map(0, oldfd, 0, newfd,
			      uvpt[PGNUM(oldfd)] & PTE_SYSCALL)) < 0)
		goto fail;
	return newfdnum;

fail:
	sys_page_unmap(0, newfd);
	for (i = 0; i < FDDATASIZE; i += PGSIZE)
		sys_page_unmap(0, newva + i);
	return r;
}

ssize_t read(int fdnum, void *buf, size_t n)
{
	struct Fd *fd;
	struct Dev *dev;
	int r;

	if ((r = lookup_both(fdnum, &fd, &dev)) < 0)
		return r;
	if ((fd->fd_omode & O_ACCMODE) == O_WRONLY) {
		cprintf("[%08x] read %d -- bad mode\n", thisenv->env_id, fdnum);
		return -E_INVAL;
	}
	if (!dev->dev_read)
		return -E_NOT_SUPP;
	return dev->dev_read(fd, buf, n);
}

/* Read until n bytes arrive or the device reports end of file. */
ssize_t readn(int fdnum, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t m;

	while (got < n) {
		m = read(fdnum, (char *)buf + got, n - got);
		if (m < 0)
			return m;
		if (m == 0)
			break;
		got += m;
	}
	return got;
}

ssize_t write(int fdnum, const void *buf, size_t n)
{
	struct Fd *fd;
	struct Dev *dev;
	int r;

	if ((r = lookup_both(fdnum, &fd, &dev)) < 0)
		return r;
	if ((fd->fd_omode & O_ACCMODE) == O_RDONLY) {
		cprintf("[%08x] write %d -- bad mode\n", thisenv->env_id,
			fdnum);
		return -E_INVAL;
	}
	if (!dev->dev_write)
		return -E_NOT_SUPP;
	return dev->dev_write(fd, buf, n);
}

/* The offset lives in the shared Fd page; the server reads it there. */
int seek(int fdnum, off_t offset)
{
	struct Fd *fd;
	int r;

	if ((r = fd_lookup(fdnum, &fd)) < 0)
		return r;
	if (offset < 0)
		return -E_INVAL;
	fd->fd_offset = offset;
	return 0;
}

int ftruncate(int fdnum, off_t size)
{
	struct Fd *fd;
	struct Dev *dev;
	int r;

	if ((r = lookup_both(fdnum, &fd, &dev)) < 0)
		return r;
	if ((fd->fd_omode & O_ACCMODE) == O_RDONLY)
		return -E_INVAL;
	if (!dev->dev_trunc)
		return -E_NOT_SUPP;
	return dev->dev_trunc(fd, size);
}

int fstat(int fdnum, struct Stat *stat)
{
	struct Fd *fd;
	struct Dev *dev;
	int r;

	if ((r = lookup_both(fdnum, &fd, &dev)) < 0)
		return r;
	stat->st_name[0] = 0;
	stat->st_size = 0;
	stat->st_isdir = 0;
	stat->st_dev = dev;
	if (!dev->dev_stat)
		return -E_NOT_SUPP;
	return dev->dev_stat(fd, stat);
}

int stat(const char *path, struct Stat *stat)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY)) < 0)
		return fd;
	r = fstat(fd, stat);
	close(fd);
	return r;
}
