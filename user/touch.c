/* touch file...: make the files exist (empty, if they did not). */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	int i, fd;

	for (i = 1; i < argc; i++) {
		if ((fd = open(argv[i], O_WRONLY | O_CREAT)) < 0)
			printf("touch: %s: %e\n", argv[i], fd);
		else
			close(fd);
	}
}
