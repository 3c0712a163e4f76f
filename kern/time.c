/*
 * Wall-clock time since boot, counted in timer interrupts of the boot CPU
 * (the LAPIC timer is calibrated against the PIT to TIMER_HZ, see
 * kern/lapic.c). Only the boot CPU ticks, under the kernel lock.
 */
#include <kern/time.h>
#include <kern/cpu.h>

static volatile uint64_t ticks;

void time_tick(void)
{
	if (thiscpu == bootcpu)
		ticks++;
}

uint64_t time_msec(void)
{
	return ticks * (1000 / TIMER_HZ);
}
