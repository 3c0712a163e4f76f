/* mkdir dir...: make directories. */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	int i, fd;

	for (i = 1; i < argc; i++) {
		if ((fd = open(argv[i], O_MKDIR)) < 0)
			printf("mkdir: %s: %e\n", argv[i], fd);
		else
			close(fd);
	}
}
