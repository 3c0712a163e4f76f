/*
 * CHECK(cond, fmt, ...) for the user test programs that count their
 * checks and end with a summary (vmrunbad, vcpuadd, devstatsbad): a
 * check that fails prints "PROG: FAIL: <fmt ...>" and is counted.
 * Define CHECK_PROG (the program's name, a string literal) before
 * including this file.
 *
 * Invariant: nchecks counts every CHECK run, nfailed those that failed.
 */
#ifndef JOS_USER_CHECK_H
#define JOS_USER_CHECK_H

#include <inc/lib.h>

static int nchecks, nfailed;

#define CHECK(cond, ...)                                  \
	do {                                              \
		nchecks++;                                \
		if (!(cond)) {                            \
			nfailed++;                        \
			cprintf(CHECK_PROG ": FAIL: ");   \
			cprintf(__VA_ARGS__);             \
			cprintf("\n");                    \
		}                                         \
	} while (0)

#endif /* !JOS_USER_CHECK_H */
