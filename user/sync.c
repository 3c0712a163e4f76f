/* sync: have the file server write every dirty block to disk. */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	int r;

	if ((r = sync()) < 0)
		printf("sync: %e\n", r);
}
