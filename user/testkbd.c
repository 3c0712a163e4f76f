/*
 * testkbd: console input through the console device: opens the console
 * as descriptors 0 and 1 if they are not open, then echoes typed lines.
 */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	char *line;
	int r;

	/* The kernel started us with no descriptors: make 0 and 1. */
	close(0);
	if ((r = opencons()) < 0)
		panic("opencons: %e", r);
	if (r != 0)
		panic("first opencons used fd %d", r);
	if ((r = dup(0, 1)) < 0)
		panic("dup: %e", r);

	for (;;) {
		line = readline("Type a line: ");
		if (line == NULL)
			break;
		fprintf(1, "%s\n", line);
	}
}
