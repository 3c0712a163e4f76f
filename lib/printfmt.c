/*
 * The formatting engine behind cprintf, printf and snprintf. It hands each
 * output character to a caller-supplied putch, so one implementation serves
 * the console, file descriptors and string buffers alike.
 *
 * No floating point: the kernel runs with SSE disabled. Besides the usual
 * verbs, %e takes an int error code (either sign) and prints its name.
 */
#include <inc/types.h>
#include <inc/stdarg.h>
#include <inc/stdio.h>
#include <inc/string.h>
#include <inc/error.h>

typedef void (*putch_t)(int, void *);

/* Names printed by %e, indexed by the positive error code. */
static const char *const error_name[MAXERROR] = {
	[E_UNSPECIFIED] = "unspecified error",
	[E_BAD_ENV] = "bad environment",
	[E_INVAL] = "invalid parameter",
	[E_NO_MEM] = "out of memory",
	[E_NO_FREE_ENV] = "out of environments",
	[E_FAULT] = "segmentation fault",
	[E_NO_SYS] = "function not implemented",
	[E_IPC_NOT_RECV] = "env is not recving",
	[E_EOF] = "unexpected end of file",
	[E_NO_DISK] = "no free space on disk",
	[E_MAX_OPEN] = "too many files are open",
	[E_NOT_FOUND] = "file or block not found",
	[E_BAD_PATH] = "invalid path",
	[E_FILE_EXISTS] = "file already exists",
	[E_NOT_EXEC] = "file is not a valid executable",
	[E_NOT_SUPP] = "operation not supported",
	[E_NO_VMX] = "no VT-x or AMD-V on this CPU",
	[E_NO_EPT] = "no nested paging (EPT or NPT) on this CPU",
	[E_BUSY] = "in use",
	[E_PERM] = "not permitted",
};

/* What sits between the '%' and the verb of one conversion. */
struct spec {
	bool left;  /* '-': pad on the right instead of the left */
	bool zero;  /* '0': pad numbers with zeros rather than spaces */
	bool alt;   /* '#': 0x before hex, a leading 0 for octal */
	char sign;  /* '+' or ' ' to show before non-negative numbers, or 0 */
	int width;  /* minimum field width, 0 if none */
	int prec;   /* precision, -1 if none */
	int size;   /* argument size: -2 hh, -1 h, 0 int, 1 l, 2 ll/z/j/t */
};

/* Emits n copies of c (nothing when n <= 0). */
static void
put_pad(putch_t putch, void *putdat, int c, int n)
{
	for (; n > 0; n--)
		putch(c, putdat);
}

/* Emits the first len bytes of s, padded out to the field width. */
static void
put_str(putch_t putch, void *putdat, const char *s, int len,
	const struct spec *sp)
{
	int i;

	if (!sp->left)
		put_pad(putch, putdat, ' ', sp->width - len);
	/* Unsigned, so high bytes don't reach putch as negative ints. */
	for (i = 0; i < len; i++)
		putch((unsigned char)s[i], putdat);
	if (sp->left)
		put_pad(putch, putdat, ' ', sp->width - len);
}

/* Writes num's digits so they end just before end; returns the first. */
static char *
format_digits(char *end, uint64_t num, unsigned base, bool upper)
{
	const char *digit = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		*--end = digit[num % base];
		num /= base;
	} while (num != 0);
	return end;
}

/*
 * Emits a number as [spaces][sign][prefix][zeros]digits[spaces].
 * The magnitude is passed separately from its sign so that the most
 * negative 64-bit value needs no special case.
 */
static void
put_num(putch_t putch, void *putdat, uint64_t mag, bool neg, unsigned base,
	bool upper, const char *prefix, const struct spec *sp)
{
	char buf[24]; /* 2^64 - 1 has 22 octal digits */
	char *end = buf + sizeof(buf);
	char *digits = end;
	char sign = neg ? '-' : sp->sign;
	int ndigits, nzeros, len;

	/* C's rule: a zero value with precision 0 prints no digits. */
	if (mag != 0 || sp->prec != 0)
		digits = format_digits(end, mag, base, upper);
	ndigits = end - digits;
	nzeros = sp->prec > ndigits ? sp->prec - ndigits : 0;
	len = (sign != 0) + strlen(prefix) + nzeros + ndigits;

	/* '0' fills the width with zeros, unless a precision says how many. */
	if (sp->zero && !sp->left && sp->prec < 0 && sp->width > len) {
		nzeros += sp->width - len;
		len = sp->width;
	}
	if (!sp->left)
		put_pad(putch, putdat, ' ', sp->width - len);
	if (sign)
		putch(sign, putdat);
	for (; *prefix; prefix++)
		putch(*prefix, putdat);
	put_pad(putch, putdat, '0', nzeros);
	for (; digits < end; digits++)
		putch(*digits, putdat);
	if (sp->left)
		put_pad(putch, putdat, ' ', sp->width - len);
}

