/*
 * PIT 8254 test (word "devtest-pit"), through the VMM's port-I/O exits
 * and IRQ 0 injected through the PIC.
 *
 * Channel 2 as a BIOS calibrates the TSC with it: gate low (port 0x61
 * bit 0), mode 0 with a count of CAL_MS ms, a latched count that does
 * not move while the gate is low and OUT2 (port 0x61 bit 5) low; after
 * the gate rises the count runs down and OUT2 rises at its end. The TSC
 * ticks between a latched count near the start and one near the end
 * give the TSC's rate (the median of CAL_RUNS counts whose two latches
 * were read within 2% of the span: devtest_time.c), which every other
 * timed check uses. Channel 0 in mode 2 at CH0_HZ: the read-back status
 * byte says what was programmed, the count runs down, and IRQ 0 comes
 * at the PIC's vector at the programmed rate (dt_period, within
 * CH0_TOLERANCE percent).
 *
 * Reference: Intel 82C54 datasheet (control word, read-back command,
 * status byte, mode 0, mode 2, gate); IBM PC/AT port 61h.
 *
 * Invariants:
 * - tsc_per_ms measures once: later calls return the first figure.
 * - The test leaves channel 0 stopped (control word, no count) and
 *   IRQ 0 masked; channel 2's gate low.
 */
#include "devtest.h"

#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORTB 0x61
#define PORTB_GATE2 0x01
#define PORTB_SPEAKER 0x02
#define PORTB_OUT2 0x20
#define PIT_HZ 1193182
/* Control words: channel (bits 7:6), lobyte/hibyte (3 << 4), mode. */
#define CW_CH2_MODE0 0xB0
#define CW_CH0_MODE0 0x30
#define CW_CH0_MODE2 0x34
#define CW_CH2_LATCH 0x80
#define CW_CH0_LATCH 0x00
/* Read-back: latch count and status of channel 0 (bit 1). */
#define CW_READBACK_CH0 0xC2
#define STATUS_OUT 0x80
#define STATUS_PROGRAM_MASK 0x3F
#define CAL_MS 50
#define CAL_RUNS 3
#define CAL_TRIES 20
#define CAL_WIDTH_DIV 50   /* windows under 2% of the span */
#define CAL_END_DIV 10     /* the end sample: under a tenth left */
#define CAL_COUNT (PIT_HZ * CAL_MS / 1000)
#define CH0_HZ 20
#define CH0_COUNT ((PIT_HZ + CH0_HZ / 2) / CH0_HZ)
#define CH0_PERIODS 10
#define CH0_TOLERANCE 10
#define MS_PER_SEC 1000

static const char dev[] = "pit";
static u32 measured;
static struct dt_when ch0_when[CH0_PERIODS + 1];

static u16 latch(u8 cw, u16 port)
{
	u16 lo;

	outb(PIT_CMD, cw);
	lo = inb(port);
	return lo | (u16)inb(port) << 8;
}

/* Channel 2's count, latched in a window (the latch command's exit). */
static u16 sample(struct dt_when *w)
{
	u16 lo;

	w->lo = rdtsc();
	outb(PIT_CMD, CW_CH2_LATCH);
	w->hi = rdtsc();
	lo = inb(PIT_CH2);
	return lo | (u16)inb(PIT_CH2) << 8;
}

/* One count of CAL_MS ms on channel 2 with the gate up: the TSC ticks
 * per ms between a latched count near its start and one near its end,
 * or 0 when the two latches' windows leave that over 1/CAL_WIDTH_DIV
 * uncertain. OUT2 must then rise at the terminal count. */
