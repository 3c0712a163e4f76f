/*
 * Demand paging in user space: the handler maps a page wherever we fault
 * and writes a message there. The second string crosses a page boundary,
 * so the handler itself faults, on the exception stack (a nested fault).
 */
#include <inc/lib.h>

#define PERM_RW (PTE_P | PTE_U | PTE_W)
#define MSG_MAX 100
#define ONE_PAGE 0xDeadBeef
#define TWO_PAGES 0xCafeBffe /* two bytes before a page boundary */

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
	cprintf("%s\n", (char *)ONE_PAGE);
	cprintf("%s\n", (char *)TWO_PAGES);
}
