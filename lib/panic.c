/*
 * panic and warn for user programs. A user panic stops the env where it
 * is and enters the kernel monitor (int3), so that its state can be
 * inspected; it never exits.
 */
#include <inc/lib.h>

/* Room for the whole message, so it goes out in one sys_cputs. */
#define PANIC_BUF_SIZE 256

static void report(const char *what, const char *file, int line,
		   const char *fmt, va_list ap)
{
	char buf[PANIC_BUF_SIZE];
	int n;

	n = snprintf(buf, sizeof(buf), "[%08x] user %s in %s at %s:%d: ",
		     sys_getenvid(), what, binaryname, file, line);
	if (n < (int)sizeof(buf))
		vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	cprintf("%s\n", buf);
}

void _panic(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("panic", file, line, fmt, ap);
	va_end(ap);
	/* Into the monitor; if someone continues us, go back. */
	for (;;)
		asm volatile("int3");
}

void _warn(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("warning", file, line, fmt, ap);
	va_end(ap);
}
