/*
 * fork the slow, simple way: sys_exofork, then copy every page of the
 * program and its stack into the child eagerly. Parent and child then
 * take turns printing.
 */
#include <inc/lib.h>

#define PERM_RW (PTE_P | PTE_U | PTE_W)
#define PARENT_ROUNDS 10
#define CHILD_ROUNDS 20

/* From user/user.ld: the end of the program's bss. */
extern char end[];

/* Give envid a fresh page at va holding a copy of ours, via UTEMP. */
static void copy_page(envid_t envid, uintptr_t va)
{
	int r;

	if ((r = sys_page_alloc(envid, (void *)va, PERM_RW)) < 0)
		panic("sys_page_alloc: %e", r);
	if ((r = sys_page_map(envid, (void *)va, 0, UTEMP, PERM_RW)) < 0)
		panic("sys_page_map: %e", r);
	memmove(UTEMP, (void *)va, PGSIZE);
	if ((r = sys_page_unmap(0, UTEMP)) < 0)
		panic("sys_page_unmap: %e", r);
}

static envid_t dumbfork(void)
{
	envid_t child;
	uintptr_t va;
	int r;

	child = sys_exofork();
	if (child < 0)
		panic("sys_exofork: %e", child);
	if (child == 0) {
		thisenv = &envs[ENVX(sys_getenvid())];
		return 0;
	}

	for (va = UTEXT; va < (uintptr_t)end; va += PGSIZE)
		copy_page(child, va);
	/* Our stack: the one page the kernel gave us, which holds this
	 * frame. */
	copy_page(child, ROUNDDOWN((uintptr_t)&va, PGSIZE));

	if ((r = sys_env_set_status(child, ENV_RUNNABLE)) < 0)
		panic("sys_env_set_status: %e", r);
	return child;
}

void umain(int argc, char **argv)
{
	envid_t who = dumbfork();
	int i;

	for (i = 0; i < (who ? PARENT_ROUNDS : CHILD_ROUNDS); i++) {
		cprintf("%d: I am the %s!\n", i, who ? "parent" : "child");
		sys_yield();
	}
}
