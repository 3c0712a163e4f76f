/*
 * pingpong over shared memory: sfork shares our globals, so the counter
 * itself lives in memory both envs see; IPC only passes the turn. Each
 * line also shows thisenv, which must still be right in each env.
 */
#include <inc/lib.h>

#define LAST 10

volatile uint32_t val;

void umain(int argc, char **argv)
{
	envid_t who;

	if ((who = sfork()) < 0)
		panic("sfork: %e", who);
	if (who != 0) {
		cprintf("i am %08x; thisenv is %p\n", sys_getenvid(), thisenv);
		cprintf("send 0 from %x to %x\n", sys_getenvid(), who);
		ipc_send(who, 0, NULL, 0);
	}
	for (;;) {
		ipc_recv(&who, NULL, NULL);
		cprintf("%x got %d from %x (thisenv is %p %x)\n",
			sys_getenvid(), val, who, thisenv, thisenv->env_id);
		if (val == LAST)
			return;
		val++;
		ipc_send(who, 0, NULL, 0);
		if (val == LAST)
			return;
	}
}
