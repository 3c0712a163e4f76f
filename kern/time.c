/*
 * Wall-clock time since boot, counted in timer interrupts of the boot CPU
 * (the LAPIC timer is calibrated against the PIT to TIMER_HZ, see
 * kern/lapic.c). Only the boot CPU ticks, under the kernel lock.
 */
#include <kern/time.h>
#include <kern/cpu.h>
#include <vmm/gdbstub.h>

static volatile uint64_t ticks;

void time_tick(void)
{
	if (thiscpu != bootcpu)
		return;
	ticks++;
	/* gdb's packets for the VMM's stub (nothing in a guest kernel). */
	gdbstub_poll();
}

uint64_t time_msec(void)
{
	return ticks * (1000 / TIMER_HZ);
}
