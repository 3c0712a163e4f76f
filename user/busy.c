/*
 * Keep a CPU busy without entering the kernel: `busy [M]` spins until the
 * TSC has advanced by M million ticks (default 400; under Bochs the TSC
 * counts instructions), then says so. Run in a guest beside a host
 * command, it shows that a spinning guest does not freeze the host.
 */
#include <inc/lib.h>
#include <inc/x86.h>

#define DEFAULT_MTICKS 400
#define MILLION 1000000UL

void umain(int argc, char **argv)
{
	uint64_t ticks = DEFAULT_MTICKS, start;

	if (argc > 1)
		ticks = strtol(argv[1], NULL, 10);
	ticks *= MILLION;
	cprintf("busy: spinning for %lu TSC ticks\n", ticks);
	start = read_tsc();
	while (read_tsc() - start < ticks)
		;
	cprintf("busy: done\n");
}
