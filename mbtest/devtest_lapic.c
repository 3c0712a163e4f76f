/*
 * Local APIC test (word "devtest-lapic"): the xAPIC page at 0xFEE00000
 * through MMIO exits, and its timer's interrupts.
 *
 * ID 0, an integrated APIC's version, TPR read back; the timer's input
 * clock measured against the TSC (whose rate devtest_pit.c measured
 * against the PIT), which must be the model's 1 GHz bus clock, as
 * QEMU's; then the timer periodic at PERIODIC_HZ (PERIODIC_N periods
 * timed by the TSC from the first interrupt to the last) and one-shot
 * (ONESHOT_N shots of ONESHOT_MS, each timed from the write of the
 * initial count to its interrupt; the current count runs down and stays
 * 0 after; no second interrupt). The rates must match the programmed
 * ones within RATE_TOLERANCE percent. The lines "mbtest: lapic:
 * periodic start" and "... one-shot start" bracket each timed phase
 * with the line that ends it, so the grade test can time it against the
 * host's clock.
 *
 * Reference: Intel SDM vol. 3A 11.4.6 (ID), 11.4.8 (version), 11.4.3
 * and 11.9 (SVR), 11.5.1 (LVT timer: vector, mask, mode), 11.5.4
 * (divide configuration, initial and current count, one-shot and
 * periodic), 11.8.3.1 (TPR), 11.8.5 (EOI).
 *
 * Invariants:
 * - The test leaves the timer stopped (initial count 0, LVT masked) and
 *   the LAPIC software-disabled, so that the PIC reaches the CPU again.
 */
#include "devtest.h"

#define LAPIC 0xFEE00000
enum {
	REG_ID = 0x020, REG_VERSION = 0x030, REG_TPR = 0x080, REG_EOI = 0x0B0,
	REG_SVR = 0x0F0, REG_LVT_TIMER = 0x320, REG_TIMER_INIT = 0x380,
	REG_TIMER_CUR = 0x390, REG_TIMER_DCR = 0x3E0,
};
#define SVR_ENABLE 0x100
#define LVT_MASKED (1U << 16)
#define LVT_PERIODIC (1U << 17)
#define DCR_BY_1 0xB
#define DCR_BY_16 0x3
#define DIVIDE 16
#define ID_SHIFT 24
#define VERSION_MIN 0x10  /* integrated APICs: 0x1X */
#define VERSION_MAX 0x15
#define MAXLVT_SHIFT 16
#define MAXLVT_MIN 4      /* timer, thermal, perf, LINT0/1, error: >= 5 */
#define TPR_PROBE 0x20
#define LAPIC_BUS_KHZ 1000000  /* the model's bus clock, as QEMU's */
#define BUS_CAL_MS 10
#define SPURIOUS 0xFF
#define VEC_PERIODIC 0x50
#define VEC_ONESHOT 0x51
#define PERIODIC_HZ 50
#define PERIODIC_N 25
#define ONESHOT_MS 100
#define ONESHOT_N 5
#define MS_PER_SEC 1000
#define RATE_TOLERANCE 15

static const char dev[] = "lapic";
static u64 periodic_tsc[PERIODIC_N + 1];
static volatile u64 shot_tsc;

u32 lapic_read(u32 reg)
{
	return mmio_read32(LAPIC + reg);
}

void lapic_write(u32 reg, u32 v)
{
	mmio_write32(LAPIC + reg, v);
}

void lapic_enable(u8 spurious)
{
	lapic_write(REG_SVR, SVR_ENABLE | spurious);
}

void lapic_disable(void)
{
	lapic_write(REG_SVR, lapic_read(REG_SVR) & ~SVR_ENABLE);
}

void lapic_eoi(void)
{
	lapic_write(REG_EOI, 0);
}

static void periodic_intr(u32 vec)
{
	u32 n = intr_count[vec] - 1;

	if (n <= PERIODIC_N)
		periodic_tsc[n] = rdtsc();
	lapic_eoi();
}

static void oneshot_intr(u32 vec)
{
	shot_tsc = rdtsc();
	lapic_eoi();
}

static void timer_stop(void)
{
	lapic_write(REG_TIMER_INIT, 0);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
}

/* The timer's input in kHz: its count over BUS_CAL_MS of TSC time. */
static u32 bus_khz(u32 tpm)
{
	u64 t0;
	u32 left;

	lapic_write(REG_TIMER_DCR, DCR_BY_1);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	lapic_write(REG_TIMER_INIT, 0xFFFFFFFF);
	t0 = rdtsc();
	while (rdtsc() - t0 < (u64)tpm * BUS_CAL_MS)
		;
	left = lapic_read(REG_TIMER_CUR);
	timer_stop();
	return (0xFFFFFFFF - left) / BUS_CAL_MS;
}

