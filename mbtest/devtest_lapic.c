/*
 * Local APIC test (word "devtest-lapic"): the xAPIC page at 0xFEE00000
 * through MMIO exits, and its timer's interrupts.
 *
 * ID 0, an integrated APIC's version, TPR read back; the timer's input
 * clock measured against the TSC (whose rate devtest_pit.c measured
 * against the PIT), which must be the model's 100 MHz bus clock
 * (vmmdev/lapic.c, LAPIC_BUS_HZ; both counts read within 2% of the
 * span); then the timer
 * periodic at PERIODIC_HZ (dt_period over PERIODIC_N periods) and
 * one-shot (the median of ONESHOT_N shots of ONESHOT_MS, each from the
 * write of the initial count to its interrupt with both ends known
 * within a tenth of a shot, out of at most ONESHOT_TRIES; the current
 * count runs down and is 0 after; no second interrupt). Each must
 * match the programmed rate within RATE_TOLERANCE percent (devtest_time.c
 * says how events are timed). The lines "mbtest: lapic: periodic start"
 * and "... one-shot start" open each timed phase and its result line
 * ends it, so that the grade test can time it against the host's clock
 * (the one-shot phase also says how many shots it fired).
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
#define LAPIC_BUS_KHZ 100000   /* the model's bus clock (lapic.c) */
#define BUS_CAL_MS 50
#define WINDOW_DIV 50      /* read windows under 2% of the span */
#define SAMPLE_TRIES 20
#define SPURIOUS 0xFF
#define VEC_PERIODIC 0x50
#define VEC_ONESHOT 0x51
#define PERIODIC_HZ 25
#define PERIODIC_N 16
#define ONESHOT_MS 100
#define ONESHOT_N 3        /* shots timed with both ends known */
#define ONESHOT_TRIES 12
#define SHOT_WINDOWS_DIV 10  /* both ends' windows: a tenth of a shot */
#define MS_PER_SEC 1000
#define RATE_TOLERANCE 10

static const char dev[] = "lapic";
static struct dt_when periodic_when[PERIODIC_N + 1];
static struct dt_when shot_end;

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
		dt_stamp(&periodic_when[n]);
	lapic_eoi();
}

static void oneshot_intr(u32 vec)
{
	dt_stamp(&shot_end);
	lapic_eoi();
}

static void timer_stop(void)
{
	lapic_write(REG_TIMER_INIT, 0);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
}

/* The current count in a window of at most width TSC ticks (the read's
 * exit), or fail after SAMPLE_TRIES wider ones. */
static u32 timer_sample(struct dt_when *w, u32 width)
{
	u32 c, tries;

	for (tries = 0; tries < SAMPLE_TRIES; tries++) {
		w->lo = rdtsc();
		c = lapic_read(REG_TIMER_CUR);
		w->hi = rdtsc();
		if (dt_tight(w, width))
			return c;
	}
	dt_fail(dev, "current-count reads within a window (tries)", tries,
		SAMPLE_TRIES);
}

/* The timer's input in kHz: its count over BUS_CAL_MS of TSC time,
 * each end read within 2% of the span. */
static u32 bus_khz(u32 tpm)
{
	struct dt_when w0, w1;
	u32 c0, c1, width = tpm * BUS_CAL_MS / WINDOW_DIV;

	lapic_write(REG_TIMER_DCR, DCR_BY_1);
	lapic_write(REG_LVT_TIMER, LVT_MASKED);
	lapic_write(REG_TIMER_INIT, 0xFFFFFFFF);
	c0 = timer_sample(&w0, width);
	while (rdtsc() - w0.hi < (u64)tpm * BUS_CAL_MS)
		;
	c1 = timer_sample(&w1, width);
	timer_stop();
	/* c0 - c1 ticks in the TSC ticks between the windows' middles. */
	return div64_32((u64)(c0 - c1) * tpm,
			(u32)(dt_mid(&w1) - dt_mid(&w0)));
}

static void report(const char *what, u32 ticks, u32 want)
{
	puts("mbtest: lapic: ");
	puts(what);
	puts(": ");
	putu(ticks);
	puts(" TSC ticks (want ");
	putu(want);
	puts(")\n");
}

static void periodic(u32 tpm)
{
	u32 vec = VEC_PERIODIC, ticks, want = tpm * (MS_PER_SEC / PERIODIC_HZ);

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
	ticks = dt_period(dev, periodic_when, PERIODIC_N, want);
	report("periodic: period at 25 Hz", ticks, want);
	dt_near(dev, "TSC ticks of the periodic timer's period", ticks, want,
		RATE_TOLERANCE);
}

/* One shot: TSC ticks from the initial count's write to the interrupt,
 * or 0 when the two ends' windows together are wider than a tenth of a
 * shot (the estimate from their middles is then within 5%). */
static u32 shot(u32 vec, u32 n, u32 tpm)
{
	u32 count = LAPIC_BUS_KHZ / DIVIDE * ONESHOT_MS, cur;
	struct dt_when start;

	start.lo = rdtsc();
	lapic_write(REG_TIMER_INIT, count);
	start.hi = rdtsc();
	cur = lapic_read(REG_TIMER_CUR);
	if (cur == 0 || cur > count)
		dt_fail(dev, "current count of a running one-shot", cur, count);
	if (!dt_wait_ms(&intr_count[vec], n, 4 * ONESHOT_MS))
		dt_fail(dev, "one-shot interrupt in time", intr_count[vec], n);
	dt_check(dev, "current count after the one-shot",
		 lapic_read(REG_TIMER_CUR), 0);
	if (!dt_tight(&start, tpm * ONESHOT_MS) ||
	    !dt_tight(&shot_end, tpm * ONESHOT_MS) ||
	    (start.hi - start.lo) + (shot_end.hi - shot_end.lo) >
	    tpm * ONESHOT_MS / SHOT_WINDOWS_DIV)
		return 0;
	return (u32)(dt_mid(&shot_end) - dt_mid(&start));
}

static void oneshot(u32 tpm)
{
	u32 vec = VEC_ONESHOT, i, n = 0, shots[ONESHOT_N], ticks;
	u32 want = tpm * ONESHOT_MS;

	intr_set(vec, oneshot_intr);
	intr_count[vec] = 0;
	puts("mbtest: lapic: one-shot start\n");
	lapic_write(REG_TIMER_DCR, DCR_BY_16);
	lapic_write(REG_LVT_TIMER, vec);
	for (i = 0; i < ONESHOT_TRIES && n < ONESHOT_N; i++)
		if ((shots[n] = shot(vec, i + 1, tpm)) != 0)
			n++;
	if (n < ONESHOT_N)
		dt_fail(dev, "one-shots timed within windows", n, ONESHOT_N);
	ticks = dt_median(shots, n);
	dt_wait_ms(&intr_count[vec], i + 1, 2 * ONESHOT_MS);
	report("one-shot: shot of 100 ms", ticks, want);
	puts("mbtest: lapic: one-shot: ");
	putu(i);
	puts(" shots\n");
	dt_check(dev, "one-shot interrupts (no repeat)", intr_count[vec], i);
	timer_stop();
	dt_near(dev, "TSC ticks of a one-shot", ticks, want, RATE_TOLERANCE);
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
