/* Reads address 0, which is never mapped: the kernel destroys us. */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	cprintf("I read %08x from location 0!\n", *(volatile unsigned *)0);
}
