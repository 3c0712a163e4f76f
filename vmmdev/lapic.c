/*
 * The local APIC of each vCPU, in xAPIC mode, at guest-physical
 * 0xFEE00000: priorities, the IRR/ISR/TMR vectors, EOI, the local vector
 * table, the APIC timer, the error status and the interrupt command
 * register.
 *
 * Reference: Intel SDM vol. 3A, chapter 11 (order 253668, 2023):
 * 11.4.1 (the APIC page), 11.4.6 (local APIC ID), 11.4.8 (version
 * register), 11.5.1 (LVT), 11.5.3 (error handling, ESR), 11.5.4 (APIC
 * timer: divide configuration, initial and current count, one-shot and
 * periodic), 11.6.1 (ICR), 11.6.2 (destination modes, LDR, DFR), 11.8.3
 * (IRR/ISR/TMR), 11.8.3.1 (TPR, PPR), 11.8.5 (EOI), 11.9 (spurious
 * interrupt, SVR), 11.4.3 (software enable/disable), table 11-1 (register
 * offsets).
 *
 * Invariants:
 * - One struct lapic per vCPU (lapics[0 .. nlapics), machine state
 *   shared by every vCPU's process: VDEV_SHARED); each instance is
 *   self-contained. The page at 0xFEE00000 is the one of the vCPU whose
 *   exit this process handles: cur, this process's own vCPU
 *   (lapic_select), private to it.
 * - A vector is in IRR when it was accepted and not yet delivered, in ISR
 *   from delivery (lapic_ack) to its EOI. Vectors 0-15 are never accepted
 *   (ESR "receive illegal vector").
 * - While software-disabled (SVR bit 8 clear) every LVT entry is masked
 *   and no fixed interrupt is accepted; IRR/ISR are kept.
 * - The timer runs from timer_start: count = initial - elapsed bus ticks
 *   / divisor (periodic: modulo initial); timer_deadline is the next
 *   expiry in vdev_now_ns() time, or VDEV_NEVER when it is stopped.
 * - INIT (level assert) and STARTUP IPIs go to vdev_cpu_init and
 *   vdev_cpu_startup (vmmdev/smp.c: the kernel puts the vCPU into
 *   wait-for-SIPI, or starts it), counted in ipi_init / ipi_startup of
 *   the sender, refusals in ipi_refused; other modes but fixed and
 *   lowest priority are dropped (ipi_dropped). An IPI never reaches a
 *   vCPU that does not exist. A fixed IPI to another vCPU sets its IRR:
 *   that vCPU takes it at its next hand-off to its own process, which
 *   vdev_cpu_kick hastens whenever an accepted vector changes what a
 *   vCPU other than cur would take next (lapic_next): never for cur,
 *   so a single vCPU never asks.
 * - Once lapic_publish named it, the read shadow (inc/vmrun.h) of this
 *   process's run page holds reg_read's value of each register in
 *   published[] for vCPU cur: those change only in reg_write (by cur
 *   itself: a vCPU writes only its own page) and lapic_reset, and both
 *   end in shadow_sync (EOI, which changes only ISR, excepted). The
 *   kernel answers aligned 4-byte reads of them; all else comes here.
 */
#include <inc/string.h>
#include <inc/error.h>
#include <inc/vmrun.h>
#include "dev.h"
#include "devices.h"
#include "irqchip.h"

#define LAPIC_BASE 0xFEE00000ULL
#define LAPIC_MMIO_LEN 0x1000
/* The most vCPUs a guest may have (APIC IDs 0 .. LAPIC_MAX_CPUS - 1). */
#define LAPIC_MAX_CPUS 16
/* The virtual bus clock the timer counts (divided by the DCR): 100 MHz,
 * a bus clock real PCs have had (the SDM leaves the rate to the
 * implementation; guests calibrate it, or, as xv6 does, take a fixed
 * count: 10^7 at divide 1 is then 10 Hz). Not QEMU's 1 GHz: every
 * LAPIC access of a guest here is an exit, and xv6 makes about 40 of
 * them to take a tick and reschedule; at 100 Hz that took most of each
 * period when the host was busy, so a runnable process waited minutes
 * for a period in which it could run (xv6's boot stuck after "sb:"). */
