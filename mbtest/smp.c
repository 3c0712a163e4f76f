/*
 * The word "smp" (vmm -c 2 -k /vmm/mbtest -a smp): start CPU 1 the way
 * an MP operating system does, INIT (assert, de-assert) then STARTUP
 * through the local APIC's ICR (SDM vol. 3A 9.4.4.1, 11.6.1), and see
 * it run a real-mode trampoline at vector << 12 that counts its starts
 * in a byte beside it. Then what a guest may throw at the model: a
 * second STARTUP, INIT and STARTUP again to the running CPU 1, STARTUP
 * storms by shorthand and to every physical ID (absent ones too), INIT
 * to itself. In this slice none of them may start CPU 1 again (INIT of
 * a running vCPU is refused: docs/device-model.md), so the count stays
 * 1. CPU 1 halts with interrupts on (none comes: its LAPIC stays
 * software-disabled; a HLT with interrupts off ends the whole VM in the
 * kernel, which takes it for a guest that can never wake up); the guest
 * then exits through the debug-exit port while CPU 1 is halted.
 *
 * Invariants: the trampoline's page (TRAMP_PA) is free low RAM: below
 * the EBDA, away from the loader's information (0x8000) and its stub.
 */
#include "mb.h"
#include "devtest.h"

#define LAPIC 0xFEE00000U
#define L_ID 0x020
#define L_SVR 0x0F0
#define L_ICR_LO 0x300
#define L_ICR_HI 0x310
#define SVR_ENABLE 0x100
#define SVR_VECTOR 0xFF
#define ID_SHIFT 24
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_LEVEL_ASSERT 0x4000
#define ICR_LEVEL_TRIGGER 0x8000
#define ICR_SELF (1U << 18)
#define ICR_ALL_BUT_SELF (3U << 18)
#define APIC_IDS 256
#define AP_ID 1
/* The trampoline: its page's number is the STARTUP vector. */
#define TRAMP_PA 0x20000U
#define TRAMP_VECTOR (TRAMP_PA >> 12)
#define COUNT_OFF 0x100
/* How long CPU 1 may take to start, and to be seen not restarted. */
#define START_WAIT_MS 5000
#define SETTLE_MS 200
#define STORM 1000
#define VECTOR_MASK 0xFF

/*
 * Real mode, CS = TRAMP_VECTOR << 8, IP = 0 (hand-assembled):
 *   inc byte cs:[COUNT_OFF]
 *   sti
 *   hlt
 *   jmp short (back to hlt)
 */
static const u8 trampoline[] = {
	0x2E, 0xFE, 0x06, COUNT_OFF & 0xFF, COUNT_OFF >> 8,
	0xFB,
	0xF4,
	0xEB, 0xFD,
};

static void lapic_w(u32 reg, u32 v)
{
	*(volatile u32 *)(LAPIC + reg) = v;
}

static u32 lapic_r(u32 reg)
{
	return *(volatile u32 *)(LAPIC + reg);
}

static void ipi(u32 dest, u32 lo)
{
	lapic_w(L_ICR_HI, dest << ID_SHIFT);
	lapic_w(L_ICR_LO, lo);
}

static volatile u8 *count(void)
{
	return (volatile u8 *)(TRAMP_PA + COUNT_OFF);
}

/* Wait up to ms of TSC time for the count to reach want; the count. */
static u8 wait_count(u8 want, u32 ms)
{
	u64 t0 = rdtsc(), limit = (u64)tsc_per_ms() * ms;

	while (*count() < want && rdtsc() - t0 < limit)
		asm volatile("pause");
	return *count();
}

static void fail(const char *why, u32 got)
{
	puts("mbtest: smp FAILED: ");
	puts(why);
	puts(" (count ");
	putu(got);
	puts(")\n");
	finish(FAIL_VALUE);
}

/* What a guest may send once CPU 1 runs: none of it restarts it. */
static u32 storms(void)
{
	u32 i, n = 0;

	ipi(AP_ID, ICR_STARTUP | TRAMP_VECTOR);
	ipi(AP_ID, ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT);
	ipi(AP_ID, ICR_INIT | ICR_LEVEL_TRIGGER);
	ipi(AP_ID, ICR_STARTUP | TRAMP_VECTOR);
	n += 4;
	for (i = 0; i < STORM; i++, n++)
		ipi(0, ICR_STARTUP | ICR_ALL_BUT_SELF | (i & VECTOR_MASK));
	for (i = 0; i < APIC_IDS; i++, n++)
		ipi(i, ICR_STARTUP | TRAMP_VECTOR);
	ipi(0, ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT | ICR_SELF);
	return n + 1;
}

void smp_test(void)
{
	u32 i, n;
	u8 c;

	if (lapic_r(L_ID) >> ID_SHIFT != 0)
		fail("the boot CPU's APIC ID is not 0", 0);
	for (i = 0; i < sizeof(trampoline); i++)
		((volatile u8 *)TRAMP_PA)[i] = trampoline[i];
	*count() = 0;
	lapic_w(L_SVR, SVR_ENABLE | SVR_VECTOR);
	ipi(AP_ID, ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT);
	ipi(AP_ID, ICR_INIT | ICR_LEVEL_TRIGGER);
	ipi(AP_ID, ICR_STARTUP | TRAMP_VECTOR);
	if ((c = wait_count(1, START_WAIT_MS)) != 1)
		fail("CPU 1 did not start once", c);
	puts("mbtest: smp: CPU 1 started at vector ");
	puthex(TRAMP_VECTOR);
	putc('\n');
	n = storms();
	if ((c = wait_count(2, SETTLE_MS)) != 1)
		fail("CPU 1 started again", c);
	puts("mbtest: smp: ");
	putu(n);
	puts(" INIT and STARTUP IPIs later CPU 1 started once\n");
}
