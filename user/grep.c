/*
 * grep [-v] [-c] [-n] string [file...]: print the lines (of the files, or
 * of standard input) that contain string, a fixed string, not a pattern.
 * -v: the lines that do not; -c: only count them; -n: number them.
 */
#include <inc/lib.h>

/* The longest line; longer ones are handled in pieces of this size. */
#define MAXLINE 1024

static bool invert, count_only, number;
static const char *needle;

static bool contains(const char *line, const char *s)
{
	size_t n = strlen(s);

	for (; *line; line++)
		if (strncmp(line, s, n) == 0)
			return true;
	return n == 0;
}

/* Returns how many lines matched. */
static int grep(int fd, const char *name, bool show_name)
{
	char line[MAXLINE + 1];
	int len = 0, lineno = 0, matches = 0;
	bool eof = false;
	ssize_t n;
	char c;

	while (!eof) {
		n = read(fd, &c, 1);
		if (n < 0) {
			printf("grep: error reading %s: %e\n", name, n);
			break;
		}
		eof = n == 0;
		if (!eof && c != '\n' && len < MAXLINE) {
			line[len++] = c;
			continue;
		}
		if (eof && len == 0)
			break;
		line[len] = 0;
		len = 0;
		lineno++;
		if (contains(line, needle) == invert)
			continue;
		matches++;
		if (count_only)
			continue;
		if (show_name)
			printf("%s:", name);
		if (number)
			printf("%d:", lineno);
		printf("%s\n", line);
	}
	if (count_only)
		printf("%s%s%d\n", show_name ? name : "", show_name ? ":" : "",
		       matches);
	return matches;
}

void umain(int argc, char **argv)
{
	struct Argstate args;
	int i, fd, c;

	binaryname = "grep";
	argstart(&argc, argv, &args);
	while ((c = argnext(&args)) >= 0) {
		switch (c) {
		case 'v':
			invert = true;
			break;
		case 'c':
			count_only = true;
			break;
		case 'n':
			number = true;
			break;
		default:
			printf("usage: grep [-vcn] string [file...]\n");
			return;
		}
	}
	if (argc < 2) {
		printf("usage: grep [-vcn] string [file...]\n");
		return;
	}
	needle = argv[1];
	if (argc == 2) {
		grep(0, "<stdin>", false);
		return;
	}
	for (i = 2; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY)) < 0) {
			printf("grep: can't open %s: %e\n", argv[i], fd);
			continue;
		}
		grep(fd, argv[i], argc > 3);
		close(fd);
	}
}