#define LAPIC_BUS_HZ 100000000ULL
#define NS_PER_SEC 1000000000ULL
#define LAPIC_NS_PER_TICK (NS_PER_SEC / LAPIC_BUS_HZ)

/* Register offsets (SDM table 11-1); registers are 32 bits every 16. */
enum {
	REG_ID = 0x020, REG_VERSION = 0x030, REG_TPR = 0x080, REG_APR = 0x090,
	REG_PPR = 0x0A0, REG_EOI = 0x0B0, REG_RRD = 0x0C0, REG_LDR = 0x0D0,
	REG_DFR = 0x0E0, REG_SVR = 0x0F0, REG_ISR = 0x100, REG_TMR = 0x180,
	REG_IRR = 0x200, REG_ESR = 0x280, REG_ICR_LO = 0x300,
	REG_ICR_HI = 0x310, REG_LVT_TIMER = 0x320, REG_LVT_ERROR = 0x370,
	REG_TIMER_INIT = 0x380, REG_TIMER_CUR = 0x390, REG_TIMER_DCR = 0x3E0,
};
#define REG_STRIDE 16
#define REG_BYTES 4
#define VEC_WORDS 8
/* The LVT, in register order from 0x320. */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
       LVT_N };
/* Version 0x14 (integrated xAPIC), LVT_N entries. */
#define LAPIC_VERSION (0x14 | ((LVT_N - 1) << 16))
#define ID_SHIFT 24
#define VEC_MASK 0xFFU
#define PRIO_CLASS 0xF0U
/* The first vector that is not reserved (SDM 11.5.2). */
#define VEC_FIRST_LEGAL 16
/* LVT fields and the writable bits of each kind of entry. */
#define LVT_DM_SHIFT 8
#define LVT_DM_MASK 0x7U
#define LVT_MASKED (1U << 16)
#define LVT_PERIODIC (1U << 17)
#define LVT_WR_TIMER (VEC_MASK | LVT_MASKED | LVT_PERIODIC)
#define LVT_WR_LINT 0x1A7FFU  /* vector, mode, polarity, trigger, mask */
#define LVT_WR_OTHER 0x107FFU /* vector, mode, mask */
#define LVT_WR_ERROR (VEC_MASK | LVT_MASKED)
/* SVR: spurious vector and the software-enable bit. */
#define SVR_ENABLE (1U << 8)
#define SVR_WRITABLE (VEC_MASK | SVR_ENABLE)
#define SVR_RESET 0xFFU
/* LDR/DFR (SDM 11.6.2.2). */
#define LDR_MASK 0xFF000000U
#define DFR_MODEL_MASK 0xF0000000U
#define DFR_RESERVED_ONES 0x0FFFFFFFU
#define DFR_FLAT 0xF0000000U
/* ESR bits. */
#define ESR_SEND_ILLEGAL (1U << 5)
#define ESR_RECV_ILLEGAL (1U << 6)
#define ESR_ILLEGAL_REG (1U << 7)
/* ICR fields. */
#define ICR_LO_WRITABLE 0x000CCFFFU
#define ICR_DM_SHIFT 8
#define ICR_DESTMODE (1U << 11)
#define ICR_LEVEL_ASSERT (1U << 14)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK 0x3U
enum { SH_NONE, SH_SELF, SH_ALL, SH_OTHERS };
#define ICR_HI_MASK 0xFF000000U
#define ICR_DEST_SHIFT 24
/* The broadcast destination (physical and flat logical). */
#define DEST_BROADCAST 0xFF
/* DCR: divide value in bits 0, 1 and 3; 0b111 divides by 1. */
#define DCR_MASK 0xBU
#define DCR_BY_1 0x7U

