/*
 * icode: the first program of a system with a file system ("fs icode"
 * on the kernel command line). Shows /motd, read through the file
 * server, and spawns /bin/init; a first test of open, read and spawn.
 */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	char buf[512];
	ssize_t n;
	int fd, r;

	binaryname = "icode";
	cprintf("icode startup\n");

	cprintf("icode: open /motd\n");
	if ((fd = open("/motd", O_RDONLY)) < 0)
		panic("icode: open /motd: %e", fd);
	cprintf("icode: read /motd\n");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sys_cputs(buf, n);
	if (n < 0)
		panic("icode: read /motd: %e", n);
	cprintf("icode: close /motd\n");
	close(fd);

	cprintf("icode: spawn /bin/init\n");
	if ((r = spawnl("/bin/init", "init", "initarg1", "initarg2", NULL)) < 0)
		panic("icode: spawn /bin/init: %e", r);
	cprintf("icode: exiting\n");
}
