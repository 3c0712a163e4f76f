/* A page-fault handler that reports the fault and exits. */
#include <inc/lib.h>

#define WILD_ADDRESS 0xDeadBeef

static void handler(struct UTrapframe *utf)
{
	cprintf("i faulted at va %lx, err %lx\n", utf->utf_fault_va,
		utf->utf_err & 7);
	sys_env_destroy(sys_getenvid());
}

void umain(int argc, char **argv)
{
	set_pgfault_handler(handler);
	*(volatile int *)WILD_ADDRESS = 0;
	cprintf("faultdie: still alive after the fault!\n");
}
