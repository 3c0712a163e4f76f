/* Asks the kernel to print its own memory: a kernel address must fail
 * user_mem_check like any unmapped one, and the kernel destroys us. */
#include <inc/lib.h>

/* Where the kernel image is mapped (its first loaded byte). */
#define KERNEL_BYTES ((const char *)(KERNLINK + 0x100000))
#define LEN 100

void umain(int argc, char **argv)
{
	sys_cputs(KERNEL_BYTES, LEN);
	cprintf("evilhello: still alive: the kernel printed its own memory!\n");
}
