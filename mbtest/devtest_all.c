/*
 * The device tests' driver and what they share (devtest.h): which tests
 * run, failure lines, the 8259A pair's set-up and EOI, bounded waits.
 *
 * Order of "devtest-all": the PIT first (the TSC rate every timed check
 * uses), then the tests whose interrupts come through the PIC (RTC,
 * UART, IDE), then PIC and IOAPIC routing, then the LAPIC timer: once
 * the LAPIC is software-enabled, the PIC reaches the CPU only through
 * LINT0, which the later tests do not need.
 *
 * Invariants:
 * - pic_setup leaves every line masked but the cascade.
 * - dt_wait_ms makes one port-I/O exit per poll (a read of the master
 *   PIC's mask), so the VMM program runs its device deadlines and
 *   injects what is due even where the host would not stop the guest;
 *   it marks the TSC before each (dt_poll_mark) for dt_stamp.
 */
#include "devtest.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define ICW1_INIT_IC4 0x11   /* ICW1: init, edge, cascade, ICW4 follows */
#define ICW3_MASTER (1 << PIC_CASCADE)
#define ICW3_SLAVE PIC_CASCADE
#define ICW4_8086 0x01
#define OCW2_EOI 0x20
#define MASK_ALL 0xFF
#define PIC_LINES 8

struct devtest {
	const char *word;
	void (*run)(void);
};

static const struct devtest tests[] = {
	{ "devtest-pit", devtest_pit },
	{ "devtest-rtc", devtest_rtc },
	{ "devtest-uart", devtest_uart },
	{ "devtest-ide", devtest_ide },
	{ "devtest-irq", devtest_irq },
	{ "devtest-lapic", devtest_lapic },
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

void devtests(const char *cmdline)
{
	int all = has_word(cmdline, "devtest-all"), any = 0;
	u32 i;

	for (i = 0; i < NTESTS; i++) {
		if (!all && !has_word(cmdline, tests[i].word))
			continue;
		if (!any)
			intr_init();
		any = 1;
		tests[i].run();
	}
	if (all)
		puts("mbtest: all devices ok\n");
}

void __attribute__((noreturn)) dt_fail(const char *dev, const char *what,
				       u32 got, u32 want)
{
	cli();
	com_init();  /* the UART test may have left it in loopback */
	puts("mbtest: ");
	puts(dev);
	puts(" FAILED: ");
	puts(what);
	puts(" (got ");
	puthex(got);
	puts(", want ");
	puthex(want);
	puts(")\n");
	finish(FAIL_VALUE);
}

void dt_check(const char *dev, const char *what, u32 got, u32 want)
{
	if (got != want)
		dt_fail(dev, what, got, want);
}

/* got within pct percent of want (both under 2^32 after the check). */
void dt_near(const char *dev, const char *what, u64 got, u64 want, u32 pct)
{
	u64 diff = got > want ? got - want : want - got;

	if (diff * 100 > want * pct || got >> 32 || want >> 32)
		dt_fail(dev, what, (u32)got, (u32)want);
}

void dt_ok(const char *dev)
{
	puts("mbtest: ");
	puts(dev);
	puts(" ok\n");
}

/* ICW1-ICW4 to both chips (8259A datasheet), then every line masked
 * but the slave's cascade input. */
void pic_setup(u8 master_vec, u8 slave_vec)
{
	outb(PIC1_CMD, ICW1_INIT_IC4);
	outb(PIC1_DATA, master_vec);
	outb(PIC1_DATA, ICW3_MASTER);
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_CMD, ICW1_INIT_IC4);
	outb(PIC2_DATA, slave_vec);
	outb(PIC2_DATA, ICW3_SLAVE);
	outb(PIC2_DATA, ICW4_8086);
	pic_mask_all();
}

void pic_mask_all(void)
{
	outb(PIC1_DATA, MASK_ALL & ~ICW3_MASTER);
	outb(PIC2_DATA, MASK_ALL);
}

void pic_unmask(u32 irq)
{
	if (irq < PIC_LINES)
		outb(PIC1_DATA, inb(PIC1_DATA) & ~(1 << irq));
	else
		outb(PIC2_DATA, inb(PIC2_DATA) & ~(1 << (irq - PIC_LINES)));
}

/* A non-specific EOI to the chip (both, for the slave's lines). */
void pic_eoi(u32 irq)
{
	if (irq >= PIC_LINES)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
}

/* Interrupts on until *count reaches want or ms of TSC time passed; off
 * again after. 1 if it did. Each poll's time goes to dt_poll_mark, for
 * the handlers' dt_stamp. */
int dt_wait_ms(volatile u32 *count, u32 want, u32 ms)
{
	u64 limit = (u64)ms * tsc_per_ms(), t0 = rdtsc();
	int done;

	dt_poll_reset();
	sti();
	while (!(done = *count >= want) && rdtsc() - t0 < limit) {
		dt_poll_mark();
		(void)inb(PIC1_DATA);
	}
	cli();
	dt_poll_reset();
	return done;
}

