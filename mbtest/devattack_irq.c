/*
 * Interrupt attacks (devattack.h): storms from the ICR, the LAPIC timer
 * and the PIT, IPIs at every vector and of every kind, the 8259A and
 * the IOAPIC sent to exception vectors and absurd destinations, and
 * IOAPIC registers that do not exist. A storm is bounded by the guest's
 * own handler (it masks its source after STORM interrupts); what the
 * host must show is that it stays bounded and costs nothing.
 * References: Intel SDM vol. 3A 11.5 (LVT, timer, ESR), 11.6.1 (ICR);
 * 8259A datasheet (ICW1-4, OCW1-3); 82093AA IOAPIC datasheet 3.1-3.2;
 * 8254 datasheet (mode 2, count 1).
 *
 * Invariants:
 * - Every attack that runs ends with interrupts off, the LAPIC software-disabled
 *   with its LVTs masked and its timer stopped, both 8259As masked and
 *   every IOAPIC entry masked (quiet()).
 * - Vectors whose exception pushes an error code (8, 10-14, 17, 21, 29,
 *   30) are never a target: a CPU pushes none for an interrupt, so the
 *   guest's own stub would unbalance its stack (intrstub.S).
 */
#include "devattack.h"
#include "intr.h"

#define LAPIC 0xFEE00000
#define L_ID 0x020
#define L_VER 0x030
#define L_EOI 0x0B0
#define L_SVR 0x0F0
#define L_ESR 0x280
#define L_ICR_LO 0x300
#define L_ICR_HI 0x310
#define L_LVT_TIMER 0x320
#define L_LVT_FIRST 0x320
#define L_LVT_LAST 0x370
#define L_TIMER_INIT 0x380
#define L_DCR 0x3E0
#define L_REG_STRIDE 0x10
#define L_PAGE 0x1000
#define SVR_ON 0x1FF            /* enabled, spurious vector 0xFF */
#define SVR_OFF 0x0FF
#define LVT_MASKED 0x10000
#define LVT_PERIODIC 0x20000
#define DCR_BY_1 0x0B
#define ICR_SELF (1U << 18)
#define ICR_ALL (2U << 18)
#define ICR_OTHERS (3U << 18)
#define ICR_INIT (5U << 8)
#define ICR_SIPI (6U << 8)
#define ICR_ASSERT (1U << 14)
#define ICR_LEVEL (1U << 15)
#define ICR_DEST(id) ((u32)(id) << 24)
#define ESR_SEND_ILLEGAL 0x20

#define IOAPIC 0xFEC00000
#define IO_SEL 0x00
#define IO_WIN 0x10
#define IO_ID 0x00
#define IO_VER 0x01
#define IO_RTE(pin) (0x10 + 2 * (pin))
#define IO_PINS 24
#define IO_PIT_PIN 2
#define RTE_MASKED 0x10000
#define RTE_LOGICAL 0x800
#define RTE_LEVEL 0x8000
#define RTE_LOW 0x2000
#define RTE_DM(m) ((u32)(m) << 8)
#define DM_MODES 8

#define PIC1 0x20
#define PIC2 0xA0
#define ELCR 0x4D0
#define ICW1_INIT 0x11
#define ICW3_MASTER 0x04
#define ICW3_SLAVE 0x02
#define ICW4_8086 0x01
#define OCW2_EOI 0x20
#define OCW3_POLL 0x0C
#define ALL_MASKED 0xFF
#define IRQ0_ONLY 0xFE

#define PIT_CH0 0x40
#define PIT_CTL 0x43
#define PIT_MODE2 0x34          /* channel 0, lobyte/hibyte, mode 2 */
#define PIT_MODE0 0x30

#define VEC_IPI 0x40
#define VEC_TIMER 0x41
#define VEC_PIT 0x20
#define VEC_IOAPIC 0x42
#define VEC_LEGAL 16
/* PIC bases that put IRQ 0 on an exception vector: 0-7 (never
 * injected) and 16-23 (IRQ 0 at #MF's vector, which has no error code). */
