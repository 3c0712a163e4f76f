/* The upcall points into the kernel: ring 3 cannot run it, so every
 * attempt faults again until the exception stack is full and the kernel
 * destroys us. The kernel code must never run on our behalf. */
#include <inc/lib.h>

#define PERM_RW (PTE_P | PTE_U | PTE_W)
#define EVIL_UPCALL ((void *)(KERNLINK + 0x100020))

void umain(int argc, char **argv)
{
	sys_page_alloc(0, (void *)(UXSTACKTOP - PGSIZE), PERM_RW);
	sys_env_set_pgfault_upcall(0, EVIL_UPCALL);
	*(volatile int *)0 = 0;
	cprintf("faultevilhandler: still alive!\n");
}
