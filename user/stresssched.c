/*
 * Scheduler stress, best with several CPUs: NCHILD children yield over
 * and over, and between yields each increments its private counter with
 * plain, non-atomic adds. If the kernel ever ran one env on two CPUs at
 * once (say, by resuming it on one CPU while another still runs it), the
 * two copies would race on the counter and the final count would come
 * out short; the children also check that thisenv says they run where
 * they are running.
 */
#include <inc/lib.h>

#define NCHILD 20
#define ROUNDS 10
#define INCS 10000

volatile int counter;

/* Wait until every child exists: the parent exits when it is done. */
static void wait_for_parent(envid_t parent)
{
	const volatile struct Env *p = &envs[ENVX(parent)];

	while (p->env_id == parent && p->env_status != ENV_FREE)
		sys_yield();
}

static void child(envid_t parent)
{
	int i, j;

	wait_for_parent(parent);
	for (i = 0; i < ROUNDS; i++) {
		sys_yield();
		if (thisenv->env_status != ENV_RUNNING)
			panic("running, but my status is %d",
			      thisenv->env_status);
		for (j = 0; j < INCS; j++)
			counter++;
	}
	if (counter != ROUNDS * INCS)
		panic("ran on two CPUs at once (counter is %d, not %d)",
		      counter, ROUNDS * INCS);
	cprintf("[%08x] stresssched on CPU %d\n", thisenv->env_id,
		thisenv->env_cpunum);
}

void umain(int argc, char **argv)
{
	envid_t parent = sys_getenvid();
	envid_t r;
	int i;

	for (i = 0; i < NCHILD; i++) {
		if ((r = fork()) < 0)
			panic("fork: %e", r);
		if (r == 0) {
			child(parent);
			return;
		}
	}
	sys_yield();
}
