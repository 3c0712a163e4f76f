/*
 * cprintf for user programs. Output is collected in a buffer and handed to
 * the kernel in one sys_cputs, so that a line (up to PRINTBUF_SIZE bytes)
 * from one env is never interleaved with another env's output.
 */
#include <inc/lib.h>

#define PRINTBUF_SIZE 256

struct printbuf {
	int len;   /* bytes waiting in buf */
	int count; /* bytes printed so far */
	char buf[PRINTBUF_SIZE];
};

static void flush(struct printbuf *b)
{
	if (b->len > 0)
		sys_cputs(b->buf, b->len);
	b->len = 0;
}

static void putch(int ch, void *arg)
{
	struct printbuf *b = arg;

	b->buf[b->len++] = ch;
	b->count++;
	if (b->len == PRINTBUF_SIZE)
		flush(b);
}

int vcprintf(const char *fmt, va_list ap)
{
	struct printbuf b;

	b.len = 0;
	b.count = 0;
	vprintfmt(putch, &b, fmt, ap);
	flush(&b);
	return b.count;
}

int cprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vcprintf(fmt, ap);
	va_end(ap);
	return n;
}
