/* Divides by zero: a divide-error exception, and the kernel destroys us. */
#include <inc/lib.h>

/*
 * Globals the compiler cannot see the values of. Both operands: for a
 * constant numerator, gcc replaces 1 / x by a comparison (the quotient is
 * 0 unless x is 1 or -1), and nothing would divide.
 */
volatile int zero;
volatile int one = 1;

void umain(int argc, char **argv)
{
	zero = 0;
	cprintf("1/0 is %08x!\n", one / zero);
}
