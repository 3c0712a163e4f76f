/* Raises the page-fault vector by hand. Its gate has DPL 0, so ring 3
 * may not use it: the CPU turns the attempt into a general-protection
 * fault, and the kernel destroys us. */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	asm volatile("int $14"); /* T_PGFLT */
	cprintf("softint: still alive after int $14!\n");
}