static u32 calibrate(void)
{
	u8 pb = inb(PORTB) & ~(PORTB_GATE2 | PORTB_SPEAKER);
	struct dt_when w0, w1;
	u32 spins = 0, c0, c1;
	u64 ticks;

	outb(PORTB, pb);
	outb(PIT_CMD, CW_CH2_MODE0);
	outb(PIT_CH2, CAL_COUNT & 0xFF);
	outb(PIT_CH2, CAL_COUNT >> 8);
	dt_check(dev, "channel 2 count with the gate low",
		 latch(CW_CH2_LATCH, PIT_CH2), CAL_COUNT);
	dt_check(dev, "OUT2 before the count runs", inb(PORTB) & PORTB_OUT2, 0);
	dt_check(dev, "channel 2 count still, gate low",
		 latch(CW_CH2_LATCH, PIT_CH2), CAL_COUNT);
	outb(PORTB, pb | PORTB_GATE2);
	c0 = sample(&w0);
	do {
		c1 = sample(&w1);
		if (++spins > DT_SPIN_MAX)
			dt_fail(dev, "channel 2 never counted down (polls)",
				spins, 0);
	} while (c1 > CAL_COUNT / CAL_END_DIV && c1 <= c0);
	for (spins = 0; !(inb(PORTB) & PORTB_OUT2); spins++)
		if (spins > DT_SPIN_MAX)
			dt_fail(dev, "OUT2 never rose (polls)", spins, 0);
	outb(PORTB, pb);
	ticks = dt_mid(&w1) - dt_mid(&w0);
	/* c1 > c0: the count ran out and wrapped (mode 0 goes on counting
	 * from 0xFFFF) while the host stopped the guest: try again. */
	if ((w0.hi - w0.lo + w1.hi - w1.lo) * CAL_WIDTH_DIV > 2 * ticks ||
	    c1 >= c0)
		return 0;
	/* ticks over (c0 - c1) / PIT_HZ seconds, per ms. */
	return div64_32(ticks * PIT_HZ, (c0 - c1) * MS_PER_SEC);
}

u32 tsc_per_ms(void)
{
	u32 runs[CAL_RUNS], n = 0, tries;

	if (measured)
		return measured;
	for (tries = 0; n < CAL_RUNS && tries < CAL_TRIES; tries++)
		if ((runs[n] = calibrate()) != 0)
			n++;
	if (n < CAL_RUNS)
		dt_fail(dev, "calibrations with narrow windows", n, CAL_RUNS);
	measured = dt_median(runs, CAL_RUNS);
	return measured;
}

static void ch0_intr(u32 vec)
{
	u32 n = intr_count[vec] - 1;

	if (n <= CH0_PERIODS)
		dt_stamp(&ch0_when[n]);
	pic_eoi(IRQ_PIT);
}

static void channel0(u32 tpm)
{
	u32 vec = DT_PIC_MASTER_VEC + IRQ_PIT, st, c, period;

	intr_set(vec, ch0_intr);
	intr_count[vec] = 0;
	outb(PIT_CMD, CW_CH0_MODE2);
	outb(PIT_CH0, CH0_COUNT & 0xFF);
	outb(PIT_CH0, CH0_COUNT >> 8);
	outb(PIT_CMD, CW_READBACK_CH0);
	st = inb(PIT_CH0);
	c = inb(PIT_CH0);
	c |= inb(PIT_CH0) << 8;
	dt_check(dev, "channel 0 read-back status (program bits)",
		 st & STATUS_PROGRAM_MASK, CW_CH0_MODE2 & STATUS_PROGRAM_MASK);
	if (c == 0 || c > CH0_COUNT)
		dt_fail(dev, "channel 0 read-back count", c, CH0_COUNT);
	c = latch(CW_CH0_LATCH, PIT_CH0);
	if (c == 0 || c > CH0_COUNT)
		dt_fail(dev, "channel 0 latched count", c, CH0_COUNT);
	pic_unmask(IRQ_PIT);
	if (!dt_wait_ms(&intr_count[vec], CH0_PERIODS + 1,
			4 * CH0_PERIODS * MS_PER_SEC / CH0_HZ))
		dt_fail(dev, "IRQ 0 interrupts in time", intr_count[vec],
			CH0_PERIODS + 1);
	pic_mask_all();
	outb(PIT_CMD, CW_CH0_MODE0);
	period = dt_period(dev, ch0_when, CH0_PERIODS,
			   tpm * (MS_PER_SEC / CH0_HZ));
	puts("mbtest: pit: channel 0 at ");
	putu(CH0_HZ);
	puts(" Hz: period ");
	putu(period);
	puts(" TSC ticks (want ");
	putu(tpm * (MS_PER_SEC / CH0_HZ));
	puts(")\n");
	dt_near(dev, "TSC ticks of channel 0's period", period,
		(u64)tpm * (MS_PER_SEC / CH0_HZ), CH0_TOLERANCE);
}

void devtest_pit(void)
{
	u32 tpm;

	pic_setup(DT_PIC_MASTER_VEC, DT_PIC_SLAVE_VEC);
	tpm = tsc_per_ms();
	puts("mbtest: pit: TSC ");
	putu(tpm);
	puts(" ticks/ms (channel 2, median of ");
	putu(CAL_RUNS);
	puts(" x ");
	putu(CAL_MS);
	puts(" ms)\n");
	channel0(tpm);
	dt_ok(dev);
}