struct lapic {
	uint32_t id;
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending;
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_N];
	uint32_t irr[VEC_WORDS], isr[VEC_WORDS], tmr[VEC_WORDS];
	uint32_t dcr, timer_initial;
	uint64_t timer_start, timer_deadline;
	/* IPIs this LAPIC sent that are no fixed interrupt, and the INIT
	 * and STARTUP ones the kernel refused (a running vCPU). */
	uint64_t ipi_init, ipi_startup, ipi_dropped, ipi_refused;
	uint32_t ipi_last_icr_lo, ipi_last_icr_hi;
	uint64_t timer_missed;
};

static struct lapic lapics[LAPIC_MAX_CPUS] VDEV_SHARED;
static unsigned nlapics VDEV_SHARED;
/* This process's vCPU, whose exits it handles (private: lapic_select). */
static unsigned cur;
/* The kernel's read shadow of cur's registers in this process's run
 * page, or NULL (vdevtest). */
static struct vmrun_lapic *shadow;

unsigned lapic_count(void)
{
	return nlapics;
}

struct lapic *lapic_of(unsigned cpu)
{
	return cpu < nlapics ? &lapics[cpu] : NULL;
}

unsigned lapic_self(void)
{
	return cur;
}

void lapic_select(unsigned cpu)
{
	cur = cpu < nlapics ? cpu : 0;
}

bool lapic_sw_enabled(const struct lapic *l)
{
	return l && (l->svr & SVR_ENABLE);
}

static bool vec_test(const uint32_t *v, unsigned vec)
{
	return v[vec / 32] & (1U << (vec % 32));
}

static void vec_set(uint32_t *v, unsigned vec, bool on)
{
	if (on)
		v[vec / 32] |= 1U << (vec % 32);
	else
		v[vec / 32] &= ~(1U << (vec % 32));
}

/* The highest vector set in v, or -1 (asked at every exit: a bit scan,
 * not a loop over bits). */
static int vec_highest(const uint32_t *v)
{
	int w;

	for (w = VEC_WORDS - 1; w >= 0; w--)
		if (v[w])
			return w * 32 + 31 - __builtin_clz(v[w]);
	return -1;
}

uint8_t lapic_ppr(const struct lapic *l)
{
	int isrv = vec_highest(l->isr);
	uint32_t cls = isrv < 0 ? 0 : (uint32_t)isrv & PRIO_CLASS;

	return (l->tpr & PRIO_CLASS) >= cls ? l->tpr : cls;
}

bool lapic_match(const struct lapic *l, uint8_t dest, bool logical)
{
	uint8_t ldr = l->ldr >> ID_SHIFT;

	if (dest == DEST_BROADCAST)
		return true;
	if (!logical)
		return dest == (l->id >> ID_SHIFT);
	if ((l->dfr & DFR_MODEL_MASK) == DFR_FLAT)
		return (ldr & dest) != 0;
	/* Cluster model: cluster in the high nibble, members in the low. */
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xF);
}

static void record_error(struct lapic *l, uint32_t bit);

/* Without vmmdev/smp.c (vdevtest): nobody to kick. */
__attribute__((weak)) void vdev_cpu_kick(unsigned cpu)
{
}

void lapic_accept(struct lapic *l, uint8_t vec, bool level)
{
	int before;

	if (!lapic_sw_enabled(l))
		return;
	if (vec < VEC_FIRST_LEGAL) {
		record_error(l, ESR_RECV_ILLEGAL);
		return;
	}
	before = lapic_next(l);
	vec_set(l->irr, vec, true);
	vec_set(l->tmr, vec, level);
	/* Another vCPU has something new to take: its process should
	 * look now, not at its next device deadline. */
	if (l != &lapics[cur] && lapic_next(l) != before)
		vdev_cpu_kick(l - lapics);
}

