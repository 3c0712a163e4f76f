/*
 * Console I/O for user programs, straight through system calls. Small on
 * purpose: the file-system work replaces it with a console device behind
 * file descriptors.
 */
#include <inc/lib.h>

void cputchar(int ch)
{
	char c = ch;

	sys_cputs(&c, 1);
}

/* Waits for a character; sys_cgetc returns 0 while there is none, and
 * yielding lets other envs run while we wait. */
int getchar(void)
{
	int c;

	while ((c = sys_cgetc()) == 0)
		sys_yield();
	return c;
}

/* Every fd is the console until there are file descriptors. */
int iscons(int fd)
{
	return 1;
}
