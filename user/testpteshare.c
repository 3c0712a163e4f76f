/*
 * testpteshare: a PTE_SHARE page must stay shared, not copied, across
 * fork and across spawn: the child writes a string into it and the
 * parent must see the string after the child is done.
 */
#include <inc/lib.h>

/* A page no program image or library region uses. */
#define SHARED_VA ((char *)0xA0000000)

static const char msg_fork[] = "written by the forked child";
static const char msg_spawn[] = "written by the spawned child";

void umain(int argc, char **argv)
{
	envid_t child;
	int r;

	if (argc > 1) {
		/* The spawned copy of us: the page is already mapped. */
		strcpy(SHARED_VA, msg_spawn);
		return;
	}

	if ((r = sys_page_alloc(0, SHARED_VA,
				PTE_P | PTE_W | PTE_U | PTE_SHARE)) < 0)
		panic("sys_page_alloc: %e", r);

	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0) {
		strcpy(SHARED_VA, msg_fork);
		exit();
	}
	wait(child);
	if (strcmp(SHARED_VA, msg_fork) != 0)
		panic("fork did not share the page: it holds '%s'", SHARED_VA);
	cprintf("fork handles PTE_SHARE right\n");

	if ((child = spawnl("/bin/testpteshare", "testpteshare", "arg",
			    NULL)) < 0)
		panic("spawn: %e", child);
	wait(child);
	if (strcmp(SHARED_VA, msg_spawn) != 0)
		panic("spawn did not share the page: it holds '%s'",
		      SHARED_VA);
	cprintf("spawn handles PTE_SHARE right\n");
}
