/* Loads %ds with a selector ring 3 may not use (the kernel's TSS, a system
 * descriptor with DPL 0): general-protection fault, and we are destroyed. */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	asm volatile("movw %0, %%ds" : : "r"((uint16_t)GD_TSS0));
	cprintf("badsegment: still alive after loading %%ds!\n");
}
