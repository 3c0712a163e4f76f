/*
 * Wall-clock time since boot, counted in timer interrupts of the boot CPU
 * (the LAPIC timer is calibrated against the PIT to TIMER_HZ, see
 * kern/lapic.c). Only the boot CPU ticks, under the kernel lock.
 */
#include <kern/time.h>
#include <kern/cpu.h>
#include <vmm/gdbstub.h>
#include <vmm/devexit.h>
#include <kern/console.h>

static volatile uint64_t ticks;

void time_tick(void)
{
	if (thiscpu != bootcpu)
		return;
	ticks++;
	/* gdb's packets for the VMM's stub (nothing in a guest kernel). */
	gdbstub_poll();
	/* Halted PC guests whose VMM's deadline passed (devexit hook). */
	devexit_tick();
	/* COM1 too, so that typed input never depends on the serial IRQ
	 * alone: under Bochs' VT-x, with a guest in the background, the
	 * host's UART overran its 16-byte FIFO (bochs.log) while typed
	 * input stalled (issue 11; a tick is 10 ms, so this is a safety
	 * net for typing, not for a paste). */
	serial_intr();
}

uint64_t time_msec(void)
{
	return ticks * (1000 / TIMER_HZ);
}
