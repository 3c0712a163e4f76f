/*
 * testpipe: data goes through a pipe intact; a reader sees end of file
 * once the writer closes, and a writer sees an error once the reader
 * closes.
 */
#include <inc/lib.h>

static const char msg[] = "Now is the time for all good men to come to "
			  "the aid of their party.";

void umain(int argc, char **argv)
{
	char buf[100];
	envid_t pid;
	ssize_t n;
	int p[2], i, r;

	binaryname = "pipereadeof";
	if ((r = pipe(p)) < 0)
		panic("pipe: %e", r);
	if ((pid = fork()) < 0)
		panic("fork: %e", pid);
	if (pid == 0) {
		close(p[1]);
		if ((n = readn(p[0], buf, sizeof(buf) - 1)) < 0)
			panic("read: %e", n);
		buf[n] = 0;
		if (strcmp(buf, msg) == 0)
			cprintf("pipe read closed properly\n");
		else
			cprintf("got %ld bytes: '%s'\n", n, buf);
		exit();
	}
	close(p[0]);
	if ((n = write(p[1], msg, strlen(msg))) != (ssize_t)strlen(msg))
		panic("write: %e", n);
	close(p[1]);
	wait(pid);

	binaryname = "pipewriteeof";
	if ((r = pipe(p)) < 0)
		panic("pipe: %e", r);
	if ((pid = fork()) < 0)
		panic("fork: %e", pid);
	if (pid == 0) {
		close(p[0]);
		/* Write until the reader's departure stops us. */
		for (i = 0;; i++) {
			if (write(p[1], "x", 1) != 1)
				break;
		}
		cprintf("pipe write closed properly\n");
		exit();
	}
	close(p[0]);
	close(p[1]);
	wait(pid);
	cprintf("pipe tests passed\n");
}
