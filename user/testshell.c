/*
 * testshell: runs sh on the script /testshell.sh with its output going
 * into a pipe, and compares what comes out with /testshell.key, byte for
 * byte. The script exercises arguments, quoting, < > | ; and &.
 */
#include <inc/lib.h>

#define SCRIPT "/testshell.sh"
#define KEY "/testshell.key"

void umain(int argc, char **argv)
{
	char c1, c2;
	ssize_t n1, n2;
	int p[2], keyfd, r, line = 1, off = 0;
	envid_t sh;

	/* sh's output: the write end of a pipe, as its descriptor 1. */
	/* 0 and 1 the console first, so the pipe gets other numbers. */
	close_all();
	if ((r = opencons()) < 0 || (r = dup(0, 1)) < 0)
		panic("opencons: %e", r);
	if ((r = pipe(p)) < 0)
		panic("pipe: %e", r);
	cprintf("running sh -x %s\n", SCRIPT);
	dup(p[1], 1);
	close(p[1]);
	if ((sh = spawnl("/bin/sh", "sh", "-x", SCRIPT, NULL)) < 0)
		panic("spawn sh: %e", sh);
	/* Keep only the read end: end of file comes when sh and its
	 * children are all done. */
	close(1);

	if ((keyfd = open(KEY, O_RDONLY)) < 0)
		panic("open %s: %e", KEY, keyfd);
	for (;;) {
		n1 = read(p[0], &c1, 1);
		n2 = read(keyfd, &c2, 1);
		if (n1 < 0)
			panic("reading sh's output: %e", n1);
		if (n2 < 0)
			panic("reading %s: %e", KEY, n2);
		if (n1 == 0 && n2 == 0)
			break;
		if (n1 != 1 || n2 != 1 || c1 != c2) {
			cprintf("testshell: output differs at line %d (byte "
				"%d): got %s '%c', wanted %s '%c'\n", line, off,
				n1 ? "" : "EOF", n1 ? c1 : ' ',
				n2 ? "" : "EOF", n2 ? c2 : ' ');
			wait(sh);
			return;
		}
		if (c1 == '\n')
			line++;
		off++;
	}
	wait(sh);
	cprintf("testshell: shell ran correctly\n");
}
