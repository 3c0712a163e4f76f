/*
 * Starting application processors and what they do once started
 * (smpap.h): the boot CPU copies aptramp.S's trampoline, fills in its
 * own GDTR and selectors, and sends INIT then STARTUP; each AP arrives
 * in ap_main on its own stack, loads the shared IDT, enables its LAPIC
 * and does smp_ap_mode's work. AP_BEAT's loop writes its TPR each
 * round: that exit is where its VMM process hands it the IPIs other
 * vCPUs sent (as of now nothing else does: a loop with no exit never
 * takes one).
 *
 * Invariants:
 * - Every vector from FIRST_EXTERNAL up, and NMI, is counted per CPU in
 *   smp_seen[APIC ID][vector] by smp_count, which sends the EOI (NMI
 *   takes none). Vectors below FIRST_EXTERNAL
 *   never reach an AP: its TPR blocks their priority class (11.8.3.1),
 *   and an exception there still fails the guest (intr.c).
 * - The trampoline page is written before the STARTUP that names it.
 */
#include "smpap.h"
#include "intr.h"
#include "devtest.h"

/* Blocks priority class 1 (vectors 16-31, which would be taken for
 * exceptions by intr.c) and lets every external vector through. */
#define AP_TPR 0x10
#define SPURIOUS SVR_VECTOR

volatile u32 smp_ap_mode;
volatile u32 smp_started[SMP_IDS];
volatile u32 smp_beat[SMP_IDS];
volatile u32 smp_seen[SMP_IDS][SMP_NVEC];
volatile u32 smp_arrived;
volatile u32 smp_lock;
/* For aptramp.S: the next free stack and the boot CPU's data selector. */
volatile u32 ap_next_slot;
u16 ap_ds;
u8 ap_stacks[SMP_AP_MAX][1 << SMP_AP_STACK_SHIFT] __attribute__((aligned(16)));

extern const u8 ap_tramp[], ap_tramp_end[], tr_gdtr[], tr_jump[];
extern const u8 ap_pm32[];

void lapic_w(u32 reg, u32 v)
{
	*(volatile u32 *)(LAPIC_BASE + reg) = v;
}

u32 lapic_r(u32 reg)
{
	return *(volatile u32 *)(LAPIC_BASE + reg);
}

u32 lapic_id(void)
{
	return (lapic_r(L_ID) >> ID_SHIFT) % SMP_IDS;
}

void ipi(u32 dest, u32 lo)
{
	lapic_w(L_ICR_HI, dest << ID_SHIFT);
	lapic_w(L_ICR_LO, lo);
}

void smp_count(u32 vec)
{
	u32 id = lapic_id();

	smp_seen[id][vec]++;
	if (id != 0 && vec == PING_VECTOR && smp_ap_mode == AP_PONG)
		ipi(0, ICR_FIXED | PONG_VECTOR);
	/* A fixed IPI may use the spurious vector too: it needs the EOI,
	 * and one with nothing in service does nothing. */
	if (vec != NMI_VECTOR)
		lapic_w(L_EOI, 0);
}

int smp_wait(volatile u32 *w, u32 want, u32 ms)
{
	u64 t0 = rdtsc(), limit = (u64)tsc_per_ms() * ms;

	while (*w < want && rdtsc() - t0 < limit)
		asm volatile("pause");
	return *w >= want;
}

void smp_lock_take(void)
{
	u32 v;

	for (;;) {
		v = 1;
		asm volatile("xchgl %0, %1" : "+r"(v), "+m"(smp_lock));
		if (v == 0)
			return;
		asm volatile("pause");
	}
}

static void __attribute__((noreturn)) spin_forever(void)
{
	for (;;)
		asm volatile("pause");
}

void __attribute__((noreturn)) ap_main(u32 slot)
{
	u32 id = lapic_id();

	(void)slot;
	intr_load();
	lapic_w(L_TPR, AP_TPR);
	lapic_w(L_SVR, SVR_ENABLE | SPURIOUS);
	smp_started[id]++;
	asm volatile("lock incl %0" : "+m"(smp_arrived));
	if (smp_ap_mode == AP_CLI_SPIN)
		spin_forever();
	if (smp_ap_mode == AP_PARK)
		for (;;)
			asm volatile("cli; hlt");
	if (smp_ap_mode == AP_HOLD_LOCK) {
		smp_lock_take();
		spin_forever();
	}
	sti();
	if (smp_ap_mode == AP_IDLE)
		spin_forever();
	for (;;) {
		smp_beat[id]++;
		/* An exit to this vCPU's VMM process: a fixed IPI another
		 * vCPU sent waits in our IRR until such a hand-off (no
		 * kick yet), so a loop with no exits would never take it. */
		lapic_w(L_TPR, AP_TPR);
	}
}

/* The boot CPU's IDT, with smp_count on every vector an AP may take. */
static void handlers_init(void)
{
	static int done;
	u32 v;

	if (done++)
		return;
	intr_init();
	for (v = FIRST_EXTERNAL; v < SMP_NVEC; v++)
		intr_set(v, smp_count);
	intr_set(NMI_VECTOR, smp_count);
}

static void tramp_init(void)
{
	u8 *t = (u8 *)SMP_TRAMP_PA;
	u32 i, n = ap_tramp_end - ap_tramp;
	u16 cs, ds;

	for (i = 0; i < n; i++)
		t[i] = ap_tramp[i];
	asm volatile("sgdt %0" : "=m"(*(t + (tr_gdtr - ap_tramp))));
	asm volatile("movw %%cs, %0; movw %%ds, %1" : "=r"(cs), "=r"(ds));
	*(u32 *)(t + (tr_jump - ap_tramp)) = (u32)ap_pm32;
	*(u16 *)(t + (tr_jump - ap_tramp) + 4) = cs;
	ap_ds = ds;
}

void smp_boot(u32 dest, u32 shorthand)
{
	/* Calibrated while this CPU is the VM's only one: once APs run, a
	 * host CPU shared with them may preempt it inside a measurement. */
	(void)tsc_per_ms();
	handlers_init();
	tramp_init();
	lapic_w(L_SVR, SVR_ENABLE | SPURIOUS);
	ipi(dest, shorthand | ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT);
	ipi(dest, shorthand | ICR_INIT | ICR_LEVEL_TRIGGER);
	ipi(dest, shorthand | ICR_STARTUP | (SMP_TRAMP_PA >> 12));
}
