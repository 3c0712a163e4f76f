/* Kernel time: ticks of the boot CPU's timer (kern/time.c). */
#ifndef JOS_KERN_TIME_H
#define JOS_KERN_TIME_H

#include <inc/types.h>

/* Timer interrupts per second on every CPU. */
#define TIMER_HZ 100

void time_tick(void);
uint64_t time_msec(void);

#endif /* !JOS_KERN_TIME_H */
