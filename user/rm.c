/* rm file...: remove files (and empty directories). */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	int i, r;

	for (i = 1; i < argc; i++)
		if ((r = remove(argv[i])) < 0)
			printf("rm: %s: %e\n", argv[i], r);
}
