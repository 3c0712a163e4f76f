/*
 * The guest-side device tests of the multiboot test kernel: one file per
 * device (devtest_uart.c, devtest_ide.c, devtest_pit.c, devtest_rtc.c,
 * devtest_lapic.c, devtest_irq.c), each driving its device through the
 * VMM's real path (port I/O and MMIO exits, interrupts injected through
 * the emulated PIC or IOAPIC and LAPIC). devtest_all.c runs the ones the
 * command line names ("devtest-uart" ... or "devtest-all") and holds
 * what they share: failure lines, the PIC set-up, bounded waits.
 *
 * Each test prints "mbtest: DEVICE ok" or one line
 * "mbtest: DEVICE FAILED: what (got X, want Y)" and then finish()es
 * with FAIL_VALUE.
 *
 * Invariants:
 * - A timed event is known only between two TSC readings (struct
 *   dt_when, devtest_time.c): the host (an emulator, loaded by other
 *   work) may stop the guest for milliseconds anywhere, so rates are
 *   taken only from events whose windows are narrow for the span they
 *   measure.
 * - Every wait is bounded (dt_wait_ms / DT_SPIN_MAX): a broken device
 *   model fails the test, it never hangs it.
 * - A test leaves the PIC masked (all lines but the cascade), the LAPIC
 *   software-disabled with its timer stopped, every IOAPIC entry it set
 *   masked, interrupts off, and COM1 polled, as com_init left it.
 * - 32-bit code has no 64-bit division (no libgcc): a test divides
 *   32-bit values, compares products, or uses div64_32.
 */
#ifndef MBTEST_DEVTEST_H
#define MBTEST_DEVTEST_H

#include "mb.h"
#include "intr.h"

/* The PIC's vectors during the tests (ICW2); devtest_irq.c moves them
 * to others of its own to see that the programmed base counts. */
#define DT_PIC_MASTER_VEC 0x20
#define DT_PIC_SLAVE_VEC 0x28
#define PIC_CASCADE 2
/* The most polls of a status bit before a device is taken as hung. */
#define DT_SPIN_MAX 1000000
/* The most estimates dt_period takes. */
#define DT_MAX_ESTIMATES 64

/* ISA IRQs of the PC's devices. */
#define IRQ_PIT 0
#define IRQ_COM1 4
#define IRQ_RTC 8
#define IRQ_IDE 14

/* devtest_all.c */
void devtests(const char *cmdline);
void __attribute__((noreturn)) dt_fail(const char *dev, const char *what,
				       u32 got, u32 want);
void dt_check(const char *dev, const char *what, u32 got, u32 want);
void dt_near(const char *dev, const char *what, u64 got, u64 want,
	     u32 pct);
void dt_ok(const char *dev);
void pic_setup(u8 master_vec, u8 slave_vec);
void pic_mask_all(void);
void pic_unmask(u32 irq);
void pic_eoi(u32 irq);
int dt_wait_ms(volatile u32 *count, u32 want, u32 ms);

/* devtest_time.c: a moment known to lie in [lo, hi] (TSC ticks). */
struct dt_when {
	u64 lo, hi;
};
void dt_stamp(struct dt_when *w);
int dt_tight(const struct dt_when *w, u32 width);
u64 dt_mid(const struct dt_when *w);
u32 dt_period(const char *dev, const struct dt_when *w, u32 n, u32 want);
u32 dt_median(u32 *v, u32 n);
void dt_poll_mark(void);
void dt_poll_reset(void);

/* devtest_pit.c: the TSC's ticks per ms, measured against PIT channel 2
 * as a BIOS measures it (once; later calls return the same). */
u32 tsc_per_ms(void);

/* devtest_lapic.c: the LAPIC on (SVR), its EOI, its MMIO registers. */
void lapic_enable(u8 spurious);
void lapic_disable(void);
void lapic_eoi(void);
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 v);

void devtest_uart(void);
void devtest_ide(void);
void devtest_pit(void);
void devtest_rtc(void);
void devtest_lapic(void);
void devtest_irq(void);

/* n / d for a quotient that fits 32 bits (n >> 32 < d), by one divl:
 * 32-bit code has no 64-bit division of its own. */
static inline u32 div64_32(u64 n, u32 d)
{
	u32 q, r;

	asm("divl %4" : "=a"(q), "=d"(r)
	    : "a"((u32)n), "d"((u32)(n >> 32)), "rm"(d));
	return q;
}

static inline u32 mmio_read32(u32 pa)
{
	return *(volatile u32 *)pa;
}

static inline void mmio_write32(u32 pa, u32 v)
{
	*(volatile u32 *)pa = v;
}

#endif /* !MBTEST_DEVTEST_H */
