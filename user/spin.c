/*
 * Preemption: the child spins without ever entering the kernel, yet the
 * parent still gets to run (the timer interrupt takes the CPU back) and
 * kills it.
 */
#include <inc/lib.h>

#define PARENT_YIELDS 8

void umain(int argc, char **argv)
{
	envid_t child;
	int i;

	cprintf("I am the parent.  Forking the child...\n");
	child = fork();
	if (child < 0)
		panic("fork: %e", child);
	if (child == 0) {
		cprintf("I am the child.  Spinning...\n");
		for (;;)
			;
	}

	cprintf("I am the parent.  Running the child...\n");
	for (i = 0; i < PARENT_YIELDS; i++)
		sys_yield();

	cprintf("I am the parent.  Killing the child...\n");
	sys_env_destroy(child);
}
