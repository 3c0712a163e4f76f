/*
 * printf and fprintf: formatted output to a file descriptor. Output is
 * collected in a buffer and written in pieces, so a line usually goes out
 * in one write.
 */
#include <inc/lib.h>

#define FPRINTBUF_SIZE 256

struct fprintbuf {
	int fd;      /* where it goes */
	int len;     /* bytes waiting in buf */
	int count;   /* bytes written so far */
	int error;   /* first write error, or 0 */
	char buf[FPRINTBUF_SIZE];
};

static void fflush_buf(struct fprintbuf *b)
{
	ssize_t r;

	if (b->len > 0 && b->error == 0) {
		r = write(b->fd, b->buf, b->len);
		if (r < 0)
			b->error = r;
		else
			b->count += r;
	}
	b->len = 0;
}

static void fputch(int ch, void *arg)
{
	struct fprintbuf *b = arg;

	b->buf[b->len++] = ch;
	if (b->len == FPRINTBUF_SIZE)
		fflush_buf(b);
}

/* Returns the bytes written, or the first write's error. */
int vfprintf(int fd, const char *fmt, va_list ap)
{
	struct fprintbuf b;

	b.fd = fd;
	b.len = 0;
	b.count = 0;
	b.error = 0;
	vprintfmt(fputch, &b, fmt, ap);
	fflush_buf(&b);
	return b.error ? b.error : b.count;
}

int fprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

/* To standard output: descriptor 1, or the console if there is none
 * (a program the kernel started directly). */
int printf(const char *fmt, ...)
{
	struct Fd *fd;
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (fd_lookup(1, &fd) == 0)
		n = vfprintf(1, fmt, ap);
	else
		n = vcprintf(fmt, ap);
	va_end(ap);
	return n;
}
