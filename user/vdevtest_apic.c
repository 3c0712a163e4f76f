/*
 * vdevtest: the IOAPIC (vmmdev/ioapic.c), the local APIC (lapic.c) and
 * the routing between them (irq.c): redirection entries, edge and level
 * delivery with remote IRR and EOI, TPR/PPR, logical destinations, IPIs,
 * ESR, ExtINT through LINT0, software disable; and the APIC timer in
 * one-shot and periodic mode against the fake clock (LAPIC_BUS_HZ).
 * Two LAPICs (lapic_init(2) in vdevtest.c): LAPIC 1 stays software-
 * disabled, so it accepts nothing, until test_smp enables it; there,
 * interrupts and IPIs for CPU 1 reach only it (lapic_select picks the
 * CPU whose exits are handled), INIT (assert) and STARTUP reach the
 * vdev_cpu_* hooks below, and so does a kick when CPU 1 (not the one
 * whose exit is handled) gains a vector it can take (test_kicks).
 *
 * Invariants: every check names a datasheet fact (SDM vol. 3A ch. 11,
 * 82093AA section 3); the PIC stays fully masked except where a check
 * says otherwise.
 */
#include "vdevtest.h"

#define LAPIC 0xFEE00000ULL
#define IOAPIC 0xFEC00000ULL
/* The model's bus clock (lapic.c, LAPIC_BUS_HZ: 100 MHz). */
#define NS_PER_TICK 10
/* The periodic check: initial count 100, divided by 2. */
#define PERIOD (100 * 2 * NS_PER_TICK)

/* The smp.c hooks lapic.c calls, as the test saw them. */
#define HOOK_NONE (-1)
static int inits, startups, last_cpu = HOOK_NONE, last_vec = HOOK_NONE;
static int kicks, last_kick = HOOK_NONE;

void vdev_cpu_kick(unsigned cpu)
{
	kicks++;
	last_kick = cpu;
}

int vdev_cpu_init(unsigned cpu)
{
	inits++;
	last_cpu = cpu;
	return 0;
}

int vdev_cpu_startup(unsigned cpu, uint8_t vec)
{
	startups++;
	last_cpu = cpu;
	last_vec = vec;
	return 0;
}

static uint32_t la(unsigned off) { return mmio_rd(LAPIC + off); }
static void la_wr(unsigned off, uint32_t v) { mmio_wr(LAPIC + off, v); }

static uint32_t io_rd(unsigned reg)
{
	mmio_wr(IOAPIC, reg);
	return mmio_rd(IOAPIC + 0x10);
}

static void io_wr(unsigned reg, uint32_t v)
{
	mmio_wr(IOAPIC, reg);
	mmio_wr(IOAPIC + 0x10, v);
}

static void route(unsigned pin, uint32_t lo, uint32_t hi)
{
	io_wr(0x10 + 2 * pin + 1, hi);
	io_wr(0x10 + 2 * pin, lo);
}

static void take_eoi(int vec)
{
	CHECK_EQ(vintr_next(), vec);
	vintr_ack(vec);
	CHECK(la(0x100 + 0x10 * (vec / 32)) & (1U << (vec % 32)));
	la_wr(0xB0, 0);
	CHECK_EQ(la(0x100 + 0x10 * (vec / 32)) & (1U << (vec % 32)), 0);
}

static uint32_t esr(void)
{
	la_wr(0x280, 0);
	return la(0x280);
}

