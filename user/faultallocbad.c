/*
 * Like faultalloc, but the bad address goes to the kernel (sys_cputs)
 * instead of being touched by us. The kernel must not fault on it, so our
 * handler never runs; the kernel's user_mem_check destroys us instead.
 */
#include <inc/lib.h>

#define PERM_RW (PTE_P | PTE_U | PTE_W)
#define MSG_MAX 100
#define BAD_ADDRESS 0xDeadBeef

static void handler(struct UTrapframe *utf)
{
	uintptr_t va = utf->utf_fault_va;
	int r;

	cprintf("fault %lx\n", va);
	r = sys_page_alloc(0, (void *)ROUNDDOWN(va, PGSIZE), PERM_RW);
	if (r < 0)
		panic("allocating at %lx in page fault handler: %e", va, r);
	snprintf((char *)va, MSG_MAX, "this string was faulted in at %lx", va);
}

void umain(int argc, char **argv)
{
	set_pgfault_handler(handler);
	sys_cputs((char *)BAD_ADDRESS, 4);
	cprintf("faultallocbad: still alive!\n");
}
