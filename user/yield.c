/*
 * Cooperative scheduling: ENVS copies of this program take turns, each
 * yielding the CPU ROUNDS times.
 */
#include <inc/lib.h>

#define ENVS 3
#define ROUNDS 5

void umain(int argc, char **argv)
{
	envid_t r;
	int i;

	/* The first env makes the others; each copy runs the loop. */
	for (i = 1; i < ENVS; i++) {
		if ((r = fork()) < 0)
			panic("fork: %e", r);
		if (r == 0)
			break;
	}

	cprintf("Hello, I am environment %08x.\n", thisenv->env_id);
	for (i = 0; i < ROUNDS; i++) {
		sys_yield();
		cprintf("Back in environment %08x, iteration %d.\n",
			thisenv->env_id, i);
	}
	cprintf("All done in environment %08x.\n", thisenv->env_id);
}
