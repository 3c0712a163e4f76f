/*
 * Interrupt routing test (word "devtest-irq"): a device's IRQ through
 * the 8259A pair, then through the IOAPIC with the PIC masked, as xv6
 * runs. The sources are devices the test can raise at will: COM1's
 * THR-empty interrupt (IRQ 4: IER.THRE going on raises it, reading IIR
 * lowers it), the RTC's periodic interrupt (IRQ 8, on the slave) and
 * PIT channel 0 in mode 0 (IRQ 0, which the IOAPIC has on pin 2).
 *
 * PIC: ICW1-ICW4 with vector bases of its own (PIC_VEC, PIC_VEC + 8),
 * the mask reads back; a masked request waits in IRR (OCW3) and is
 * delivered at the programmed vector when unmasked, in ISR during its
 * handler; an unacknowledged line blocks its next request until the EOI;
 * the slave's IRQ 8 arrives through the cascade at its rate
 * (dt_period). IOAPIC: ID
 * and version, every entry masked at reset, an edge entry delivers at
 * its vector, an edge while masked is lost (82093AA), a level entry
 * sends again after the EOI while the line stays high, and ISA IRQ 0
 * arrives on pin 2 (the MP table's and MADT's override).
 *
 * Reference: Intel 8259A datasheet (ICW1-4, OCW1-3, EOI, reading IRR
 * and ISR); Intel 82093AA datasheet 3.2 (IOAPICID, IOAPICVER,
 * IOREDTBL); MP 1.4 5.3 and ACPI MADT override (IRQ 0 on pin 2).
 *
 * Invariants:
 * - The test leaves both PICs masked (but the cascade) at the test
 *   vectors of devtest.h, every IOAPIC entry it used masked, the LAPIC
 *   software-disabled, COM1's IER 0, the RTC's PIE off, channel 0
 *   stopped.
 */
#include "devtest.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define OCW3_READ_IRR 0x0A
#define OCW3_READ_ISR 0x0B
#define OCW2_EOI 0x20
#define PIC_VEC 0x30
#define MASK_PROBE 0xA9
#define MASK_ALL 0xFF
#define IRQ4_BIT (1 << IRQ_COM1)
#define UART_IER (COM1 + 1)
#define UART_IIR (COM1 + 2)
#define IER_THRE 0x02
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_A 0x0A
#define RTC_B 0x0B
#define RTC_C 0x0C
#define RTC_A_16HZ 0x2C   /* 32.768 kHz base, rate 12: 16 Hz */
#define RTC_HZ 16
#define RTC_HZ_SHIFT 4  /* 16 == 1 << 4 */
#define RTC_B_PIE 0x40
#define RTC_PERIODS 10
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define CW_CH0_MODE0 0x30
#define PIT_ONE_MS 1193
#define IOAPIC 0xFEC00000
#define IOWIN (IOAPIC + 0x10)
#define IOAPICID 0x00
#define IOAPICVER 0x01
#define IOREDTBL 0x10
#define IOAPIC_PINS 24
#define PIN_IRQ0 2
#define IOAPIC_ID 1       /* after the one CPU's APIC ID 0 (fwtables) */
#define ID_SHIFT 24
#define VER_MIN 0x11
#define VER_MAX 0x20
#define VER_MAXREDIR_SHIFT 16
#define RTE_MASKED (1U << 16)
#define RTE_LEVEL (1U << 15)
#define IO_VEC 0x44
#define IO_VEC_IRQ0 0x42
#define SPURIOUS 0xFF
#define QUIET_MS 10
#define INTR_WAIT_MS 100
#define RATE_TOLERANCE 10
#define MS_PER_SEC 1000

static const char dev[] = "irq";
static volatile u32 isr_seen, handled, level_served;
static int no_eoi;
static struct dt_when rtc_when[RTC_PERIODS + 1];

static u8 pic_read(u8 ocw3)
{
	outb(PIC1_CMD, ocw3);
	return inb(PIC1_CMD);
}

