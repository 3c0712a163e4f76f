/*
 * The local APIC (SDM Vol. 3A chapter 10), in xAPIC mode through its
 * memory-mapped registers: CPU identification, the per-CPU periodic timer
 * that drives preemption, inter-processor interrupts to start the APs,
 * and end-of-interrupt.
 *
 * The timer is calibrated once, on the boot CPU, against PIT channel 2,
 * so every CPU ticks at TIMER_HZ in emulated time: CALIBRATE_RUNS
 * measurements, the median kept, because an emulator on a loaded host
 * can be descheduled inside one (QEMU's PIT follows the host's clock)
 * and a single run was seen 2.7x off.
 *
 * A guest kernel (VMM_GUEST) has no LAPIC: the VMM stops a guest that
 * touches its MMIO page or the PIT's ports. lapic_init does nothing there,
 * so the LAPIC stays unmapped, lapic_id() says 0 and lapic_eoi() is a
 * no-op.
 */
#include <inc/x86.h>
#include <inc/trap.h>
#include <inc/memlayout.h>

#include <kern/lapic.h>
#include <kern/pmap.h>
#include <kern/cpu.h>
#include <kern/time.h>

/* Register offsets, in bytes (SDM Vol. 3A Table 10-1). */
#define LAPIC_ID 0x020
#define LAPIC_VER 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_ESR 0x280
#define LAPIC_ICRLO 0x300
#define LAPIC_ICRHI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_PCINT 0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TICR 0x380
#define LAPIC_TCCR 0x390
#define LAPIC_TDCR 0x3E0

#define SVR_ENABLE 0x00000100
#define LVT_MASKED 0x00010000
#define LVT_PERIODIC 0x00020000
#define LVT_EXTINT 0x00000700
#define TDCR_X1 0x0000000B /* divide the bus clock by 1 */
#define ICR_FIXED 0x00000000
#define ICR_INIT 0x00000500
#define ICR_STARTUP 0x00000600
#define ICR_DELIVS 0x00001000 /* delivery pending */
#define ICR_ASSERT 0x00004000
#define ICR_LEVEL 0x00008000

/* PIT channel 2 and its gate (system control port B). */
#define PIT_FREQ 1193182
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_CH2_ONESHOT 0xB0 /* channel 2, lo/hi byte, mode 0 */
#define PORTB 0x61
#define PORTB_GATE2 0x01
#define PORTB_SPEAKER 0x02
#define PORTB_OUT2 0x20
#define CALIBRATE_MS 10
#define CALIBRATE_RUNS 3
/* Used when the PIT does not answer (should not happen in emulators). */
#define LAPIC_TICR_FALLBACK 10000000
#define CALIBRATE_SPIN_MAX 100000000

physaddr_t lapicaddr;          /* from the MP tables; 0 if no LAPIC */
uint64_t tsc_per_ms;           /* measured by lapic_calibrate; 0: unknown */
static volatile uint32_t *lapic;

static void lapicw(int reg, uint32_t value)
{
	lapic[reg / 4] = value;
	(void)lapic[LAPIC_ID / 4]; /* wait for the write to finish */
}

static uint32_t lapicr(int reg)
{
	return lapic[reg / 4];
}

int lapic_id(void)
{
	return lapic ? (int)(lapicr(LAPIC_ID) >> 24) : 0;
}

#ifdef VMM_GUEST
/* A guest has no LAPIC (and no timer) to set up. */
void lapic_init(void)
{
}
#else
static uint32_t ticks_per_period;

/* LAPIC timer ticks (divide by 1) in CALIBRATE_MS ms of PIT time, and
 * the TSC ticks of the same interval into *tsc; 0 if the PIT never
 * answered. */
static uint32_t lapic_calibrate_once(uint64_t *tsc)
{
	uint32_t pit_count = PIT_FREQ * CALIBRATE_MS / 1000;
	uint32_t spins = 0;
	uint8_t b = inb(PORTB);
	uint64_t tsc0;

	/* Gate low, speaker off; program the one-shot count. */
	outb(PORTB, b & ~(PORTB_GATE2 | PORTB_SPEAKER));
	outb(PIT_CMD, PIT_CH2_ONESHOT);
	outb(PIT_CH2, pit_count & 0xFF);
	outb(PIT_CH2, pit_count >> 8);

	lapicw(LAPIC_TDCR, TDCR_X1);
	lapicw(LAPIC_LVT_TIMER, LVT_MASKED);
	lapicw(LAPIC_TICR, 0xFFFFFFFF);
	/* A rising gate starts the count; OUT2 goes high at zero. */
	outb(PORTB, (b & ~PORTB_SPEAKER) | PORTB_GATE2);
	tsc0 = read_tsc();
	while (!(inb(PORTB) & PORTB_OUT2))
		if (++spins > CALIBRATE_SPIN_MAX)
			return 0;
	*tsc = read_tsc() - tsc0;
	return 0xFFFFFFFF - lapicr(LAPIC_TCCR);
}

