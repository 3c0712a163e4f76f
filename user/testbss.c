/* The kernel's loader must give us a zeroed, writable bss of the full
 * size. Then we write well past its end, which must fault. */
#include <inc/lib.h>

#define ARRAYSIZE (1024 * 1024) /* 4 MiB of uint32_t */
/* One page beyond the end of the array: never mapped. */
#define PAST_END (ARRAYSIZE + PGSIZE / sizeof(uint32_t))

uint32_t bigarray[ARRAYSIZE];

void umain(int argc, char **argv)
{
	int i;

	cprintf("Making sure bss works right...\n");
	for (i = 0; i < ARRAYSIZE; i++)
		if (bigarray[i] != 0)
			panic("bigarray[%d] isn't cleared!", i);
	for (i = 0; i < ARRAYSIZE; i++)
		bigarray[i] = i;
	for (i = 0; i < ARRAYSIZE; i++)
		if (bigarray[i] != (uint32_t)i)
			panic("bigarray[%d] didn't hold its value!", i);

	cprintf("Yes, good.  Now doing a wild write off the end...\n");
	((volatile uint32_t *)bigarray)[PAST_END] = 0;
	panic("SHOULD HAVE TRAPPED!!!");
}
