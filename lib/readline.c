/*
 * Line input with minimal editing (backspace only), for the kernel
 * monitor and for user programs such as the shell.
 */
#include <inc/types.h>
#include <inc/stdio.h>
#include <inc/error.h>

/* Room for a pasted 4 KiB line and more (the console buffers 8 KiB). */
#define BUFLEN 8192

/* The line being read; returned to the caller, so it is not reentrant. */
static char buf[BUFLEN];

/* Visually erases the last character: back up, blank it, back up again. */
static void
echo_erase(void)
{
	cputchar('\b');
	cputchar(' ');
	cputchar('\b');
}

/*
 * Prints prompt (if not NULL) and reads one line of at most BUFLEN - 1
 * characters. Returns the line, without its newline, in a static buffer
 * that the next call overwrites; NULL on a read error.
 */
char *
readline(const char *prompt)
{
	int len = 0;
	int c;
	bool echo;

	if (prompt != NULL)
		cprintf("%s", prompt);
	/* Only echo when a human is typing at a console. */
	echo = iscons(0);
	for (;;) {
		c = getchar();
		if (c < 0) {
			/* End of input (a script's end, Ctrl-D) is no error,
			 * and ends a last line that has no newline. */
			if (c == -E_EOF && len > 0) {
				buf[len] = '\0';
				return buf;
			}
			if (c != -E_EOF)
				cprintf("read error: %e\n", c);
			return NULL;
		}
		if (c == '\b' || c == 0x7f) {
			if (len > 0) {
				len--;
				if (echo)
					echo_erase();
			}
		} else if (c == '\n' || c == '\r') {
			if (echo)
				cputchar('\n');
			buf[len] = '\0';
			return buf;
		} else if (c >= ' ' && c < 0x7f && len < BUFLEN - 1) {
			/* Printable ASCII only: other control keys are ignored. */
			if (echo)
				cputchar(c);
			buf[len++] = c;
		}
	}
}
