/* Passes sys_cputs a range that starts in our own memory and runs off
 * its end: every page of the range must be checked, not just the first. */
#include <inc/lib.h>

/* Far more than the whole program occupies. */
#define TOO_LONG (1024 * 1024)

static const char greeting[] = "hello, world";

void umain(int argc, char **argv)
{
	sys_cputs(greeting, TOO_LONG);
	cprintf("buggyhello2: still alive: the kernel printed past our end!\n");
}
