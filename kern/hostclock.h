/* The host's wall clock, from its RTC (kern/hostclock.c). */
#ifndef JOS_KERN_HOSTCLOCK_H
#define JOS_KERN_HOSTCLOCK_H

#include <inc/types.h>

/* Seconds since 1970-01-01 00:00:00 UTC (the RTC is taken to hold UTC,
 * as QEMU's and Bochs' default RTCs do), or -E_NOT_SUPP in a guest. */
int64_t hostclock_unix(void);

#endif /* !JOS_KERN_HOSTCLOCK_H */
