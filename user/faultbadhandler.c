/* An exception stack, but an upcall address that is not mapped: running
 * the upcall faults again, on the exception stack, and again, until the
 * stack is full and the kernel destroys us. */
#include <inc/lib.h>

#define PERM_RW (PTE_P | PTE_U | PTE_W)
#define BAD_UPCALL ((void *)0xDeadBeef)

void umain(int argc, char **argv)
{
	sys_page_alloc(0, (void *)(UXSTACKTOP - PGSIZE), PERM_RW);
	sys_env_set_pgfault_upcall(0, BAD_UPCALL);
	*(volatile int *)0 = 0;
	cprintf("faultbadhandler: still alive!\n");
}