#define PIC_BASE_LOW 0x00
#define PIC_BASE_MF 0x10
#define VEC_MF 16
#define PIC_IRQS 8
/* IOAPIC targets: an exception vector below 16, and #MF's. */
#define VEC_BELOW_LEGAL 0x05
/* SIPI start pages (the vector field): any page will do, none runs. */
#define SIPI_PAGE_A 0x01
#define SIPI_PAGE_B 0x00
#define SIPI_PAGE_C 0x10
#define DEST_ABSENT 0x55
#define BYTE_VALUES 256
#define ONES32 0xFFFFFFFF
#define PIT_SLOWEST 0xFFFF
#define DEST_SHIFT 24
#define PIT_1KHZ 1193
/* How long pit-no-exits waits in TSC ticks (QEMU: about a tenth of a
 * second; Bochs counts instructions): many host ticks either way. */
#define NO_EXIT_TSC (1ULL << 28)
/* IOREGSEL written with junk above its 8-bit register number. */
#define REGSEL_JUNK 0xFFFFFF00
#define IO_ARB 0x02
#define FIRST_PIC_BASE 0x20
#define STORM 2000
#define ICR_STORM 10000
/* An interrupts-on window, in exits: the device models run (and raise
 * their lines) only when the guest exits to the VMM program, so a window
 * reads port 0x80 (POST codes, ignored) rather than spinning on NOPs.
 * Long enough for the PIT at reload 0x100 (215 us) under Bochs too. */
#define WINDOW_EXITS 300
#define POST_PORT 0x80
#define PIT_SLOW 0x100
#define ABSENT_IDS 4
/* A storm that has not run its course after this many exits failed. */
#define STORM_EXITS 100000
/* An IPI pending before STI comes at once: a short window. */
#define SHORT_WINDOW 2
/* Interrupts any other window may take before all is masked. */
#define WINDOW_BUDGET 50

static volatile u32 storm_left;
static volatile u32 storm_vec;
/* Interrupts of any vector left before every source is masked: a line
 * held asserted (level-triggered) would otherwise interrupt each IRET. */
static volatile u32 budget;

static int error_code_vec(u32 v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 ||
	       v == 29 || v == 30;
}

static void lapic_w(u32 reg, u32 v)
{
	mmio_w32(LAPIC + reg, v);
}

static u32 lapic_r(u32 reg)
{
	return mmio_r32(LAPIC + reg);
}

static void ioapic_w(u32 reg, u32 v)
{
	mmio_w32(IOAPIC + IO_SEL, reg);
	mmio_w32(IOAPIC + IO_WIN, v);
}

static u32 ioapic_r(u32 reg)
{
	mmio_w32(IOAPIC + IO_SEL, reg);
	return mmio_r32(IOAPIC + IO_WIN);
}

static void mask_sources(void)
{
	lapic_w(L_LVT_TIMER, LVT_MASKED);
	lapic_w(L_TIMER_INIT, 0);
	outb(PIC1 + 1, ALL_MASKED);
	outb(PIC2 + 1, ALL_MASKED);
	ioapic_w(IO_RTE(IO_PIT_PIN), RTE_MASKED);
}

/* Every handler: EOI to both controllers (harmless where none is in
 * service); a storm source is masked once STORM interrupts came. */
static void eoi_all(u32 vec)
{
	lapic_w(L_EOI, 0);
	outb(PIC2, OCW2_EOI);
	outb(PIC1, OCW2_EOI);
	if (budget && !--budget)
		mask_sources();
	if (vec != storm_vec || !storm_left || --storm_left)
		return;
	mask_sources();
}

static void pic_init(u8 base1, u8 base2, u8 mask1)
{
	outb(PIC1, ICW1_INIT);
	outb(PIC1 + 1, base1);
	outb(PIC1 + 1, ICW3_MASTER);
	outb(PIC1 + 1, ICW4_8086);
	outb(PIC2, ICW1_INIT);
	outb(PIC2 + 1, base2);
	outb(PIC2 + 1, ICW3_SLAVE);
	outb(PIC2 + 1, ICW4_8086);
	outb(PIC1 + 1, mask1);
	outb(PIC2 + 1, ALL_MASKED);
}

