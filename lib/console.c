/*
 * The console device ('c'): a descriptor for the kernel console, reached
 * with sys_cputs and sys_cgetc. init opens it as descriptors 0 and 1,
 * and everything it spawns inherits them.
 *
 * getchar and cputchar go through descriptors 0 and 1 when those are
 * open, so that a program's input and output follow redirection. A
 * program the kernel starts directly has no descriptors at all: then
 * they talk to the console with system calls, as before fds existed.
 */
#include <inc/lib.h>

/* Bytes one sys_cputs of ours carries; cprintf-sized. */
#define CONS_CHUNK 128
/* Ctrl-D, which a console reader takes as end of file. */
#define CTRL_D 0x04

void cputchar(int ch)
{
	char c = ch;
	struct Fd *fd;

	if (fd_lookup(1, &fd) == 0)
		write(1, &c, 1);
	else
		sys_cputs(&c, 1);
}

/* One character, waiting for it: sys_cgetc returns 0 while there is none,
 * and yielding lets others run meanwhile. */
static int cons_getc(void)
{
	int c;

	while ((c = sys_cgetc()) == 0)
		sys_yield();
	return c;
}

/* The next input character, or a negative error (-E_EOF at the end). */
int getchar(void)
{
	struct Fd *fd;
	unsigned char c;
	ssize_t r;

	if (fd_lookup(0, &fd) < 0)
		return cons_getc();
	/* Reading one byte at a time: we must not consume input that a
	 * program we spawn next should see. */
	r = read(0, &c, 1);
	if (r < 0)
		return r;
	if (r == 0)
		return -E_EOF;
	return c;
}

/* Is fdnum the console? A program without descriptors is all console. */
int iscons(int fdnum)
{
	struct Fd *fd;
	int r;

	if ((r = fd_lookup(fdnum, &fd)) < 0)
		return fdnum >= 0 && fdnum <= 2 && fd_lookup(0, &fd) < 0 &&
		       fd_lookup(1, &fd) < 0;
	return fd->fd_dev_id == DEVID_CONS;
}

/* A new console descriptor. Its page is shared so that children get it. */
int opencons(void)
{
	struct Fd *fd;
	int r;

	if ((r = fd_alloc(&fd)) < 0)
		return r;
	if ((r = sys_page_alloc(0, fd, PTE_P | PTE_U | PTE_W | PTE_SHARE)) < 0)
		return r;
	fd->fd_dev_id = DEVID_CONS;
	fd->fd_omode = O_RDWR;
	return fd2num(fd);
}

/* One character per call, after waiting for it: a console reader wants
 * each key as it comes, and a longer read would hold it up. */
static ssize_t devcons_read(struct Fd *fd, void *buf, size_t n)
{
	int c;

	if (n == 0)
		return 0;
	c = cons_getc();
	if (c < 0)
		return c;
	/* Ctrl-D at the console reads as end of file. */
	if (c == CTRL_D)
		return 0;
	*(char *)buf = c;
	return 1;
}

static ssize_t devcons_write(struct Fd *fd, const void *buf, size_t n)
{
	size_t done, m;

	for (done = 0; done < n; done += m) {
		m = MIN(n - done, (size_t)CONS_CHUNK);
		sys_cputs((const char *)buf + done, m);
	}
	return n;
}

static int devcons_close(struct Fd *fd)
{
	return 0;
}

static int devcons_stat(struct Fd *fd, struct Stat *st)
{
	strcpy(st->st_name, "<cons>");
	return 0;
}

struct Dev devcons = {
	.dev_id = DEVID_CONS,
	.dev_name = "cons",
	.dev_read = devcons_read,
	.dev_write = devcons_write,
	.dev_close = devcons_close,
	.dev_stat = devcons_stat,
};
