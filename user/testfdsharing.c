/*
 * testfdsharing: a forked child shares its parent's open file, offset
 * included: the child seeks and reads, and the parent then finds the
 * offset where the child left it.
 */
#include <inc/lib.h>

#define HALF 64

static char buf[2 * HALF], buf2[2 * HALF];

void umain(int argc, char **argv)
{
	envid_t child;
	ssize_t n, n2;
	int fd, r;

	if ((fd = open("/lorem", O_RDONLY)) < 0)
		panic("open /lorem: %e", fd);
	if ((r = seek(fd, 0)) < 0)
		panic("seek: %e", r);
	if ((n = readn(fd, buf, sizeof(buf))) != sizeof(buf))
		panic("readn: %e", n);

	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0) {
		seek(fd, 0);
		cprintf("going to read in child (might page fault if your "
			"sharing is buggy)\n");
		if ((n2 = readn(fd, buf2, sizeof(buf2))) != sizeof(buf2))
			panic("read in child got %ld, wanted %ld", n2,
			      (long)sizeof(buf2));
		if (memcmp(buf, buf2, sizeof(buf)) != 0)
			panic("read in child got different bytes");
		cprintf("read in child succeeded\n");
		/* Leave the shared offset half way. */
		seek(fd, HALF);
		exit();
	}
	wait(child);
	if ((n2 = readn(fd, buf2, HALF)) != HALF)
		panic("read in parent got %ld, wanted %d", n2, HALF);
	if (memcmp(buf + HALF, buf2, HALF) != 0)
		panic("read in parent got different bytes: offset not shared");
	cprintf("read in parent succeeded\n");
	close(fd);
}
