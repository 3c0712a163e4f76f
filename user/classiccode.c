/*
 * classiccode: code in the style of the classic JOS labs, which build
 * with -Wall -Wno-format -Wno-unused -Werror and no -Wextra. It has what
 * that set accepts and this tree's strict set rejects: an unused
 * variable, a variable set but never used, an unused static function, a
 * signed/unsigned comparison, and %08x given a 64-bit value. If user
 * programs lost the classic warning set, this file would stop building.
 */
#include <inc/lib.h>

#define NITEMS 4

static int never_called(void)
{
	return 1;
}

void umain(int argc, char **argv)
{
	int unused;
	int set_only;
	unsigned int n = NITEMS;
	int i, sum = 0;

	set_only = argc;
	for (i = 0; i < n; i++)
		sum += i;
	cprintf("classiccode: sum %d, env %08x\n", sum, (uint64_t)thisenv->env_id);
	cprintf("classiccode: built with the classic warnings\n");
}
