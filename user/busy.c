/*
 * Keep a CPU busy without entering the kernel: `busy [M]` spins until the
 * TSC has advanced by M million ticks (default 400; under Bochs the TSC
 * counts instructions), then says so. Run in a guest beside a host
 * command, it shows that a spinning guest does not freeze the host.
 *
 * It also loops at least M million / LOOPS_PER_TICK_DIV times. Under
 * Bochs a loop takes more TSC ticks than that, so this never binds
 * there; under QEMU's TCG the TSC is the host's wall clock, and the floor
 * makes the spin take CPU time too, which a loaded machine stretches as
 * it stretches the host's commands. (A guest named on `vmm`'s command
 * line gets no arguments, so jos-on-jos-beside's guest spins the default:
 * 0.15 s of wall clock alone, once the guest booted in a fraction of its
 * old time, issue 14, often ran out before a host command finished.)
 */
#include <inc/lib.h>
#include <inc/x86.h>

#define DEFAULT_MTICKS 400
#define MILLION 1000000UL
/* A loop iteration (rdtsc, compare, count) is a few instructions. */
#define LOOPS_PER_TICK_DIV 8

void umain(int argc, char **argv)
{
	uint64_t ticks = DEFAULT_MTICKS, start, loops = 0, min_loops;

	if (argc > 1)
		ticks = strtol(argv[1], NULL, 10);
	ticks *= MILLION;
	cprintf("busy: spinning for %lu TSC ticks\n", ticks);
	min_loops = ticks / LOOPS_PER_TICK_DIV;
	start = read_tsc();
	while (read_tsc() - start < ticks || loops < min_loops)
		loops++;
	cprintf("busy: done\n");
}
