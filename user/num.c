/* num [file...]: copy the files (or standard input) with line numbers. */
#include <inc/lib.h>

/* The number of the next line, across all the files, as cat -n does. */
static int line = 1;
static bool at_line_start = true;

static void num(int fd, const char *name)
{
	char c;
	ssize_t n;

	while ((n = read(fd, &c, 1)) > 0) {
		if (at_line_start) {
			printf("%5d ", line++);
			at_line_start = false;
		}
		if ((n = write(1, &c, 1)) != 1)
			panic("num: write error copying %s: %e", name, n);
		if (c == '\n')
			at_line_start = true;
	}
	if (n < 0)
		panic("num: error reading %s: %e", name, n);
}

void umain(int argc, char **argv)
{
	int i, fd;

	binaryname = "num";
	if (argc <= 1) {
		num(0, "<stdin>");
		return;
	}
	for (i = 1; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY)) < 0) {
			printf("num: can't open %s: %e\n", argv[i], fd);
			continue;
		}
		num(fd, argv[i]);
		close(fd);
	}
}
