/*
 * The word "smpbench" (vmm -c 2): the round trip of a fixed IPI between
 * two vCPUs. CPU 0 sends PING_VECTOR to CPU 1, whose handler (smpap.c,
 * AP_PONG) sends PONG_VECTOR back; CPU 0 waits, interrupts on, for its
 * count of PONG_VECTOR to move. BENCH_ROUNDS rounds timed with rdtsc.
 * An IPI to another vCPU reaches it at that vCPU's next hand-off to its
 * VMM process, so this measures mostly how soon that comes.
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

void smp_bench(void)
{
	u64 t0, t1;
	u32 i;

	smp_ap_mode = AP_PONG;
	smp_boot(AP, 0);
	if (!smp_wait(&smp_started[AP], 1, WAIT_MS))
		bench_fail("CPU 1 did not start", 0);
	(void)tsc_per_ms();	/* calibrated before the clock starts */
	sti();
	t0 = rdtsc();
	for (i = 0; i < BENCH_ROUNDS; i++) {
		ipi(AP, ICR_FIXED | PING_VECTOR);
		if (!smp_wait(&smp_seen[0][PONG_VECTOR], i + 1, WAIT_MS))
			bench_fail("no answer to ping", i);
	}
	t1 = rdtsc();
	cli();
	puts("smpbench: ipi round trip: ");
	/* Under 2^32 ticks per round (no 64-bit division in 32-bit code). */
	putu(div64_32(t1 - t0, BENCH_ROUNDS));
	puts(" TSC ticks (average of ");
	putu(BENCH_ROUNDS);
	puts(")\n");
}