static void pit_rate(u8 mode, u16 reload)
{
	outb(PIT_CTL, mode);
	outb(PIT_CH0, reload);
	outb(PIT_CH0, reload >> 8);
}

/* Everything masked and stopped (the file's invariant). */
static void quiet(void)
{
	u32 r, pin;

	cli();
	for (r = L_LVT_FIRST; r <= L_LVT_LAST; r += L_REG_STRIDE)
		lapic_w(r, LVT_MASKED);
	lapic_w(L_TIMER_INIT, 0);
	lapic_w(L_SVR, SVR_OFF);
	pic_init(FIRST_PIC_BASE, FIRST_PIC_BASE + PIC_IRQS, ALL_MASKED);
	outb(ELCR, 0);
	outb(ELCR + 1, 0);
	pit_rate(PIT_MODE0, PIT_SLOWEST);
	for (pin = 0; pin < IO_PINS; pin++)
		ioapic_w(IO_RTE(pin), RTE_MASKED);
	storm_left = 0;
	budget = 0;
}

/* A handler for every vector a test may see (none with an error code). */
static void handle_all(void)
{
	u32 v;

	for (v = 0; v < NVECTORS; v++)
		if (!error_code_vec(v))
			intr_set(v, eoi_all);
}

static u32 total(u32 from, u32 to)
{
	u32 v, n = 0;

	for (v = from; v < to; v++)
		n += intr_count[v];
	return n;
}

/* Interrupts on for n exits (see WINDOW_EXITS). */
static void window_n(u32 n)
{
	u32 i;

	sti();
	for (i = 0; i < n; i++)
		(void)inb(POST_PORT);
	cli();
}

/* A window with a budget: where handling an interrupt takes longer than
 * its period (Bochs: the PIT at reload 0x100), each IRET meets the next
 * one and the loop would never advance; the guest masks its sources. */
static void window(void)
{
	budget = WINDOW_BUDGET;
	window_n(WINDOW_EXITS);
	budget = 0;
}

/* Interrupts on until the storm's handler masked its source. */
static void storm_run(const char *name)
{
	u32 i;

	for (i = 0; i < STORM_EXITS && storm_left; i++)
		window_n(1);
	da_check(!storm_left, name, "the storm did not run its course");
}

static void icr_storm(const struct mb_info *mbi, const char *name)
{
	u32 i, before;

	handle_all();
	quiet();
	lapic_w(L_SVR, SVR_ON);
	before = intr_count[VEC_IPI];
	for (i = 0; i < ICR_STORM; i++)
		lapic_w(L_ICR_LO, ICR_SELF | VEC_IPI);
	for (i = 0; i < ICR_STORM; i++)
		lapic_w(L_ICR_LO, ICR_ALL | VEC_IPI);
	window();
	/* One IRR bit: the storm is one interrupt (two if one was in
	 * service when the next came). */
	i = intr_count[VEC_IPI] - before;
	da_check(i >= 1 && i <= 2, name, "not one or two deliveries");
	quiet();
	da_begin(name);
	da_kv("writes", 2 * ICR_STORM);
	da_kv("delivered", i);
	da_end();
}

/* Vectors 16-255 a self-IPI may target (none with an error code). */
static u32 legal_targets(void)
{
	u32 v, n = 0;

	for (v = VEC_LEGAL; v < NVECTORS; v++)
		n += !error_code_vec(v);
	return n;
}

static void every_vector(const struct mb_info *mbi, const char *name)
{
	u32 v, low, high = 0, esr;

	handle_all();
	quiet();
	lapic_w(L_SVR, SVR_ON);
	lapic_w(L_ESR, 0);
	low = total(0, VEC_LEGAL);
	for (v = 0; v < NVECTORS; v++) {
		if (error_code_vec(v))
			continue;
		if (v >= VEC_LEGAL)
			high -= intr_count[v];
		lapic_w(L_ICR_LO, ICR_SELF | v);
		window_n(SHORT_WINDOW);
		if (v >= VEC_LEGAL)
			high += intr_count[v];
	}
	lapic_w(L_ESR, 0);
	esr = lapic_r(L_ESR);
	da_check(total(0, VEC_LEGAL) == low, name,
		 "an IPI at a vector below 16 was delivered");
	da_check(esr & ESR_SEND_ILLEGAL, name, "ESR has no send-illegal bit");
	da_check(high == legal_targets(), name,
		 "not one delivery per legal vector");
	quiet();
	da_begin(name);
	da_kv("delivered", high);
	da_kv("esr", esr);
	da_end();
}

