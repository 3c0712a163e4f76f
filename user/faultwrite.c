/* Writes address 0, which is never mapped: the kernel destroys us. */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	*(volatile unsigned *)0 = 0;
	cprintf("faultwrite: still alive after writing location 0!\n");
}