static void test_ioapic_routes(void)
{
	CHECK_EQ(io_rd(0x01), 0x00170011);
	CHECK_EQ(io_rd(0x00), 0x01000000);          /* ioapic_init(1) */
	io_wr(0x00, 0x05000000);
	CHECK_EQ(io_rd(0x00), 0x05000000);
	CHECK_EQ(io_rd(0x02), 0x05000000);
	CHECK_EQ(io_rd(0x10 + 2 * 3), 0x10000);     /* masked at reset */

	route(4, 0x30, 0);
	CHECK_EQ(io_rd(0x18), 0x30);
	vdev_irq_pulse(4);
	CHECK_EQ(la(0x210), 0x10000);               /* IRR bit 0x30 */
	CHECK_EQ(vintr_next(), 0x30);
	vintr_ack(0x30);
	CHECK_EQ(la(0xA0), 0x30);                   /* PPR = ISRV class */
	la_wr(0xB0, 0);
	CHECK_EQ(la(0xA0), 0);
	/* A higher vector between offer and delivery: the one offered goes
	 * in service, the new one (higher class) nests. */
	vdev_irq_pulse(4);
	CHECK_EQ(vintr_next(), 0x30);
	la_wr(0x310, 0);
	la_wr(0x300, 0x40000 | 0x50);
	vintr_ack(0x30);
	CHECK_EQ(la(0x110), 0x10000);
	take_eoi(0x50);
	CHECK_EQ(la(0x110), 0x10000);
	la_wr(0xB0, 0);
	CHECK_EQ(vintr_next(), -1);

	/* ISA IRQ 0 arrives on pin 2 (MADT override). */
	route(2, 0x31, 0);
	vdev_irq_pulse(0);
	take_eoi(0x31);

	/* Level: remote IRR until EOI; redelivered while still high. */
	route(10, 0x40 | 0x8000, 0);
	vdev_irq_set(10, true);
	CHECK(io_rd(0x24) & 0x4000);
	CHECK(la(0x1A0) & 1);                       /* TMR bit 0x40 */
	take_eoi(0x40);
	CHECK(io_rd(0x24) & 0x4000);
	vdev_irq_set(10, false);
	take_eoi(0x40);
	CHECK_EQ(io_rd(0x24) & 0x4000, 0);
	CHECK_EQ(vintr_next(), -1);

	/* TPR holds back a vector of its class and below. */
	la_wr(0x80, 0x40);
	vdev_irq_pulse(4);
	CHECK_EQ(vintr_next(), -1);
	CHECK_EQ(la(0xA0), 0x40);
	la_wr(0x80, 0);
	take_eoi(0x30);

	/* A masked edge entry loses the edge. */
	route(4, 0x10030, 0);
	vdev_irq_pulse(4);
	route(4, 0x30, 0);
	CHECK_EQ(vintr_next(), -1);

	/* Logical (flat) destinations match LDR; lowest priority too. */
	la_wr(0xD0, 0x01000000);
	route(5, 0x35 | 0x800, 0x01000000);
	vdev_irq_pulse(5);
	take_eoi(0x35);
	route(5, 0x35 | 0x800, 0x02000000);
	vdev_irq_pulse(5);
	CHECK_EQ(vintr_next(), -1);
	route(6, 0x36 | 0x100, 0);
	vdev_irq_pulse(6);
	take_eoi(0x36);
}

static void test_ipis(void)
{
	la_wr(0x310, 0);
	la_wr(0x300, 0x40000 | 0x50);               /* self */
	take_eoi(0x50);
	la_wr(0x300, 0x80000 | 0x51);               /* all including self */
	take_eoi(0x51);
	la_wr(0x300, 0xC0000 | 0x52);               /* all excluding self */
	CHECK_EQ(vintr_next(), -1);
	la_wr(0x300, 0x52);                         /* physical 0: us */
	take_eoi(0x52);

	/* Illegal vectors: sent (ESR bit 5), received (bit 6). */
	esr();
	la_wr(0x300, 0x40000 | 0x05);
	CHECK_EQ(esr(), 0x20);
	route(7, 0x03, 0);
	vdev_irq_pulse(7);
	CHECK_EQ(esr(), 0x40);
	CHECK_EQ(vintr_next(), -1);
	/* LVT error interrupts on an error. */
	la_wr(0x370, 0x55);
	la_wr(0x300, 0x40000 | 0x05);
	take_eoi(0x55);
	CHECK_EQ(esr(), 0x20);

	/* INIT and STARTUP raise no interrupt; they go to the hooks. */
	la_wr(0x300, 0x4500);
	la_wr(0x300, 0x4600 | 0x08);
	CHECK_EQ(vintr_next(), -1);
	CHECK_EQ(la(0x300) & 0x1000, 0);            /* delivery status idle */
	CHECK_EQ(inits, 1);
	CHECK_EQ(startups, 1);
	CHECK_EQ(last_cpu, 0);
	CHECK_EQ(last_vec, 0x08);
}