/* An error goes into the ESR and, through LVT error, interrupts (once:
 * an illegal error vector only sets the ESR bit again). */
static void record_error(struct lapic *l, uint32_t bit)
{
	uint32_t e = l->lvt[LVT_ERROR];
	bool again = l->esr_pending & bit;

	l->esr_pending |= bit;
	if (!(e & LVT_MASKED) && !again)
		lapic_accept(l, e & VEC_MASK, false);
}

int lapic_next(const struct lapic *l)
{
	int v;

	if (!lapic_sw_enabled(l) || (v = vec_highest(l->irr)) < 0)
		return -1;
	if (((uint32_t)v & PRIO_CLASS) <= (lapic_ppr(l) & PRIO_CLASS))
		return -1;
	return v;
}

bool lapic_irr_has(const struct lapic *l, int vec)
{
	return vec >= 0 && vec <= (int)VEC_MASK && vec_test(l->irr, vec);
}

/* IRR -> ISR for vec (the vCPU took it; not always the highest now). */
void lapic_ack(struct lapic *l, int vec)
{
	if (!lapic_irr_has(l, vec))
		return;
	vec_set(l->irr, vec, false);
	vec_set(l->isr, vec, true);
}

bool lapic_lint0_extint(const struct lapic *l)
{
	uint32_t e = l->lvt[LVT_LINT0];

	return lapic_sw_enabled(l) && !(e & LVT_MASKED) &&
	       ((e >> LVT_DM_SHIFT) & LVT_DM_MASK) == DM_EXTINT;
}

static void eoi(struct lapic *l)
{
	int v = vec_highest(l->isr);

	if (v < 0)
		return;
	vec_set(l->isr, v, false);
	if (vec_test(l->tmr, v))
		irq_lapic_eoi(v);
}

/* ---- Timer -------------------------------------------------------------- */

static uint64_t divisor(const struct lapic *l)
{
	uint32_t d = ((l->dcr >> 1) & 0x4) | (l->dcr & 0x3);

	return d == DCR_BY_1 ? 1 : 2ULL << d;
}

static uint64_t period_ns(const struct lapic *l)
{
	return (uint64_t)l->timer_initial * divisor(l) * LAPIC_NS_PER_TICK;
}

static uint32_t current_count(const struct lapic *l, uint64_t now)
{
	uint64_t ticks;

	if (!l->timer_initial || now < l->timer_start)
		return l->timer_initial;
	ticks = (now - l->timer_start) / LAPIC_NS_PER_TICK / divisor(l);
	if (l->lvt[LVT_TIMER] & LVT_PERIODIC)
		return l->timer_initial - ticks % l->timer_initial;
	return ticks >= l->timer_initial ? 0 : l->timer_initial - ticks;
}

/* Start counting from count (<= initial) now. */
static void timer_restart(struct lapic *l, uint64_t now, uint32_t count)
{
	uint64_t done = (uint64_t)(l->timer_initial - count) * divisor(l) *
			LAPIC_NS_PER_TICK;

	l->timer_start = now - MIN(done, now);
	l->timer_deadline = l->timer_initial && count
			    ? l->timer_start + period_ns(l) : VDEV_NEVER;
}

static void timer_poll(struct lapic *l, uint64_t now)
{
	uint32_t e = l->lvt[LVT_TIMER];
	uint64_t p, k;

	if (l->timer_deadline == VDEV_NEVER || now < l->timer_deadline)
		return;
	if (!(e & LVT_MASKED))
		lapic_accept(l, e & VEC_MASK, false);
	if (!(e & LVT_PERIODIC)) {
		l->timer_deadline = VDEV_NEVER;
		return;
	}
	/* One interrupt however many periods passed; the rest are lost. */
	p = period_ns(l);
	k = (now - l->timer_start) / p;
	l->timer_missed += k - (l->timer_deadline - l->timer_start) / p;
	l->timer_deadline = l->timer_start + (k + 1) * p;
}

