/* An upcall but no exception stack: the kernel cannot push the
 * UTrapframe, so it destroys us. */
#include <inc/lib.h>

extern void _pgfault_upcall(void);

void umain(int argc, char **argv)
{
	sys_env_set_pgfault_upcall(0, _pgfault_upcall);
	*(volatile int *)0 = 0;
	cprintf("faultnostack: still alive!\n");
}
