/*
 * The concurrent prime sieve: a pipeline of envs connected by IPC. The
 * first env feeds 2, 3, 4 ... LIMIT into the pipeline. Each stage prints
 * the first number it gets, a prime p, forks the next stage, and passes
 * on every later number that p does not divide. END (0) follows the last
 * number down the pipeline, and every stage exits when it sees it, so
 * no env is left behind.
 */
#include <inc/lib.h>

#define LIMIT 1000
#define END 0

/* Fork the next stage; returns its id in the parent, 0 in the child. */
static envid_t fork_stage(void)
{
	envid_t id = fork();

	if (id < 0)
		panic("fork: %e", id);
	return id;
}

/* One stage of the sieve. Returns (so the env exits) when END arrives. */
static void stage(void)
{
	envid_t next;
	int p, n;

again:
	p = ipc_recv(NULL, NULL, NULL);
	if (p == END)
		return;
	cprintf("CPU %d: %d\n", thisenv->env_cpunum, p);
	if ((next = fork_stage()) == 0)
		goto again;
	for (;;) {
		n = ipc_recv(NULL, NULL, NULL);
		if (n == END || n % p != 0)
			ipc_send(next, n, NULL, 0);
		if (n == END)
			return;
	}
}

void umain(int argc, char **argv)
{
	envid_t first;
	int n;

	if ((first = fork_stage()) == 0) {
		stage();
		return;
	}
	for (n = 2; n <= LIMIT; n++)
		ipc_send(first, n, NULL, 0);
	ipc_send(first, END, NULL, 0);
}