static uint64_t lapic_poll(struct vdev *d, uint64_t now)
{
	uint64_t next = VDEV_NEVER;
	unsigned i;

	for (i = 0; i < nlapics; i++) {
		timer_poll(&lapics[i], now);
		next = MIN(next, lapics[i].timer_deadline);
	}
	return next;
}

/* ---- Interrupt command register ---------------------------------------- */

static void record_ipi(struct lapic *l, unsigned dm)
{
	if (dm == DM_INIT)
		l->ipi_init++;
	else if (dm == DM_STARTUP)
		l->ipi_startup++;
	else
		l->ipi_dropped++;
	l->ipi_last_icr_lo = l->icr_lo;
	l->ipi_last_icr_hi = l->icr_hi;
}

/* Without vmmdev/smp.c (vdevtest): no vCPU to start (vdev_cpu_kick's
 * default is above lapic_accept). */
__attribute__((weak)) int vdev_cpu_init(unsigned cpu)
{
	return -E_INVAL;
}

__attribute__((weak)) int vdev_cpu_startup(unsigned cpu, uint8_t vec)
{
	return -E_INVAL;
}

/* Does l's ICR name t: its shorthand, else its destination? */
static bool ipi_names(const struct lapic *l, const struct lapic *t)
{
	unsigned sh = (l->icr_lo >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK;

	switch (sh) {
	case SH_SELF:
		return t == l;
	case SH_ALL:
		return true;
	case SH_OTHERS:
		return t != l;
	default:
		return lapic_match(t, l->icr_hi >> ICR_DEST_SHIFT,
				   l->icr_lo & ICR_DESTMODE);
	}
}

/* INIT with level assert, or STARTUP, to vCPU cpu. An INIT de-assert
 * only resynchronises arbitration IDs (old processors): nothing here. */
static void start_ipi(struct lapic *l, unsigned cpu, unsigned dm)
{
	int r = 0;

	if (dm == DM_INIT && (l->icr_lo & ICR_LEVEL_ASSERT))
		r = vdev_cpu_init(cpu);
	else if (dm == DM_STARTUP)
		r = vdev_cpu_startup(cpu, l->icr_lo & VEC_MASK);
	if (r < 0)
		l->ipi_refused++;
}

static void send_ipi(struct lapic *l)
{
	unsigned dm = (l->icr_lo >> ICR_DM_SHIFT) & LVT_DM_MASK;
	uint8_t vec = l->icr_lo & VEC_MASK;
	unsigned i;

	if (dm != DM_FIXED && dm != DM_LOWEST) {
		record_ipi(l, dm);
		if (dm != DM_INIT && dm != DM_STARTUP)
			return;
		for (i = 0; i < nlapics; i++)
			if (ipi_names(l, &lapics[i]))
				start_ipi(l, i, dm);
		return;
	}
	if (vec < VEC_FIRST_LEGAL) {
		record_error(l, ESR_SEND_ILLEGAL);
		return;
	}
	for (i = 0; i < nlapics; i++)
		if (ipi_names(l, &lapics[i]))
			lapic_accept(&lapics[i], vec, false);
}

/* ---- Registers ---------------------------------------------------------- */

static uint32_t reg_read(struct lapic *l, uint64_t reg)
{
	if (reg >= REG_ISR && reg < REG_ISR + VEC_WORDS * REG_STRIDE)
		return l->isr[(reg - REG_ISR) / REG_STRIDE];
	if (reg >= REG_TMR && reg < REG_TMR + VEC_WORDS * REG_STRIDE)
		return l->tmr[(reg - REG_TMR) / REG_STRIDE];
	if (reg >= REG_IRR && reg < REG_IRR + VEC_WORDS * REG_STRIDE)
		return l->irr[(reg - REG_IRR) / REG_STRIDE];
	if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR)
		return l->lvt[(reg - REG_LVT_TIMER) / REG_STRIDE];
	switch (reg) {
	case REG_ID: return l->id;
	case REG_VERSION: return LAPIC_VERSION;
	case REG_TPR: return l->tpr;
	case REG_APR: return l->tpr;
	case REG_PPR: return lapic_ppr(l);
	case REG_EOI: return 0;
	case REG_RRD: return 0;
	case REG_LDR: return l->ldr;
	case REG_DFR: return l->dfr;
	case REG_SVR: return l->svr;
	case REG_ESR: return l->esr;
	case REG_ICR_LO: return l->icr_lo;
	case REG_ICR_HI: return l->icr_hi;
	case REG_TIMER_INIT: return l->timer_initial;
	case REG_TIMER_CUR: return current_count(l, vdev_now_ns());
	case REG_TIMER_DCR: return l->dcr;
	}
	record_error(l, ESR_ILLEGAL_REG);
	return 0;
}

