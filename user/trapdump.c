/*
 * trapdump: an invalid opcode with known values in registers, so that the
 * kernel's trap-frame dump can be checked line by line: a short value
 * printed in 8 hex digits (r15 0x0000000f), one that needs more printed
 * in full (r14 0x123456789a), and the classic layout of the other lines.
 */
#include <inc/lib.h>

#define R15_VALUE 0xfUL
#define R14_VALUE 0x123456789aUL
#define R13_VALUE 0xdeadbeefUL

void umain(int argc, char **argv)
{
	cprintf("trapdump: executing ud2\n");
	asm volatile("movq %0, %%r15\n\t"
		     "movq %1, %%r14\n\t"
		     "movq %2, %%r13\n\t"
		     "ud2"
		     :
		     : "r"(R15_VALUE), "r"(R14_VALUE), "r"(R13_VALUE)
		     : "r13", "r14", "r15");
	cprintf("trapdump: still alive!\n");
}