/* The median of CALIBRATE_RUNS runs (each figure's own median); the
 * TSC's rate into tsc_per_ms. */
static uint32_t lapic_calibrate(void)
{
	uint32_t t[CALIBRATE_RUNS], tmp32;
	uint64_t tsc[CALIBRATE_RUNS], tmp64;
	int i, j;

	for (i = 0; i < CALIBRATE_RUNS; i++)
		if (!(t[i] = lapic_calibrate_once(&tsc[i])))
			return 0;
	for (i = 1; i < CALIBRATE_RUNS; i++)
		for (j = i; j > 0 && t[j] < t[j - 1]; j--) {
			tmp32 = t[j], t[j] = t[j - 1], t[j - 1] = tmp32;
		}
	for (i = 1; i < CALIBRATE_RUNS; i++)
		for (j = i; j > 0 && tsc[j] < tsc[j - 1]; j--) {
			tmp64 = tsc[j], tsc[j] = tsc[j - 1], tsc[j - 1] = tmp64;
		}
	tsc_per_ms = tsc[CALIBRATE_RUNS / 2] / CALIBRATE_MS;
	return t[CALIBRATE_RUNS / 2];
}

/* Set up this CPU's LAPIC: enabled, timer at TIMER_HZ, LINT0 for the PIC. */
void lapic_init(void)
{
	if (!lapicaddr)
		return;
	if (!lapic)
		lapic = mmio_map_region(lapicaddr, PGSIZE);

	lapicw(LAPIC_SVR, SVR_ENABLE | (IRQ_OFFSET + IRQ_SPURIOUS));

	if (!ticks_per_period) {
		uint32_t t = lapic_calibrate();
		ticks_per_period = t ? t * (1000 / CALIBRATE_MS) / TIMER_HZ
				     : LAPIC_TICR_FALLBACK;
	}
	lapicw(LAPIC_TDCR, TDCR_X1);
	lapicw(LAPIC_LVT_TIMER, LVT_PERIODIC | (IRQ_OFFSET + IRQ_TIMER));
	lapicw(LAPIC_TICR, ticks_per_period);

	/* The PIC's interrupts reach the boot CPU only. */
	lapicw(LAPIC_LVT_LINT0, thiscpu == bootcpu ? LVT_EXTINT : LVT_MASKED);
	lapicw(LAPIC_LVT_LINT1, LVT_MASKED);
	if (((lapicr(LAPIC_VER) >> 16) & 0xFF) >= 4)
		lapicw(LAPIC_LVT_PCINT, LVT_MASKED);
	lapicw(LAPIC_LVT_ERROR, IRQ_OFFSET + IRQ_ERROR);

	/* Clear errors (two writes: SDM 10.5.3), ack anything pending. */
	lapicw(LAPIC_ESR, 0);
	lapicw(LAPIC_ESR, 0);
	lapicw(LAPIC_EOI, 0);
	lapicw(LAPIC_TPR, 0);
}
#endif /* !VMM_GUEST */

void lapic_eoi(void)
{
	if (lapic)
		lapicw(LAPIC_EOI, 0);
}

static void lapic_send_ipi(uint8_t apicid, uint32_t icrlo)
{
	lapicw(LAPIC_ICRHI, (uint32_t)apicid << 24);
	lapicw(LAPIC_ICRLO, icrlo);
	while (lapicr(LAPIC_ICRLO) & ICR_DELIVS)
		pause();
}

/*
 * Start the AP with this APIC id at physical address addr (page-aligned,
 * below 1 MiB): INIT, then two STARTUP IPIs (SDM Vol. 3A 8.4.4.1).
 * Emulators need no delays between them.
 */
void lapic_startap(uint8_t apicid, uint32_t addr)
{
	lapic_send_ipi(apicid, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
	lapic_send_ipi(apicid, ICR_INIT | ICR_LEVEL);
	lapic_send_ipi(apicid, ICR_STARTUP | (addr >> 12));
	lapic_send_ipi(apicid, ICR_STARTUP | (addr >> 12));
}

/*
 * A fixed, edge-triggered interrupt of `vector` to the CPU with this
 * APIC id (the VMM's kick: a guest running there exits). Nothing in a
 * guest kernel, which has no LAPIC.
 */
void lapic_ipi(uint8_t apicid, uint8_t vector)
{
	if (lapic)
		lapic_send_ipi(apicid, ICR_FIXED | ICR_ASSERT | vector);
}
