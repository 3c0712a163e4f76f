/*
 * testpiperace: while one env keeps making and dropping extra references
 * to a pipe's read end (dup and close), another keeps asking whether the
 * write end is closed. It never is; pipeisclosed must never say so,
 * however the two interleave.
 */
#include <inc/lib.h>

#define ROUNDS 200
#define CHECKS 20000

void umain(int argc, char **argv)
{
	envid_t child;
	int p[2], i, r;

	cprintf("testing for dup race...\n");
	if ((r = pipe(p)) < 0)
		panic("pipe: %e", r);
	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0) {
		for (i = 0; i < ROUNDS; i++) {
			dup(p[0], 10);
			sys_yield();
			close(10);
			sys_yield();
		}
		exit();
	}
	for (i = 0; i < CHECKS && envs[ENVX(child)].env_id == child &&
		    envs[ENVX(child)].env_status != ENV_FREE; i++) {
		if (pipeisclosed(p[0]))
			panic("somehow the other end of p[0] got closed!");
		if (i % 16 == 0)
			sys_yield();
	}
	wait(child);
	if (pipeisclosed(p[0]))
		panic("somehow the other end of p[0] got closed!");
	cprintf("race didn't happen\n");
}
