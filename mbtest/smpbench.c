/*
 * The word "smpbench" (vmm -c 2): the round trip of a fixed IPI between
 * two vCPUs. CPU 0 sends PING_VECTOR to CPU 1, whose handler (smpap.c,
 * AP_PONG) sends PONG_VECTOR back; CPU 0 waits, interrupts on, for its
 * count of PONG_VECTOR to move. BENCH_ROUNDS rounds timed with rdtsc.
 * An IPI to another vCPU reaches it at that vCPU's next hand-off to its
 * VMM process (no kick yet), so both sides poll with an exit each round
 * (a TPR write: CPU 1's loop in smpap.c, CPU 0's in pong_wait), and the
 * figure is mostly how soon each vCPU is next run and exits; with one
 * host CPU, how soon the host switches between their two VMM processes.
 *
 * Invariants:
 * - One ping in flight at a time: a round ends when its pong is counted.
 */
#include "smpap.h"
#include "intr.h"
#include "devtest.h"

#define AP 1
#define BENCH_ROUNDS 50
#define WAIT_MS 20000
#define US_PER_MS 1000

static void bench_fail(const char *why, u32 v)
{
	cli();
	puts("smpbench: FAILED: ");
	puts(why);
	puts(" (");
	putu(v);
	puts(")\n");
	finish(FAIL_VALUE);
}

/* Until CPU 0 has counted want pongs, each round an exit; whether it has. */
static int pong_wait(u32 want)
{
	u64 t0 = rdtsc(), limit = (u64)tsc_per_ms() * WAIT_MS;

	while (smp_seen[0][PONG_VECTOR] < want && rdtsc() - t0 < limit)
		lapic_w(L_TPR, 0);
	return smp_seen[0][PONG_VECTOR] >= want;
}

void smp_bench(void)
{
	u64 t0, t1;
	u32 i;

	smp_ap_mode = AP_PONG;
	smp_boot(AP, 0);
	if (!smp_wait(&smp_started[AP], 1, WAIT_MS))
		bench_fail("CPU 1 did not start", 0);
	sti();
	t0 = rdtsc();
	for (i = 0; i < BENCH_ROUNDS; i++) {
		ipi(AP, ICR_FIXED | PING_VECTOR);
		if (!pong_wait(i + 1))
			bench_fail("no answer to ping", i);
	}
	t1 = rdtsc();
	cli();
	puts("smpbench: ipi round trip: ");
	/* Under 2^32 ticks per round (no 64-bit division in 32-bit code). */
	putu(div64_32(t1 - t0, BENCH_ROUNDS));
	puts(" TSC ticks, ");
	/* Under 2^32 us in all: n >> 32 < tsc_per_ms for any real run. */
	putu(div64_32((t1 - t0) * US_PER_MS, tsc_per_ms()) / BENCH_ROUNDS);
	puts(" us (average of ");
	putu(BENCH_ROUNDS);
	puts(")\n");
}