static void report(const char *what, u32 n, u64 ticks, u64 want)
{
	puts("mbtest: lapic: ");
	puts(what);
	puts(": ");
	putu(n);
	puts(" in ");
	putu((u32)ticks);
	puts(" TSC ticks (want ");
	putu((u32)want);
	puts(")\n");
}

static void periodic(u32 tpm)
{
	u32 vec = VEC_PERIODIC;
	u64 ticks, want = (u64)tpm * (PERIODIC_N * MS_PER_SEC / PERIODIC_HZ);

	intr_set(vec, periodic_intr);
	intr_count[vec] = 0;
	puts("mbtest: lapic: periodic start\n");
	lapic_write(REG_TIMER_DCR, DCR_BY_16);
	lapic_write(REG_LVT_TIMER, LVT_PERIODIC | vec);
	lapic_write(REG_TIMER_INIT,
		    LAPIC_BUS_KHZ / DIVIDE * (MS_PER_SEC / PERIODIC_HZ));
	if (!dt_wait_ms(&intr_count[vec], PERIODIC_N + 1,
			4 * PERIODIC_N * MS_PER_SEC / PERIODIC_HZ))
		dt_fail(dev, "periodic timer interrupts in time",
			intr_count[vec], PERIODIC_N + 1);
	timer_stop();
	ticks = periodic_tsc[PERIODIC_N] - periodic_tsc[0];
	report("periodic: periods at 50 Hz", PERIODIC_N, ticks, want);
	dt_near(dev, "TSC ticks of the periodic timer's periods", ticks, want,
		RATE_TOLERANCE);
}

static void oneshot(u32 tpm)
{
	u32 vec = VEC_ONESHOT, count = LAPIC_BUS_KHZ / DIVIDE * ONESHOT_MS;
	u32 i, cur;
	u64 t0, ticks = 0, want = (u64)tpm * ONESHOT_MS * ONESHOT_N;

	intr_set(vec, oneshot_intr);
	intr_count[vec] = 0;
	puts("mbtest: lapic: one-shot start\n");
	lapic_write(REG_TIMER_DCR, DCR_BY_16);
	lapic_write(REG_LVT_TIMER, vec);
	for (i = 0; i < ONESHOT_N; i++) {
		t0 = rdtsc();
		lapic_write(REG_TIMER_INIT, count);
		cur = lapic_read(REG_TIMER_CUR);
		if (cur == 0 || cur > count)
			dt_fail(dev, "current count of a running one-shot",
				cur, count);
		if (!dt_wait_ms(&intr_count[vec], i + 1, 4 * ONESHOT_MS))
			dt_fail(dev, "one-shot interrupt in time",
				intr_count[vec], i + 1);
		ticks += shot_tsc - t0;
		dt_check(dev, "current count after the one-shot",
			 lapic_read(REG_TIMER_CUR), 0);
	}
	report("one-shot: shots of 100 ms", ONESHOT_N, ticks, want);
	dt_wait_ms(&intr_count[vec], ONESHOT_N + 1, 2 * ONESHOT_MS);
	dt_check(dev, "one-shot interrupts (no repeat)", intr_count[vec],
		 ONESHOT_N);
	timer_stop();
	dt_near(dev, "TSC ticks of the one-shots", ticks, want,
		RATE_TOLERANCE);
}

void devtest_lapic(void)
{
	u32 v, tpm = tsc_per_ms(), khz;

	lapic_enable(SPURIOUS);
	dt_check(dev, "APIC ID", lapic_read(REG_ID) >> ID_SHIFT, 0);
	v = lapic_read(REG_VERSION);
	if ((v & 0xFF) < VERSION_MIN || (v & 0xFF) > VERSION_MAX)
		dt_fail(dev, "version (integrated APIC)", v & 0xFF,
			VERSION_MAX);
	if (((v >> MAXLVT_SHIFT) & 0xFF) < MAXLVT_MIN)
		dt_fail(dev, "max LVT entry", (v >> MAXLVT_SHIFT) & 0xFF,
			MAXLVT_MIN);
	lapic_write(REG_TPR, TPR_PROBE);
	dt_check(dev, "TPR read back", lapic_read(REG_TPR), TPR_PROBE);
	lapic_write(REG_TPR, 0);
	khz = bus_khz(tpm);
	puts("mbtest: lapic: timer clock ");
	putu(khz);
	puts(" kHz\n");
	dt_near(dev, "timer clock (kHz) against the TSC", khz, LAPIC_BUS_KHZ,
		RATE_TOLERANCE);
	periodic(tpm);
	oneshot(tpm);
	lapic_disable();
	dt_ok(dev);
}
