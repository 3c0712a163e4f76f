/*
 * cprintf for the kernel: the shared formatter (lib/printfmt.c) writing
 * to the console one character at a time.
 */
#include <inc/types.h>
#include <inc/stdarg.h>
#include <inc/stdio.h>

/* Counts each character as it goes to the console. */
static void
putch(int c, void *count)
{
	cputchar(c);
	(*(int *)count)++;
}

int
vcprintf(const char *fmt, va_list ap)
{
	int count = 0;

	vprintfmt(putch, &count, fmt, ap);
	return count;
}

int
cprintf(const char *fmt, ...)
{
	va_list ap;
	int count;

	va_start(ap, fmt);
	count = vcprintf(fmt, ap);
	va_end(ap);
	return count;
}
