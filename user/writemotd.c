/* writemotd: copy /newmotd over /motd, showing both before and after. */
#include <inc/lib.h>

static char buf[4096];

static void show(const char *path)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		panic("open %s: %e", path, fd);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sys_cputs(buf, n);
	close(fd);
}

void umain(int argc, char **argv)
{
	ssize_t n;
	int rfd, wfd;

	if ((rfd = open("/newmotd", O_RDONLY)) < 0)
		panic("open /newmotd: %e", rfd);
	if ((wfd = open("/motd", O_RDWR)) < 0)
		panic("open /motd: %e", wfd);
	cprintf("file descriptors %d %d\n", rfd, wfd);
	if (rfd == wfd)
		panic("open /newmotd and /motd give same file descriptor");

	cprintf("OLD MOTD\n===\n");
	show("/motd");
	cprintf("===\n");

	if ((n = ftruncate(wfd, 0)) < 0)
		panic("truncate /motd: %e", n);
	while ((n = read(rfd, buf, sizeof(buf))) > 0)
		if (write(wfd, buf, n) != n)
			panic("write /motd: %e", n);
	close(rfd);
	close(wfd);

	cprintf("NEW MOTD\n===\n");
	show("/motd");
	cprintf("===\n");
}