/* IRQ 4 by the PIC: ISR as the handler sees it; the line lowered. */
static void pic_irq4(u32 vec)
{
	isr_seen = pic_read(OCW3_READ_ISR);
	(void)inb(UART_IIR);
	handled++;
	if (!no_eoi)
		outb(PIC1_CMD, OCW2_EOI);
}

static void rtc_intr(u32 vec)
{
	u32 n = intr_count[vec] - 1;

	if (n <= RTC_PERIODS)
		dt_stamp(&rtc_when[n]);
	outb(CMOS_INDEX, RTC_C);  /* reading C acknowledges IRQ 8 */
	(void)inb(CMOS_DATA);
	pic_eoi(IRQ_RTC);
}

/* One rising edge of IRQ 4: THRE interrupt enabled with THR empty. */
static void raise_irq4(void)
{
	outb(UART_IER, 0);
	outb(UART_IER, IER_THRE);
}

static void expect_count(u32 vec, u32 n, u32 ms, const char *what)
{
	dt_wait_ms(&intr_count[vec], n, ms);
	dt_check(dev, what, intr_count[vec], n);
}

static void pic_irq4_routing(void)
{
	u32 vec = PIC_VEC + IRQ_COM1;
	u32 old = intr_count[DT_PIC_MASTER_VEC + IRQ_COM1];

	pic_setup(PIC_VEC, PIC_VEC + 8);
	outb(PIC1_DATA, MASK_PROBE);
	dt_check(dev, "PIC mask read back", inb(PIC1_DATA), MASK_PROBE);
	outb(PIC1_DATA, MASK_ALL);
	intr_set(vec, pic_irq4);
	raise_irq4();
	dt_check(dev, "IRR bit 4 of a masked request",
		 pic_read(OCW3_READ_IRR) & IRQ4_BIT, IRQ4_BIT);
	expect_count(vec, 0, QUIET_MS, "interrupts of a masked line");
	pic_unmask(IRQ_COM1);
	expect_count(vec, 1, INTR_WAIT_MS, "IRQ 4 at the programmed vector");
	dt_check(dev, "ISR bit 4 in the handler", isr_seen & IRQ4_BIT,
		 IRQ4_BIT);
	dt_check(dev, "ISR after the EOI", pic_read(OCW3_READ_ISR), 0);
	dt_check(dev, "IRQ 4 at the vector of before",
		 intr_count[DT_PIC_MASTER_VEC + IRQ_COM1], old);
	/* No EOI: the line in service blocks its own next request. */
	no_eoi = 1;
	raise_irq4();
	expect_count(vec, 2, INTR_WAIT_MS, "IRQ 4 again (no EOI this time)");
	raise_irq4();
	expect_count(vec, 2, QUIET_MS, "IRQ 4 while its ISR bit is set");
	no_eoi = 0;
	outb(PIC1_CMD, OCW2_EOI);
	expect_count(vec, 3, INTR_WAIT_MS, "IRQ 4 after the missing EOI");
	outb(UART_IER, 0);
}

static void pic_slave_routing(u32 tpm)
{
	u32 vec = PIC_VEC + 8 + (IRQ_RTC - 8), want;
	u8 b;

	intr_set(vec, rtc_intr);
	outb(CMOS_INDEX, RTC_A);
	outb(CMOS_DATA, RTC_A_16HZ);
	outb(CMOS_INDEX, RTC_B);
	b = inb(CMOS_DATA);
	outb(CMOS_INDEX, RTC_B);
	outb(CMOS_DATA, b | RTC_B_PIE);
	pic_mask_all();  /* the cascade open again */
	pic_unmask(IRQ_RTC);
	if (!dt_wait_ms(&intr_count[vec], RTC_PERIODS + 1,
			4 * RTC_PERIODS * MS_PER_SEC / RTC_HZ))
		dt_fail(dev, "IRQ 8 through the cascade", intr_count[vec],
			RTC_PERIODS + 1);
	pic_mask_all();
	outb(CMOS_INDEX, RTC_B);
	outb(CMOS_DATA, b);
	outb(CMOS_INDEX, RTC_C);
	(void)inb(CMOS_DATA);
	/* 16 Hz: 62.5 ms, in TSC ticks (tpm * 1000 / 16). */
	want = (u32)((u64)tpm * MS_PER_SEC >> RTC_HZ_SHIFT);
	dt_near(dev, "TSC ticks of the RTC's periodic interrupt",
		dt_period(dev, rtc_when, RTC_PERIODS, want), want,
		RATE_TOLERANCE);
}

