/*
 * String and memory routines for kernel and user code alike.
 *
 * gcc emits calls to memcpy and memset on its own (struct assignment,
 * large initialisers), even with -ffreestanding, so those two must exist
 * under exactly these names.
 */
#include <inc/string.h>

/*
 * At higher optimisation levels gcc may recognise a copy or fill loop and
 * replace it with a call to memcpy/memset -- which, inside memcpy/memset,
 * would be infinite recursion. Forbid that transformation in this file.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

/* A 64-bit word that may alias any other type, for the bulk loops. */
typedef uint64_t __attribute__((may_alias)) word_t;
#define WORD sizeof(word_t)

/*
 * The bulk of a fill or a forward copy is one string instruction over
 * whole words: a C loop costs several instructions a word (more at the
 * kernel's -O0), which showed in every page zeroed or copied (issue 14:
 * a guest's boot zeroes and copies thousands). cld first: the ABI says
 * the direction flag is clear at a call, but a trap from user code that
 * set it must not make the kernel fill downwards.
 */
static void
fill_words(word_t *dst, word_t w, size_t nwords)
{
	asm volatile("cld; rep stosq"
		     : "+D"(dst), "+c"(nwords)
		     : "a"(w)
		     : "memory", "cc");
}

static void
copy_words(word_t *dst, const word_t *src, size_t nwords)
{
	asm volatile("cld; rep movsq"
		     : "+D"(dst), "+S"(src), "+c"(nwords)
		     :
		     : "memory", "cc");
}

int
strlen(const char *s)
{
	int n;

	for (n = 0; s[n] != '\0'; n++)
		;
	return n;
}

int
strnlen(const char *s, size_t size)
{
	int n;

	for (n = 0; (size_t)n < size && s[n] != '\0'; n++)
		;
	return n;
}

char *
strcpy(char *dst, const char *src)
{
	char *d = dst;

	while ((*d++ = *src++) != '\0')
		;
	return dst;
}

/* Copies at most size bytes; like C's, it pads with NULs but may not
 * NUL-terminate when src is too long. */
char *
strncpy(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i < size && src[i] != '\0'; i++)
		dst[i] = src[i];
	for (; i < size; i++)
		dst[i] = '\0';
	return dst;
}

char *
strcat(char *dst, const char *src)
{
	strcpy(dst + strlen(dst), src);
	return dst;
}

/*
 * Copies src into the size-byte buffer dst, truncating if needed, and
 * always NUL-terminates when size > 0. Returns strlen(src) (as BSD's
 * strlcpy does), so a result >= size means truncation.
 */