/*
 * With CPU 0's exit at hand, CPU 1 gains an interrupt it can take (its
 * highest IRR vector's class above its PPR's, SDM 11.8.3.1): the model
 * asks to kick CPU 1, once per change of what it would take; a vector
 * below the pending one, one its TPR holds back, and one to CPU 0
 * itself ask for nothing.
 */
static void test_kicks(void)
{
	kicks = 0;
	route(9, 0x3A, 0x01000000);
	vdev_irq_pulse(9);                          /* IOAPIC to CPU 1 */
	CHECK_EQ(kicks, 1);
	CHECK_EQ(last_kick, 1);
	la_wr(0x310, 0x01000000);
	la_wr(0x300, 0x4B);                         /* fixed 0x4B to 1 */
	CHECK_EQ(kicks, 2);
	la_wr(0x300, 0x45);                         /* below 0x4B */
	CHECK_EQ(kicks, 2);
	la_wr(0x300, 0x40000 | 0x46);               /* to self */
	CHECK_EQ(kicks, 2);
	lapic_select(1);
	la_wr(0x80, 0xF0);                          /* CPU 1's TPR */
	lapic_select(0);
	la_wr(0x300, 0x5C);
	CHECK_EQ(kicks, 2);
	lapic_select(1);
	la_wr(0x80, 0);
	take_eoi(0x5C);
	take_eoi(0x4B);
	take_eoi(0x45);
	take_eoi(0x3A);
	lapic_select(0);
	take_eoi(0x46);
	CHECK_EQ(last_kick, 1);
}

/* CPU 1's LAPIC: the IOAPIC's physical destination 1, fixed IPIs, INIT
 * and STARTUP by destination and shorthand. */
static void test_smp(void)
{
	lapic_select(1);
	la_wr(0xF0, 0x1FF);
	CHECK_EQ(la(0x20), 0x01000000);             /* APIC ID 1 */
	lapic_select(0);
	CHECK_EQ(la(0x20), 0);

	route(9, 0x39, 0x01000000);
	vdev_irq_pulse(9);
	CHECK_EQ(vintr_next(), -1);                 /* not CPU 0's */
	lapic_select(1);
	take_eoi(0x39);
	lapic_select(0);

	la_wr(0x310, 0x01000000);
	la_wr(0x300, 0x4A);                         /* fixed, to 1 */
	CHECK_EQ(vintr_next(), -1);
	lapic_select(1);
	take_eoi(0x4A);
	lapic_select(0);

	inits = startups = 0;
	la_wr(0x300, 0xC500);                       /* INIT assert to 1 */
	CHECK_EQ(inits, 1);
	CHECK_EQ(last_cpu, 1);
	la_wr(0x300, 0x8500);                       /* de-assert: nothing */
	CHECK_EQ(inits, 1);
	la_wr(0x300, 0x0607);                       /* STARTUP 7 to 1 */
	CHECK_EQ(startups, 1);
	CHECK_EQ(last_cpu, 1);
	CHECK_EQ(last_vec, 0x07);
	la_wr(0x310, 0);
	la_wr(0x300, 0xC0600 | 0x09);               /* all but self */
	CHECK_EQ(startups, 2);
	CHECK_EQ(last_cpu, 1);
	CHECK_EQ(last_vec, 0x09);
	la_wr(0x300, 0x44500);                      /* INIT to self */
	CHECK_EQ(inits, 2);
	CHECK_EQ(last_cpu, 0);
	la_wr(0x310, 0x05000000);
	la_wr(0x300, 0x0608);                       /* to no CPU */
	CHECK_EQ(startups, 2);
	test_kicks();
	la_wr(0x310, 0);
	route(9, 0x10039, 0);
	CHECK_EQ(vintr_next(), -1);
}