/*
 * Reads the next argument as an unsigned value of the spec's size.
 * Both l and ll read 64 bits: on x86-64 long and long long are the same
 * width, and inc/types.h makes uint64_t an unsigned long long.
 */
static uint64_t
get_unsigned(va_list *ap, int size)
{
	if (size >= 2)
		return va_arg(*ap, unsigned long long);
	if (size == 1)
		return va_arg(*ap, unsigned long);
	if (size == -1)
		return (unsigned short)va_arg(*ap, unsigned int);
	if (size <= -2)
		return (unsigned char)va_arg(*ap, unsigned int);
	return va_arg(*ap, unsigned int);
}

/* Reads the next argument as a signed value of the spec's size. */
static int64_t
get_signed(va_list *ap, int size)
{
	if (size >= 2)
		return va_arg(*ap, long long);
	if (size == 1)
		return va_arg(*ap, long);
	if (size == -1)
		return (short)va_arg(*ap, int);
	if (size <= -2)
		return (signed char)va_arg(*ap, int);
	return va_arg(*ap, int);
}

/* Emits %e: the name of error code err, whichever sign it comes with. */
static void
put_error(putch_t putch, void *putdat, int err, const struct spec *sp)
{
	/* Widen first: negating INT_MIN as an int would overflow. */
	int64_t code = err < 0 ? -(int64_t)err : err;
	const char *name = NULL;

	if (code < MAXERROR)
		name = error_name[code];
	if (name)
		put_str(putch, putdat, name, strlen(name), sp);
	else
		printfmt(putch, putdat, "error %lld", (long long)code);
}

/* Emits %s; a precision limits how many bytes of the string are used. */
static void
put_string_arg(putch_t putch, void *putdat, const char *s,
	       const struct spec *sp)
{
	int len;

	if (s == NULL)
		s = "(null)";
	len = sp->prec >= 0 ? strnlen(s, sp->prec) : strlen(s);
	put_str(putch, putdat, s, len, sp);
}

/* Emits one signed decimal conversion (%d, %i). */
static void
put_signed(putch_t putch, void *putdat, int64_t v, const struct spec *sp)
{
	/* 0 - (uint64_t)v is |v| even for the most negative value. */
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	put_num(putch, putdat, mag, v < 0, 10, false, "", sp);
}

/* Emits one unsigned conversion; '#' adds the conventional prefix. */
static void
put_unsigned(putch_t putch, void *putdat, uint64_t v, int verb,
	     const struct spec *sp)
{
	struct spec s = *sp;
	const char *prefix = "";
	unsigned base = verb == 'o' ? 8 : (verb == 'u' ? 10 : 16);

	/* Unsigned numbers never carry a sign, not even with '+'. */
	s.sign = 0;
	if (s.alt && base == 16 && v != 0)
		prefix = verb == 'X' ? "0X" : "0x";
	/* Octal '#' guarantees one leading zero, via prefix or precision. */
	if (s.alt && base == 8 && v != 0) {
		prefix = "0";
		if (s.prec > 0)
			s.prec--;
	} else if (s.alt && base == 8 && s.prec == 0) {
		s.prec = 1;
	}
	put_num(putch, putdat, v, false, base, verb == 'X', prefix, &s);
}

/* Emits %p: "0x" and the address, zero-padded to 16 hex digits. */
static void
put_pointer(putch_t putch, void *putdat, void *p, const struct spec *sp)
{
	struct spec s = *sp;

	s.sign = 0;
	if (s.prec < 16)
		s.prec = 16;
	put_num(putch, putdat, (uintptr_t)p, false, 16, false, "0x", &s);
}

/*
 * Performs the conversion named by verb. Returns false for a verb we
 * don't know, so the caller can print the sequence literally instead.
 */
static bool
convert(putch_t putch, void *putdat, int verb, const struct spec *sp,
	va_list *ap)
{
	char ch;

	switch (verb) {
	case 'd':
	case 'i':
		put_signed(putch, putdat, get_signed(ap, sp->size), sp);
		return true;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		put_unsigned(putch, putdat, get_unsigned(ap, sp->size), verb,
			     sp);
		return true;
	case 'p':
		put_pointer(putch, putdat, va_arg(*ap, void *), sp);
		return true;
	case 'c':
		ch = va_arg(*ap, int);
		put_str(putch, putdat, &ch, 1, sp);
		return true;
	case 's':
		put_string_arg(putch, putdat, va_arg(*ap, const char *), sp);
		return true;
	case 'e':
		put_error(putch, putdat, va_arg(*ap, int), sp);
		return true;
	case '%':
		putch('%', putdat);
		return true;
	default:
		return false;
	}
}