static u32 io_read(u32 reg)
{
	mmio_write32(IOAPIC, reg);
	return mmio_read32(IOWIN);
}

static void io_write(u32 reg, u32 v)
{
	mmio_write32(IOAPIC, reg);
	mmio_write32(IOWIN, v);
}

static void rte_set(u32 pin, u32 lo)
{
	io_write(IOREDTBL + 2 * pin + 1, 0);  /* physical destination 0 */
	io_write(IOREDTBL + 2 * pin, lo);
}

/* IOAPIC pin 4, edge then level: the handler EOIs at the LAPIC. */
static void io_irq4(u32 vec)
{
	/* Level: leave the line high once, so the EOI must resend. */
	if (level_served++ != 1)
		(void)inb(UART_IIR);
	lapic_eoi();
}

static void io_irq0(u32 vec)
{
	lapic_eoi();
}

static void ioapic_routing(void)
{
	u32 ver = io_read(IOAPICVER), pin;

	dt_check(dev, "IOAPIC ID", io_read(IOAPICID) >> ID_SHIFT, IOAPIC_ID);
	if ((ver & 0xFF) < VER_MIN || (ver & 0xFF) > VER_MAX)
		dt_fail(dev, "IOAPIC version", ver & 0xFF, VER_MAX);
	dt_check(dev, "IOAPIC pins - 1", (ver >> VER_MAXREDIR_SHIFT) & 0xFF,
		 IOAPIC_PINS - 1);
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		dt_check(dev, "IOAPIC entry masked at reset",
			 io_read(IOREDTBL + 2 * pin) & RTE_MASKED, RTE_MASKED);
	outb(PIC1_DATA, MASK_ALL);  /* the whole PIC off, as xv6 */
	lapic_enable(SPURIOUS);
	intr_set(IO_VEC, io_irq4);
	level_served = 0;
	rte_set(IRQ_COM1, IO_VEC);
	raise_irq4();
	expect_count(IO_VEC, 1, INTR_WAIT_MS, "IRQ 4 by the IOAPIC (edge)");
	dt_check(dev, "IRQ 4 at a PIC vector with the PIC masked",
		 intr_count[PIC_VEC + IRQ_COM1] - 3, 0);
	rte_set(IRQ_COM1, IO_VEC | RTE_MASKED);
	raise_irq4();
	expect_count(IO_VEC, 1, QUIET_MS, "an edge on a masked entry");
	rte_set(IRQ_COM1, IO_VEC);
	expect_count(IO_VEC, 1, QUIET_MS, "the lost edge after unmasking");
	(void)inb(UART_IIR);
	rte_set(IRQ_COM1, IO_VEC | RTE_LEVEL);
	raise_irq4();
	expect_count(IO_VEC, 3, INTR_WAIT_MS,
		     "level IRQ 4 resent after EOI while high");
	rte_set(IRQ_COM1, IO_VEC | RTE_MASKED);
	outb(UART_IER, 0);
	intr_set(IO_VEC_IRQ0, io_irq0);
	rte_set(PIN_IRQ0, IO_VEC_IRQ0);
	outb(PIT_CMD, CW_CH0_MODE0);
	outb(PIT_CH0, PIT_ONE_MS & 0xFF);
	outb(PIT_CH0, PIT_ONE_MS >> 8);
	expect_count(IO_VEC_IRQ0, 1, INTR_WAIT_MS, "ISA IRQ 0 on pin 2");
	rte_set(PIN_IRQ0, IO_VEC_IRQ0 | RTE_MASKED);
	outb(PIT_CMD, CW_CH0_MODE0);
	lapic_disable();
	pic_mask_all();
}

void devtest_irq(void)
{
	u32 tpm = tsc_per_ms();

	pic_irq4_routing();
	pic_slave_routing(tpm);
	ioapic_routing();
	dt_ok(dev);
}
