/*
 * cprintf for the kernel: the shared formatter (lib/printfmt.c) writing
 * into a buffer that goes to the console (cons_write) when full and at
 * the end: in a guest, one hypercall a buffer rather than one a byte.
 */
#include <inc/types.h>
#include <inc/stdarg.h>
#include <inc/stdio.h>
#include <kern/console.h>

/* A line or two: most cprintf calls fit in one buffer. */
#define PRINTBUF_SIZE 256

struct printbuf {
	int count; /* characters printed so far */
	int len;   /* characters waiting in buf */
	char buf[PRINTBUF_SIZE];
};

static void
flush(struct printbuf *b)
{
	cons_write(b->buf, b->len);
	b->len = 0;
}

static void
putch(int c, void *data)
{
	struct printbuf *b = data;

	b->buf[b->len++] = c;
	if (b->len == PRINTBUF_SIZE)
		flush(b);
	b->count++;
}

int
vcprintf(const char *fmt, va_list ap)
{
	struct printbuf b;

	b.count = 0;
	b.len = 0;
	vprintfmt(putch, &b, fmt, ap);
	flush(&b);
	return b.count;
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
