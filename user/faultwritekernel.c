/* Writes kernel memory: mapped, but not for ring 3. */
#include <inc/lib.h>

#define KERNEL_BYTES (KERNLINK + 0x100000)

void umain(int argc, char **argv)
{
	*(volatile unsigned *)KERNEL_BYTES = 0;
	cprintf("faultwritekernel: still alive after writing the kernel!\n");
}
