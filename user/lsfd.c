/* lsfd [-1]: list this env's open descriptors (to the console, or with
 * -1 to standard output). */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	struct Stat st;
	int i, out = -1;

	if (argc > 1 && strcmp(argv[1], "-1") == 0)
		out = 1;
	for (i = 0; i < MAXFD; i++) {
		if (fstat(i, &st) < 0)
			continue;
		if (out >= 0)
			fprintf(out, "fd %d: name %s isdir %d size %ld dev %s\n",
				i, st.st_name, st.st_isdir, st.st_size,
				st.st_dev->dev_name);
		else
			cprintf("fd %d: name %s isdir %d size %ld dev %s\n", i,
				st.st_name, st.st_isdir, st.st_size,
				st.st_dev->dev_name);
	}
}
