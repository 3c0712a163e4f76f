/* A breakpoint from user mode, as classic JOS programs make one
 * (breakpoint() of inc/x86.h): its gate has DPL 3, so the kernel gets a
 * clean T_BRKPT and enters the monitor with our trap frame. */
#include <inc/lib.h>
#include <inc/x86.h>

void umain(int argc, char **argv)
{
	breakpoint();
}