/* Parses a run of decimal digits into *val; returns what follows them. */
static const char *
parse_decimal(const char *fmt, int *val)
{
	int v = 0;

	for (; *fmt >= '0' && *fmt <= '9'; fmt++)
		v = v * 10 + (*fmt - '0');
	*val = v;
	return fmt;
}

/* Parses flags: any of "-0#+ " in any order. */
static const char *
parse_flags(const char *fmt, struct spec *sp)
{
	for (;; fmt++) {
		if (*fmt == '-')
			sp->left = true;
		else if (*fmt == '0')
			sp->zero = true;
		else if (*fmt == '#')
			sp->alt = true;
		else if (*fmt == '+')
			sp->sign = '+';
		else if (*fmt == ' ')
			/* '+' wins over ' ' whichever comes first. */
			sp->sign = sp->sign == '+' ? '+' : ' ';
		else
			return fmt;
	}
}

/* Parses the width and precision; '*' takes them from the arguments. */
static const char *
parse_width_prec(const char *fmt, struct spec *sp, va_list *ap)
{
	if (*fmt == '*') {
		sp->width = va_arg(*ap, int);
		/* C says a negative '*' width means '-' with its magnitude. */
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		fmt++;
	} else {
		fmt = parse_decimal(fmt, &sp->width);
	}
	if (*fmt != '.')
		return fmt;
	fmt++;
	if (*fmt == '*') {
		sp->prec = va_arg(*ap, int);
		/* A negative '*' precision counts as no precision at all. */
		if (sp->prec < 0)
			sp->prec = -1;
		return fmt + 1;
	}
	return parse_decimal(fmt, &sp->prec);
}

/* Parses the length modifiers: hh h l ll z j t. */
static const char *
parse_size(const char *fmt, struct spec *sp)
{
	for (;; fmt++) {
		if (*fmt == 'l')
			sp->size++;
		else if (*fmt == 'h')
			sp->size--;
		else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't')
			sp->size = 2;
		else
			return fmt;
	}
}

/* Formats fmt with the arguments in ap, emitting through putch. */
void
vprintfmt(void (*putch)(int, void *), void *putdat, const char *fmt,
	  va_list ap)
{
	const char *start;
	va_list aq;

	/* A local copy, so helpers can share it through a va_list *. */
	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			putch((unsigned char)*fmt++, putdat);
			continue;
		}
		start = fmt;
		struct spec sp = { .prec = -1 };
		fmt = parse_flags(fmt + 1, &sp);
		fmt = parse_width_prec(fmt, &sp, &aq);
		fmt = parse_size(fmt, &sp);
		if (convert(putch, putdat, *fmt, &sp, &aq)) {
			fmt++;
			continue;
		}
		/* Unknown verb (or the string ended): echo it as plain text. */
		putch('%', putdat);
		fmt = start + 1;
	}
	va_end(aq);
}

void
printfmt(void (*putch)(int, void *), void *putdat, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintfmt(putch, putdat, fmt, ap);
	va_end(ap);
}

/* Where snprintf's output goes: [cur, end) still has room. */
struct strbuf {
	char *cur;
	char *end;
	int count; /* characters produced, stored or not */
};

static void
strbuf_putch(int c, void *arg)
{
	struct strbuf *b = arg;

	b->count++;
	if (b->cur < b->end)
		*b->cur++ = c;
}

/*
 * Formats into str, storing at most size - 1 characters and always a
 * terminating NUL. Returns the full length the output would have had
 * (as C99 does), so a result >= size means it was truncated. size 0
 * stores nothing and just measures; a negative size or a NULL str with
 * room to write is -E_INVAL.
 */
int
vsnprintf(char *str, int size, const char *fmt, va_list ap)
{
	struct strbuf b = { str, str, 0 };

	if (size < 0 || (size > 0 && str == NULL))
		return -E_INVAL;
	if (size > 0)
		b.end = str + size - 1;
	vprintfmt(strbuf_putch, &b, fmt, ap);
	if (size > 0)
		*b.cur = '\0';
	return b.count;
}

int
snprintf(char *str, int size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(str, size, fmt, ap);
	va_end(ap);
	return n;
}
