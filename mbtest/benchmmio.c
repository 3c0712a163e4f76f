/*
 * MMIO round trips of the multiboot test kernel (word "benchmmio"):
 * N reads of the LAPIC's ID register, which the host kernel answers
 * from the LAPIC model's read shadow (inc/vmrun.h, vmm/devexit.c), N
 * reads of its timer's current count, which only the user-space model
 * can answer (it changes with time), and N EOI writes (user space too),
 * each the average in TSC ticks (instructions under Bochs and QEMU
 * -icount). Before timing, it checks that the shadow follows the
 * guest's writes (TPR, LDR, LVT LINT0 read back at once) and that a
 * 4-byte read the kernel answers equals the same bytes read one at a
 * time, which the model answers.
 *
 * Invariants:
 * - Paging is off (multiboot): the LAPIC's guest-physical address is
 *   the address used. Interrupts stay off; the LAPIC state it changes
 *   is put back (TPR 0, LDR 0, LINT0 masked as at reset).
 * - A mismatch prints what differs and ends with FAIL_VALUE.
 */
#include "mb.h"

#define LAPIC_BASE 0xFEE00000U
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_LDR 0x0D0
#define LAPIC_LINT0 0x350
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_REG_BYTES 4
#define LVT_MASKED (1U << 16)
/* Values the check writes: a TPR class, a logical ID, an LVT vector. */
#define TPR_VALUE 0x20U
#define LDR_VALUE 0x01000000U
#define LINT0_VALUE (LVT_MASKED | 0x31U)
#define BENCH_MMIO 1000
#define BYTE_BITS 8

static volatile u32 *reg(u32 off)
{
	return (volatile u32 *)(LAPIC_BASE + off);
}

/* The register read a byte at a time (four MMIO exits the user-space
 * model answers, never the kernel's shadow: not 4-byte reads). */
static u32 read_bytes(u32 off)
{
	volatile u8 *p = (volatile u8 *)(LAPIC_BASE + off);
	u32 v = 0, i;

	for (i = 0; i < LAPIC_REG_BYTES; i++)
		v |= (u32)p[i] << (i * BYTE_BITS);
	return v;
}

static void mismatch(const char *what, u32 got, u32 want)
{
	puts("mbtest: lapic ");
	puts(what);
	puts(": read 0x");
	puthex(got);
	puts(", expected 0x");
	puthex(want);
	putc('\n');
	finish(FAIL_VALUE);
}

/* Write off, read it back at once (the shadow must follow), put old
 * back. */
static void write_check(const char *what, u32 off, u32 val)
{
	u32 old = *reg(off), got;

	*reg(off) = val;
	if ((got = *reg(off)) != val)
		mismatch(what, got, val);
	*reg(off) = old;
	if ((got = *reg(off)) != old)
		mismatch(what, got, old);
}

static void check(void)
{
	static const u32 same[] = { LAPIC_ID, LAPIC_VERSION, LAPIC_TPR,
				    LAPIC_LDR, LAPIC_LINT0 };
	u32 i, a, b;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if ((a = *reg(same[i])) != (b = read_bytes(same[i])))
			mismatch("4-byte read against its bytes", a, b);
	write_check("TPR", LAPIC_TPR, TPR_VALUE);
	write_check("LDR", LAPIC_LDR, LDR_VALUE);
	write_check("LINT0", LAPIC_LINT0, LINT0_VALUE);
	puts("mbtest: lapic reads follow writes\n");
}

static void show(const char *what, u64 ticks)
{
	puts("mbtest: mmio round trip, ");
	puts(what);
	puts(": ");
	/* Under 2^32 ticks in all (no 64-bit division in 32-bit code). */
	putu((u32)ticks / BENCH_MMIO);
	puts(" TSC ticks (average of ");
	putu(BENCH_MMIO);
	puts(")\n");
}

void bench_mmio(void)
{
	u64 t0;
	u32 i;

	check();
	t0 = rdtsc();
	for (i = 0; i < BENCH_MMIO; i++)
		(void)*reg(LAPIC_ID);
	show("lapic id read (kernel)", rdtsc() - t0);
	t0 = rdtsc();
	for (i = 0; i < BENCH_MMIO; i++)
		(void)*reg(LAPIC_TIMER_CUR);
	show("lapic timer count read (vmm)", rdtsc() - t0);
	t0 = rdtsc();
	for (i = 0; i < BENCH_MMIO; i++)
		*reg(LAPIC_EOI) = 0;
	show("lapic eoi write (vmm)", rdtsc() - t0);
}
