/* wc [file...]: count lines, words and bytes. */
#include <inc/lib.h>

#define CHUNK 4096

static char buf[CHUNK];
static long tlines, twords, tbytes;

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void wc(int fd, const char *name)
{
	long lines = 0, words = 0, bytes = 0;
	bool inword = false;
	ssize_t n, i;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n')
				lines++;
			if (is_blank(buf[i]))
				inword = false;
			else if (!inword) {
				inword = true;
				words++;
			}
		}
		bytes += n;
	}
	if (n < 0)
		printf("wc: error reading %s: %e\n", name, n);
	printf("%7ld %7ld %7ld%s%s\n", lines, words, bytes, name ? " " : "",
	       name ? name : "");
	tlines += lines;
	twords += words;
	tbytes += bytes;
}

void umain(int argc, char **argv)
{
	int i, fd;

	if (argc <= 1) {
		wc(0, NULL);
		return;
	}
	for (i = 1; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY)) < 0) {
			printf("wc: can't open %s: %e\n", argv[i], fd);
			continue;
		}
		wc(fd, argv[i]);
		close(fd);
	}
	if (argc > 2)
		printf("%7ld %7ld %7ld total\n", tlines, twords, tbytes);
}