void test_apic(void)
{
	outb8(0x21, 0xFF);
	outb8(0xA1, 0xFF);
	CHECK_EQ(la(0x30), 0x00050014);
	CHECK_EQ(la(0x20), 0);
	CHECK_EQ(la(0xF0), 0xFF);
	CHECK_EQ(la(0xE0), 0xFFFFFFFF);
	/* Software-disabled: LVT entries stay masked. */
	la_wr(0x350, 0x700);
	CHECK_EQ(la(0x350), 0x10700);
	la_wr(0xF0, 0x1FF);
	CHECK_EQ(la(0xF0), 0x1FF);
	CHECK_EQ(vintr_next(), -1);

	test_ioapic_routes();
	cprintf("vdevtest: ioapic ok\n");
	test_ipis();
	test_smp();
	cprintf("vdevtest: lapic smp ok\n");

	/* The PIC's INTR through LINT0 in ExtINT mode, and not when masked. */
	la_wr(0x350, 0x700);
	outb8(0x21, 0xFD);
	vdev_irq_pulse(1);
	CHECK_EQ(vintr_next(), 0x21);
	vintr_ack(0x21);
	CHECK_EQ(pic_reg(0x20, 0x0B), 0x02);
	outb8(0x20, 0x20);
	la_wr(0x350, 0x10700);
	vdev_irq_pulse(1);
	CHECK_EQ(vintr_next(), -1);
	outb8(0x21, 0xFF);
	/* Software disable masks every LVT entry; the PIC goes straight to
	 * the vCPU (masked here: nothing). */
	la_wr(0xF0, 0xFF);
	CHECK(la(0x320) & 0x10000);
	vdev_irq_pulse(4);
	CHECK_EQ(vintr_next(), -1);
	la_wr(0xF0, 0x1FF);
	cprintf("vdevtest: lapic ok\n");
}

void test_lapic_timer(void)
{
	uint64_t t0, t1;
	int i, n;

	la_wr(0x3E0, 0xB);                          /* divide by 1 */
	la_wr(0x320, 0x60);                         /* one-shot */
	t0 = now_ns();
	la_wr(0x380, 1000);
	CHECK_EQ(la(0x390), 1000);
	advance_to(t0 + 500 * NS_PER_TICK);
	CHECK_EQ(la(0x390), 500);
	advance_to(t0 + 1000 * NS_PER_TICK - 1);
	poll_all();
	CHECK_EQ(vintr_next(), -1);
	advance_to(t0 + 1000 * NS_PER_TICK);
	poll_all();
	take_eoi(0x60);
	CHECK_EQ(la(0x390), 0);
	advance_to(t0 + 5000 * NS_PER_TICK);
	poll_all();
	CHECK_EQ(vintr_next(), -1);                 /* one shot only */

	la_wr(0x3E0, 0x0);                          /* divide by 2 */
	la_wr(0x320, 0x20061);                      /* periodic */
	t1 = now_ns();
	la_wr(0x380, 100);                          /* PERIOD ns a period */
	advance_to(t1 + PERIOD - 1);
	poll_all();
	CHECK_EQ(vintr_next(), -1);
	advance_to(t1 + PERIOD);
	poll_all();
	take_eoi(0x61);
	advance_to(t1 + PERIOD * 3 / 2);
	CHECK_EQ(la(0x390), 50);
	/* The rate: one interrupt per period over 100 periods. */
	for (i = 2, n = 0; i <= 101; i++) {
		advance_to(t1 + PERIOD * i);
		poll_all();
		if (vintr_next() == 0x61) {
			take_eoi(0x61);
			n++;
		}
	}
	CHECK_EQ(n, 100);
	/* Late: one interrupt for several periods, not a burst. */
	advance_to(t1 + PERIOD * 110 + PERIOD / 4);
	poll_all();
	take_eoi(0x61);
	CHECK_EQ(vintr_next(), -1);
	/* Masked: it counts on, silently; initial 0 stops it. */
	la_wr(0x320, 0x30061);
	advance_to(t1 + PERIOD * 120);
	poll_all();
	CHECK_EQ(vintr_next(), -1);
	la_wr(0x380, 0);
	CHECK_EQ(la(0x390), 0);
	cprintf("vdevtest: lapic timer ok\n");
}
