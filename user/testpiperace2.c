/*
 * testpiperace2: the same race as testpiperace, the other way round:
 * one env dups and closes the write end while its parent asks whether
 * the write end is closed (from the read end).
 */
#include <inc/lib.h>

#define ROUNDS 200

void umain(int argc, char **argv)
{
	envid_t child;
	int p[2], i, r;

	cprintf("testing for pipeisclosed race...\n");
	if ((r = pipe(p)) < 0)
		panic("pipe: %e", r);
	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0) {
		close(p[0]);
		for (i = 0; i < ROUNDS; i++) {
			if (i % 10 == 0)
				cprintf("%d.", i);
			dup(p[1], 10);
			sys_yield();
			close(10);
			sys_yield();
		}
		cprintf("\n");
		exit();
	}
	/* The parent keeps its write end: the pipe is never closed. */
	while (envs[ENVX(child)].env_id == child &&
	       envs[ENVX(child)].env_status != ENV_FREE) {
		if (pipeisclosed(p[0]))
			panic("somehow the other end of p[0] got closed!");
	}
	cprintf("race didn't happen\n");
}
