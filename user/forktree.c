/*
 * A binary tree of envs, DEPTH levels below the root. Each env is named
 * by its path from the root ("" for the root, then "0", "1", "00" ...)
 * and prints its name.
 */
#include <inc/lib.h>

#define DEPTH 3

static void forktree(const char *name);

/* Fork a child named name + branch, unless the tree is deep enough. */
static void forkchild(const char *name, char branch)
{
	char child_name[DEPTH + 1];
	envid_t r;

	if (strlen(name) >= DEPTH)
		return;
	snprintf(child_name, sizeof(child_name), "%s%c", name, branch);
	r = fork();
	if (r < 0)
		panic("fork: %e", r);
	if (r == 0) {
		forktree(child_name);
		exit();
	}
}

static void forktree(const char *name)
{
	cprintf("%04x: I am '%s'\n", sys_getenvid(), name);
	forkchild(name, '0');
	forkchild(name, '1');
}

void umain(int argc, char **argv)
{
	forktree("");
}
