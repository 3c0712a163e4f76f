/*
 * Pages through IPC: the parent sends a page holding a message to its
 * child, which answers in the same page, mapped at a different address.
 */
#include <inc/lib.h>

#define PERM_RW (PTE_P | PTE_U | PTE_W)
#define PARENT_PAGE ((char *)0xa00000)
#define CHILD_PAGE ((char *)0xb00000)

static const char to_child[] = "hello child environment! how are you?";
static const char to_parent[] = "hello parent environment! I'm good.";

void umain(int argc, char **argv)
{
	envid_t who;
	int r;

	if ((who = fork()) < 0)
		panic("fork: %e", who);
	if (who == 0) {
		ipc_recv(&who, CHILD_PAGE, NULL);
		cprintf("%x got message: %s\n", who, CHILD_PAGE);
		if (strcmp(CHILD_PAGE, to_child) == 0)
			cprintf("child received correct message\n");
		strcpy(CHILD_PAGE, to_parent);
		ipc_send(who, 0, CHILD_PAGE, PERM_RW);
		return;
	}

	if ((r = sys_page_alloc(0, PARENT_PAGE, PERM_RW)) < 0)
		panic("sys_page_alloc: %e", r);
	strcpy(PARENT_PAGE, to_child);
	ipc_send(who, 0, PARENT_PAGE, PERM_RW);

	ipc_recv(&who, PARENT_PAGE, NULL);
	cprintf("%x got message: %s\n", who, PARENT_PAGE);
	if (strcmp(PARENT_PAGE, to_parent) == 0)
		cprintf("parent received correct message\n");
}
