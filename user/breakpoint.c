/* A breakpoint from user mode: its gate has DPL 3, so the kernel gets a
 * clean T_BRKPT and enters the monitor with our trap frame. */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	asm volatile("int3");
}