static void init_sipi(const struct mb_info *mbi, const char *name)
{
	static const u8 absent[ABSENT_IDS] = { 1, DEST_ABSENT, 0xFE, 0xFF };
	u32 id, i;

	quiet();
	lapic_w(L_SVR, SVR_ON);
	id = lapic_r(L_ID);
	lapic_w(L_ICR_LO, ICR_SELF | ICR_INIT | ICR_ASSERT);
	lapic_w(L_ICR_LO, ICR_OTHERS | ICR_INIT | ICR_ASSERT);
	lapic_w(L_ICR_HI, id);
	lapic_w(L_ICR_LO, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
	lapic_w(L_ICR_LO, ICR_INIT | ICR_LEVEL);
	lapic_w(L_ICR_LO, ICR_SELF | ICR_SIPI | SIPI_PAGE_A);
	lapic_w(L_ICR_LO, ICR_ALL | ICR_SIPI | SIPI_PAGE_B);
	for (i = 0; i < ABSENT_IDS; i++) {
		lapic_w(L_ICR_HI, ICR_DEST(absent[i]));
		lapic_w(L_ICR_LO, ICR_INIT | ICR_ASSERT);
		lapic_w(L_ICR_LO, ICR_SIPI | SIPI_PAGE_C);
		lapic_w(L_ICR_LO, VEC_IPI);
	}
	window();
	/* Still here, and the LAPIC still answers as before. */
	da_check(lapic_r(L_ID) == id, name, "the LAPIC ID changed");
	quiet();
	da_begin(name);
	da_kv("id", id);
	da_kv("version", lapic_r(L_VER));
	da_end();
}

static void timer_storm(const struct mb_info *mbi, const char *name)
{
	u32 before;

	handle_all();
	quiet();
	lapic_w(L_SVR, SVR_ON);
	lapic_w(L_DCR, DCR_BY_1);
	storm_vec = VEC_TIMER;
	storm_left = STORM;
	before = intr_count[VEC_TIMER];
	lapic_w(L_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
	lapic_w(L_TIMER_INIT, 1);
	storm_run(name);
	da_check(intr_count[VEC_TIMER] - before >= STORM, name,
		 "fewer timer interrupts than the storm's");
	quiet();
	da_begin(name);
	da_kv("interrupts", intr_count[VEC_TIMER] - before);
	da_end();
}

/* Every LAPIC register, 32 bits, all ones and then zero. */
static void lapic_every_register(const struct mb_info *mbi,
				 const char *name)
{
	u32 r, id;

	handle_all();
	quiet();
	id = lapic_r(L_ID);
	for (r = 0; r < L_PAGE; r += L_REG_STRIDE)
		lapic_w(r, ONES32);
	window();
	for (r = 0; r < L_PAGE; r += L_REG_STRIDE)
		lapic_w(r, 0);
	window();
	quiet();
	lapic_w(L_ID, id);
	da_begin(name);
	da_kv("registers", L_PAGE / L_REG_STRIDE);
	da_kv("esr", lapic_r(L_ESR));
	da_end();
}

/* PIT channel 0 with reload 1 through the 8259A: an IRQ 0 storm. */
static void pit_storm(const struct mb_info *mbi, const char *name)
{
	u32 before;

	handle_all();
	quiet();
	storm_vec = VEC_PIT;
	storm_left = STORM;
	before = intr_count[VEC_PIT];
	pic_init(VEC_PIT, VEC_PIT + PIC_IRQS, IRQ0_ONLY);
	pit_rate(PIT_MODE2, 1);
	storm_run(name);
	da_check(intr_count[VEC_PIT] - before >= STORM, name,
		 "fewer IRQ 0s than the storm's");
	quiet();
	da_begin(name);
	da_kv("interrupts", intr_count[VEC_PIT] - before);
	da_end();
}

/* The 8259A at vectors 0-7 and then 16-23 (exception vectors), with
 * IRQ 0 running: 0-7 are never injected (vmmdev/run.c), 16 comes as an
 * interrupt through its gate, as on a PC. */
static void pic_exception_vectors(const struct mb_info *mbi,
				  const char *name)
{
	u32 low, v16;

	handle_all();
	quiet();
	low = total(0, PIC_IRQS);
	pic_init(PIC_BASE_LOW, PIC_BASE_LOW + PIC_IRQS, IRQ0_ONLY);
	pit_rate(PIT_MODE2, PIT_SLOW);
	window();
	da_check(total(0, PIC_IRQS) == low, name, "an IRQ reached vectors 0-7");
	v16 = intr_count[VEC_MF];
	pic_init(PIC_BASE_MF, PIC_BASE_MF + PIC_IRQS, IRQ0_ONLY);
	window();
	v16 = intr_count[VEC_MF] - v16;
	da_check(v16 >= 1, name, "IRQ 0 at vector 16 never came");
	quiet();
	da_begin(name);
	da_kv("vector16", v16);
	da_end();
}

/* Init words out of order, every OCW, ELCR all level, polls. */
static void pic_garbage(const struct mb_info *mbi, const char *name)
{
	u32 v, before;

	handle_all();
	quiet();
	before = total(0, NVECTORS);
	for (v = 0; v < BYTE_VALUES; v++) {
		outb(PIC1 + (v & 1), v);
		outb(PIC2 + (v & 1), BYTE_VALUES - 1 - v);
	}
	outb(ELCR, ALL_MASKED);  /* every line level-triggered */
	outb(ELCR + 1, ALL_MASKED);
	pit_rate(PIT_MODE2, PIT_SLOW);
	window();
	for (v = 0; v < BYTE_VALUES; v++) {
		outb(PIC1, OCW3_POLL);
		(void)inb(PIC1);
		outb(PIC2, v);
		(void)inb(PIC2 + 1);
	}
	window();
	quiet();
	da_begin(name);
	da_kv("interrupts", total(0, NVECTORS) - before);
	da_end();
}

/* IOREGSEL past the registers: reads of nothing, writes that change
 * nothing real. */
static void ioapic_regsel(const struct mb_info *mbi, const char *name)
{
	u32 id, ver, sel;

	quiet();
	id = ioapic_r(IO_ID);
	ver = ioapic_r(IO_VER);
	for (sel = IO_RTE(IO_PINS); sel < BYTE_VALUES; sel++) {
		(void)ioapic_r(sel);
		ioapic_w(sel, ONES32);
	}
	for (sel = IO_ARB; sel < IO_RTE(0); sel++)
		ioapic_w(sel, ONES32);
	/* IOREGSEL itself, wide: only its low byte is a register. */
	mmio_w32(IOAPIC + IO_SEL, REGSEL_JUNK | IO_VER);
	da_check(mmio_r32(IOAPIC + IO_WIN) == ver, name,
		 "IOREGSEL's high bytes chose a register");
	da_check(ioapic_r(IO_VER) == ver, name, "the version changed");
	ioapic_w(IO_ID, id);
	quiet();
	da_begin(name);
	da_kv("id", ioapic_r(IO_ID));
	da_kv("version", ver);
	da_end();
}

/* The PIT's pin in every delivery mode, to exception vectors, absent
 * and broadcast destinations, level and low; then a sane entry. */
static void ioapic_routes(const struct mb_info *mbi, const char *name)
{
	static const u32 dest[] = { DEST_ABSENT, 0xFF, 0x00 };
	u32 m, d, before, sane;

	handle_all();
	quiet();
	lapic_w(L_SVR, SVR_ON);
	pit_rate(PIT_MODE2, PIT_SLOW);
	before = total(0, NVECTORS);
	for (m = 0; m < DM_MODES; m++)
		for (d = 0; d < sizeof(dest) / sizeof(dest[0]); d++) {
			ioapic_w(IO_RTE(IO_PIT_PIN) + 1, dest[d] << DEST_SHIFT);
			ioapic_w(IO_RTE(IO_PIT_PIN),
				 RTE_DM(m) | VEC_BELOW_LEGAL);
			window();
			ioapic_w(IO_RTE(IO_PIT_PIN), RTE_DM(m) | RTE_LEVEL |
				 RTE_LOW | RTE_LOGICAL | VEC_MF);
			window();
			ioapic_w(IO_RTE(IO_PIT_PIN), RTE_MASKED);
			lapic_w(L_EOI, 0);
		}
	ioapic_w(IO_RTE(IO_PIT_PIN) + 1, ICR_DEST(lapic_r(L_ID) >> DEST_SHIFT));
	sane = intr_count[VEC_IOAPIC];
	ioapic_w(IO_RTE(IO_PIT_PIN), VEC_IOAPIC);
	window();
	sane = intr_count[VEC_IOAPIC] - sane;
	da_check(sane >= 1, name, "a sane entry afterwards delivers nothing");
	quiet();
	da_begin(name);
	da_kv("absurd_deliveries", total(0, NVECTORS) - before - sane);
	da_kv("sane", sane);
	da_end();
}

/* The PIT at 1 kHz through the 8259A, and a loop on RAM that makes no
 * exit: on a PC the interrupt comes, and here too: a guest that runs
 * past its VMM's device deadline is handed over at its next exit of any
 * kind (the host's timer ticks make some; vmm/devexit.c
 * devexit_deadline). */
static void pit_no_exits(const struct mb_info *mbi, const char *name)
{
	u32 before;
	u64 t0;

	handle_all();
	quiet();
	before = intr_count[VEC_PIT];
	pic_init(VEC_PIT, VEC_PIT + PIC_IRQS, IRQ0_ONLY);
	pit_rate(PIT_MODE2, PIT_1KHZ);
	t0 = rdtsc();
	sti();
	/* NOP, not PAUSE: AMD-V intercepts PAUSE. */
	while (intr_count[VEC_PIT] == before && rdtsc() - t0 < NO_EXIT_TSC)
		asm volatile("nop");
	cli();
	before = intr_count[VEC_PIT] - before;
	quiet();
	da_check(before >= 1, name, "no timer interrupt without an exit");
	da_begin(name);
	da_kv("interrupts", before);
	da_end();
}

/* Each interrupt sends the next: a self-IPI storm on top of a LAPIC
 * timer of count 1, for ever, interrupts on. Only kill ends it. */
static void reipi(u32 vec)
{
	lapic_w(L_EOI, 0);
	lapic_w(L_ICR_LO, ICR_SELF | VEC_IPI);
}

static void storm_forever(const struct mb_info *mbi, const char *name)
{
	quiet();
	intr_set(VEC_IPI, reipi);
	intr_set(VEC_TIMER, reipi);
	lapic_w(L_SVR, SVR_ON);
	lapic_w(L_DCR, DCR_BY_1);
	lapic_w(L_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
	lapic_w(L_TIMER_INIT, 1);
	lapic_w(L_ICR_LO, ICR_SELF | VEC_IPI);
	sti();
	for (;;)
		asm volatile("nop");
}

const struct devattack da_irq[] = {
	{ "lapic-icr-storm", icr_storm, DA_RUNS },
	{ "lapic-every-vector", every_vector, DA_RUNS },
	{ "lapic-init-sipi", init_sipi, DA_RUNS },
	{ "lapic-timer-storm", timer_storm, DA_RUNS },
	{ "lapic-every-register", lapic_every_register, DA_RUNS },
	{ "pit-irq0-storm", pit_storm, DA_RUNS },
	{ "pic-exception-vectors", pic_exception_vectors, DA_RUNS },
	{ "pic-garbage", pic_garbage, DA_RUNS },
	{ "ioapic-regsel", ioapic_regsel, DA_RUNS },
	{ "ioapic-routes", ioapic_routes, DA_RUNS },
	{ "pit-no-exits", pit_no_exits, DA_RUNS },
	{ "storm-forever", storm_forever, DA_STOPS },
	{ 0, 0, 0 },
};
