/* Two envs pass a counter back and forth with IPC until it reaches
 * LAST. */
#include <inc/lib.h>

#define LAST 10

void umain(int argc, char **argv)
{
	envid_t who;
	int i;

	if ((who = fork()) < 0)
		panic("fork: %e", who);
	if (who != 0) {
		cprintf("send 0 from %x to %x\n", sys_getenvid(), who);
		ipc_send(who, 0, NULL, 0);
	}
	for (;;) {
		i = ipc_recv(&who, NULL, NULL);
		cprintf("%x got %d from %x\n", sys_getenvid(), i, who);
		if (i == LAST)
			return;
		ipc_send(who, i + 1, NULL, 0);
		if (i + 1 == LAST)
			return;
	}
}
