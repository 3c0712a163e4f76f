/*
 * COM1 output and command-line words for the multiboot test kernel
 * (mbtest/mb.h says what each program may rely on).
 *
 * Invariants:
 * - Polled: no interrupt is ever enabled here.
 */
#include "mb.h"

void com_init(void)
{
	outb(COM1 + COM_IER, 0);
	outb(COM1 + COM_LCR, COM_LCR_DLAB);
	outb(COM1 + 0, 1);  /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + COM_LCR, COM_LCR_8N1);
	outb(COM1 + COM_FCR, COM_FCR_ON_CLEAR);
	outb(COM1 + COM_MCR, COM_MCR_DTR_RTS);
}

void putc(char c)
{
	while (!(inb(COM1 + COM_LSR) & COM_LSR_THRE))
		;
	outb(COM1, c);
}

void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

void putu(u32 v)
{
	char buf[12];
	int i = 0;

	do
		buf[i++] = '0' + v % 10;
	while ((v /= 10) != 0);
	while (i > 0)
		putc(buf[--i]);
}

void puthex(u32 v)
{
	int i;

	puts("0x");
	for (i = 28; i >= 0; i -= 4)
		putc("0123456789abcdef"[(v >> i) & 0xF]);
}

void __attribute__((noreturn)) finish(u8 v)
{
	outb(DEBUG_EXIT_PORT, v);
	puts("mbtest: still running after the debug-exit port\n");
	for (;;)
		asm volatile("pause");
}

/* Is pre followed by w a whole word (space-separated) of line? */
int has_prefixed_word(const char *line, const char *pre, const char *w)
{
	const char *s, *p, *q;

	for (s = line; *s; s++) {
		if (s != line && s[-1] != ' ')
			continue;
		for (p = s, q = pre; *q && *p == *q; p++, q++)
			;
		if (*q)
			continue;
		for (q = w; *q && *p == *q; p++, q++)
			;
		if (!*q && (*p == ' ' || *p == '\0'))
			return 1;
	}
	return 0;
}

/* Is w a whole word (space-separated) of line? */
int has_word(const char *line, const char *w)
{
	return has_prefixed_word(line, "", w);
}

