/* Reads kernel memory: mapped, but not for ring 3. */
#include <inc/lib.h>

#define KERNEL_BYTES (KERNLINK + 0x100000)

void umain(int argc, char **argv)
{
	cprintf("I read %08x from location %lx!\n",
		*(volatile unsigned *)KERNEL_BYTES, KERNEL_BYTES);
}
