/*
 * uxstack: the classic 64-bit JOS user layout. The exception stack is
 * the page below UXSTACKTOP (0xef800000) and the normal stack tops at
 * USTACKTOP, two pages lower. We print where each stack is, as seen from
 * a local variable on it, then fault on the exception stack once it is
 * gone: the kernel reports va ef7ff..., the address classic graders match.
 */
#include <inc/lib.h>

#define PERM_RW (PTE_P | PTE_U | PTE_W)
/* Somewhere unmapped, for the fault the handler sees. */
#define WILD_VA 0xDeadBeef
/* A word at the top of the exception stack. */
#define XSTACK_WORD ((volatile int *)(UXSTACKTOP - sizeof(int)))

static void handler(struct UTrapframe *utf)
{
	int local;
	int r;

	cprintf("uxstack: fault at va %08lx; handler's stack at %08lx\n",
		utf->utf_fault_va, (uintptr_t)&local);
	r = sys_page_alloc(0, (void *)ROUNDDOWN(utf->utf_fault_va, PGSIZE),
			   PERM_RW);
	if (r < 0)
		panic("uxstack: sys_page_alloc: %e", r);
}

void umain(int argc, char **argv)
{
	int local;

	cprintf("uxstack: UXSTACKTOP %08lx USTACKTOP %08lx\n",
		(uintptr_t)UXSTACKTOP, (uintptr_t)USTACKTOP);
	cprintf("uxstack: main's stack at %08lx\n", (uintptr_t)&local);

	set_pgfault_handler(handler);
	*(volatile int *)WILD_VA = 1;

	/* No handler and no exception stack: the next fault is fatal. */
	sys_env_set_pgfault_upcall(0, NULL);
	sys_page_unmap(0, (void *)(UXSTACKTOP - PGSIZE));
	cprintf("uxstack: reading the top of the exception stack\n");
	local = *XSTACK_WORD;
	cprintf("uxstack: still alive, read %d!\n", local);
}