/*
 * The registers the kernel may answer (inc/vmrun.h): each changes only
 * when the guest writes the LAPIC (or at reset). Not IRR, ISR, TMR, PPR
 * (they change when the kernel delivers an interrupt, which we learn at
 * the next exit, or when a device raises a line), nor the current count
 * (time), nor EOI/RRD (nobody reads them) and unknown offsets (a read
 * sets ESR's illegal-register bit).
 */
static const uint16_t published[] = {
	REG_ID, REG_VERSION, REG_TPR, REG_APR, REG_LDR, REG_DFR, REG_SVR,
	REG_ESR, REG_ICR_LO, REG_ICR_HI, REG_LVT_TIMER,
	REG_LVT_TIMER + REG_STRIDE * LVT_THERMAL,
	REG_LVT_TIMER + REG_STRIDE * LVT_PERF,
	REG_LVT_TIMER + REG_STRIDE * LVT_LINT0,
	REG_LVT_TIMER + REG_STRIDE * LVT_LINT1, REG_LVT_ERROR,
	REG_TIMER_INIT, REG_TIMER_DCR,
};

/* cur's published registers into the shadow, before the guest runs
 * again (each vCPU's run page has its own vCPU's). */
static void shadow_sync(void)
{
	uint64_t mask = 0;
	unsigned i, r;

	if (!shadow || nlapics == 0)
		return;
	for (i = 0; i < sizeof(published) / sizeof(published[0]); i++) {
		r = published[i] / REG_STRIDE;
		shadow->reg[r] = reg_read(&lapics[cur], published[i]);
		mask |= 1ULL << r;
	}
	shadow->mask = mask;
}

void lapic_publish(struct vmrun_lapic *s)
{
	shadow = s;
	shadow_sync();
}

static void lvt_write(struct lapic *l, unsigned i, uint32_t val)
{
	static const uint32_t writable[LVT_N] = {
		LVT_WR_TIMER, LVT_WR_OTHER, LVT_WR_OTHER,
		LVT_WR_LINT, LVT_WR_LINT, LVT_WR_ERROR,
	};
	uint64_t now = vdev_now_ns();
	uint32_t count = current_count(l, now);

	val &= writable[i];
	if (!lapic_sw_enabled(l))
		val |= LVT_MASKED;
	l->lvt[i] = val;
	if (i == LVT_TIMER && l->timer_deadline != VDEV_NEVER)
		timer_restart(l, now, count);
}

static void svr_write(struct lapic *l, uint32_t val)
{
	unsigned i;

	l->svr = val & SVR_WRITABLE;
	if (!(l->svr & SVR_ENABLE))
		for (i = 0; i < LVT_N; i++)
			l->lvt[i] |= LVT_MASKED;
}

