/* cat [file...]: copy the files (or standard input) to standard output. */
#include <inc/lib.h>

#define CHUNK 8192

static char buf[CHUNK];

static void cat(int fd, const char *name)
{
	ssize_t n, r;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if ((r = write(1, buf, n)) != n)
			panic("cat: write error copying %s: %e", name, r);
	if (n < 0)
		panic("cat: error reading %s: %e", name, n);
}

void umain(int argc, char **argv)
{
	int i, fd;

	binaryname = "cat";
	if (argc <= 1) {
		cat(0, "<stdin>");
		return;
	}
	for (i = 1; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY)) < 0) {
			printf("cat: can't open %s: %e\n", argv[i], fd);
			continue;
		}
		cat(fd, argv[i]);
		close(fd);
	}
}
