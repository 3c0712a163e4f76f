/*
 * Divides by zero, as the classic JOS divzero does: a divide-error
 * exception, and the kernel destroys us. The divisor is a plain global,
 * which the compiler can see is 0: user programs are built with
 * -fnon-call-exceptions (GNUmakefile), which keeps the idiv instead of
 * folding 1 / zero into a comparison.
 */
#include <inc/lib.h>

int zero;

void umain(int argc, char **argv)
{
	zero = 0;
	cprintf("1/0 is %08x!\n", 1 / zero);
}