static void reg_write(struct lapic *l, uint64_t reg, uint32_t val)
{
	uint64_t now = vdev_now_ns();
	uint32_t count;

	if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) {
		lvt_write(l, (reg - REG_LVT_TIMER) / REG_STRIDE, val);
		return;
	}
	switch (reg) {
	case REG_TPR: l->tpr = val & VEC_MASK; break;
	case REG_EOI: eoi(l); break;
	case REG_LDR: l->ldr = val & LDR_MASK; break;
	case REG_DFR:
		l->dfr = (val & DFR_MODEL_MASK) | DFR_RESERVED_ONES;
		break;
	case REG_SVR: svr_write(l, val); break;
	case REG_ESR:
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		break;
	case REG_ICR_HI: l->icr_hi = val & ICR_HI_MASK; break;
	case REG_ICR_LO:
		l->icr_lo = val & ICR_LO_WRITABLE;
		send_ipi(l);
		break;
	case REG_TIMER_INIT:
		l->timer_initial = val;
		timer_restart(l, now, val);
		break;
	case REG_TIMER_DCR:
		count = current_count(l, now);
		l->dcr = val & DCR_MASK;
		if (l->timer_deadline != VDEV_NEVER)
			timer_restart(l, now, count);
		break;
	case REG_ID: /* read-only here: the firmware tables name the IDs */
	case REG_VERSION: case REG_APR: case REG_PPR: case REG_RRD:
	case REG_TIMER_CUR:
		break;
	default:
		if (reg < REG_ISR || reg >= REG_IRR + VEC_WORDS * REG_STRIDE)
			record_error(l, ESR_ILLEGAL_REG);
		break;
	}
}

/*
 * Registers are 32 bits at 16-byte strides (SDM 11.4.1): a read of any
 * size returns the bytes it covers (0 past a register's 4 bytes); only
 * an aligned 32- or 64-bit write reaches a register (the low 32 bits),
 * other writes are dropped.
 */
static uint64_t lapic_read(struct vdev *d, uint64_t off, unsigned size)
{
	struct lapic *l = &lapics[cur];
	uint64_t v = 0, reg = ~0ULL;
	uint32_t val = 0;
	unsigned i;

	for (i = 0; i < size; i++) {
		uint64_t a = off + i;
		if ((a & ~(uint64_t)(REG_STRIDE - 1)) != reg) {
			reg = a & ~(uint64_t)(REG_STRIDE - 1);
			val = reg_read(l, reg);
		}
		if (a % REG_STRIDE < REG_BYTES)
			v |= (uint64_t)((val >> (8 * (a % REG_STRIDE))) & 0xFF)
			     << (8 * i);
	}
	return v;
}

static void lapic_write(struct vdev *d, uint64_t off, unsigned size,
			uint64_t val)
{
	if (off % REG_STRIDE || size < REG_BYTES)
		return;
	reg_write(&lapics[cur], off, (uint32_t)val);
	if (off != REG_EOI)
		shadow_sync();
}

static struct vdev lapic_dev VDEV_SHARED = {
	.name = "lapic", .space = VDEV_MMIO, .base = LAPIC_BASE,
	.len = LAPIC_MMIO_LEN, .read = lapic_read, .write = lapic_write,
	.poll = lapic_poll,
};

/* Power-up state (SDM 11.4.7.1). */
static void lapic_reset(struct lapic *l, unsigned cpu)
{
	unsigned i;

	memset(l, 0, sizeof(*l));
	l->id = cpu << ID_SHIFT;
	l->dfr = DFR_FLAT | DFR_RESERVED_ONES;
	l->svr = SVR_RESET;
	for (i = 0; i < LVT_N; i++)
		l->lvt[i] = LVT_MASKED;
	l->timer_deadline = VDEV_NEVER;
}

int lapic_init(unsigned ncpus)
{
	unsigned i;

	if (ncpus == 0 || ncpus > LAPIC_MAX_CPUS)
		return -E_INVAL;
	nlapics = ncpus;
	cur = 0;
	for (i = 0; i < ncpus; i++)
		lapic_reset(&lapics[i], i);
	shadow_sync();
	return vdev_register(&lapic_dev);
}