size_t
strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	size_t n;

	if (size > 0) {
		n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* Comparisons treat bytes as unsigned, so high bytes sort above ASCII. */
int
strcmp(const char *s1, const char *s2)
{
	while (*s1 != '\0' && *s1 == *s2) {
		s1++;
		s2++;
	}
	return (int)(unsigned char)*s1 - (int)(unsigned char)*s2;
}

int
strncmp(const char *s1, const char *s2, size_t size)
{
	for (; size > 0; size--, s1++, s2++) {
		if (*s1 != *s2 || *s1 == '\0')
			return (int)(unsigned char)*s1 -
			       (int)(unsigned char)*s2;
	}
	return 0;
}

/*
 * Returns the first c in s, or NULL if there is none. Searching for
 * '\0' also gives NULL (unlike C), so loops such as
 * `while (strchr(WHITESPACE, *p))` stop at the end of a string.
 */
char *
strchr(const char *s, char c)
{
	for (; *s != '\0'; s++)
		if (*s == c)
			return (char *)s;
	return NULL;
}

/* Like strchr, but returns the terminating NUL when c is absent. */
char *
strfind(const char *s, char c)
{
	for (; *s != '\0' && *s != c; s++)
		;
	return (char *)s;
}

void *
memset(void *dst, int c, size_t len)
{
	unsigned char *p = dst;
	unsigned char b = c;
	word_t w, *wp;

	/* Bytes up to a word boundary, whole words, then the tail. */
	for (; len > 0 && (uintptr_t)p % WORD != 0; len--)
		*p++ = b;
	if (len >= WORD) {
		w = b * 0x0101010101010101ULL;
		wp = (word_t *)p;
		fill_words(wp, w, len / WORD);
		p = (unsigned char *)(wp + len / WORD);
		len %= WORD;
	}
	for (; len > 0; len--)
		*p++ = b;
	return dst;
}

/*
 * Copies low addresses first. Safe for overlap when dst < src: every word
 * is read before the (lower) store that could clobber it.
 */
static void
copy_forward(unsigned char *d, const unsigned char *s, size_t len)
{
	/* Words only pay off when both sides can be aligned together. */
	if ((uintptr_t)d % WORD == (uintptr_t)s % WORD) {
		for (; len > 0 && (uintptr_t)d % WORD != 0; len--)
			*d++ = *s++;
		copy_words((word_t *)d, (const word_t *)s, len / WORD);
		d += len - len % WORD;
		s += len - len % WORD;
		len %= WORD;
	}
	for (; len > 0; len--)
		*d++ = *s++;
}

/* Copies high addresses first: the mirror image, for dst > src. */
static void
copy_backward(unsigned char *d, const unsigned char *s, size_t len)
{
	d += len;
	s += len;
	if ((uintptr_t)d % WORD == (uintptr_t)s % WORD) {
		for (; len > 0 && (uintptr_t)d % WORD != 0; len--)
			*--d = *--s;
		for (; len >= WORD; len -= WORD) {
			d -= WORD;
			s -= WORD;
			*(word_t *)d = *(const word_t *)s;
		}
	}
	for (; len > 0; len--)
		*--d = *--s;
}

void *
memcpy(void *dst, const void *src, size_t len)
{
	copy_forward(dst, src, len);
	return dst;
}

void *
memmove(void *dst, const void *src, size_t len)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	/* Copying backwards is needed only when dst overlaps src's tail. */
	if (d > s && d < s + len)
		copy_backward(d, s, len);
	else
		copy_forward(d, s, len);
	return dst;
}

int
memcmp(const void *v1, const void *v2, size_t len)
{
	const unsigned char *s1 = v1;
	const unsigned char *s2 = v2;

	for (; len > 0; len--, s1++, s2++)
		if (*s1 != *s2)
			return (int)*s1 - (int)*s2;
	return 0;
}

/* Returns the first byte equal to (unsigned char)c, or s + len if none. */
void *
memfind(const void *s, int c, size_t len)
{
	const unsigned char *p = s;
	const unsigned char *end = p + len;

	for (; p < end; p++)
		if (*p == (unsigned char)c)
			break;
	return (void *)p;
}

/* The value of digit character c in bases up to 36, or 36 if none. */
static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 36;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/*
 * Parses an optionally signed integer in base 2..36, after leading white
 * space. Base 0 picks 16 for a "0x" prefix, 8 for a leading 0, else 10;
 * base 16 also accepts the "0x" prefix. *endptr (if endptr isn't NULL)
 * gets the first unparsed character, or s itself if there were no digits.
 * Overflow is not detected: the value wraps.
 */
long
strtol(const char *s, char **endptr, int base)
{
	const char *p = s;
	unsigned long val = 0;
	bool neg = false;
	bool any = false;

	if (base < 0 || base == 1 || base > 36) {
		if (endptr)
			*endptr = (char *)s;
		return 0;
	}
	while (is_space(*p))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	/* Take "0x" only if a hex digit follows; "0xg" parses as 0. */
	if ((base == 0 || base == 16) && p[0] == '0' &&
	    (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	for (; digit_value(*p) < base; p++, any = true)
		val = val * base + digit_value(*p);
	if (endptr)
		*endptr = (char *)(any ? p : s);
	/* Negate unsigned: well defined, and right even for LONG_MIN. */
	return (long)(neg ? 0 - val : val);
}
