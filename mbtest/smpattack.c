/*
 * Multi-vCPU attacks (vmm -c N -k /vmm/mbtest -a 'smpattack...'): what a
 * guest with several CPUs may aim at its LAPICs and at the host, each
 * checked against what the SDM (vol. 3A 9.4, 11.6) and the model's
 * documented limits (vmmdev/lapic.c: INIT of a running vCPU refused,
 * modes other than fixed, lowest priority, INIT and STARTUP dropped)
 * allow. The word "smpattack" starts CPU 1 (-c 2) and runs every attack
 * the guest survives, in one boot, then exits while CPU 1 still runs;
 * "smpattack-NAME" runs an attack alone: those that never end (the
 * grade ends them with vmm kill or Ctrl-] q), those that may end the
 * VM, and the one that needs -c 8.
 *
 * Invariants:
 * - Every attack prints "smpattack: NAME ok: ..." or "smpattack: NAME
 *   FAIL: why" (and the guest fails): the grade matches each name.
 * - No attack depends on how fast an IPI reaches another vCPU (it is
 *   taken at that vCPU's next hand-off): waits are generous and end
 *   early when the count is reached; nothing is timed.
 */
#include "smpap.h"
#include "intr.h"
#include "devtest.h"

#define AP 1
/* Generous: an IPI reaches a running vCPU at its next hand-off, and
 * Bochs is slow. Each wait ends as soon as it is met. */
#define WAIT_MS 20000
/* Long enough for a wrong restart or delivery to have shown. */
#define SETTLE_MS 300
#define STORM 1000
#define MODE_STORM 100
#define STORM_ROUNDS 4
#define FIRST_LEGAL 16
#define ABSENT_VECTOR 0x50
#define BROADCAST_VECTOR 0x60
#define LOWEST_VECTOR 0x70
#define ESR_SEND_ILLEGAL 0x20
#define COUNT_CPUS 8
#define BAD_VECTOR_FF 0xFF
#define BAD_VECTOR_00 0x00

static void fail(const char *name, const char *why, u32 v)
{
	cli();
	puts("smpattack: ");
	puts(name);
	puts(" FAIL: ");
	puts(why);
	puts(" (");
	puthex(v);
	puts(")\n");
	finish(FAIL_VALUE);
}

static void ok(const char *name, const char *what, u32 v)
{
	puts("smpattack: ");
	puts(name);
	puts(" ok: ");
	puts(what);
	putc('=');
	putu(v);
	putc('\n');
}

/* CPU id keeps counting heartbeats (it still runs its loop). */
static void beating(const char *name, u32 id)
{
	u32 b = smp_beat[id];

	if (!smp_wait(&smp_beat[id], b + 1, WAIT_MS))
		fail(name, "the AP stopped beating", id);
}

static void settle(void)
{
	volatile u32 never = 0;

	smp_wait(&never, 1, SETTLE_MS);
}

static void start_ap(const char *name, u32 mode)
{
	smp_ap_mode = mode;
	smp_boot(AP, 0);
	if (!smp_wait(&smp_started[AP], 1, WAIT_MS))
		fail(name, "CPU 1 did not start", smp_started[AP]);
}

static void started_once(const char *name)
{
	settle();
	if (smp_started[AP] != 1 || smp_started[0] != 0)
		fail(name, "a CPU started again (CPU 1's starts)",
		     smp_started[AP]);
	beating(name, AP);
}

/* 2: STARTUPs to the running AP at every vector: ignored. */
static void sipi_storm(const char *n)
{
	u32 i;

	for (i = 0; i < STORM; i++)
		ipi(AP, ICR_STARTUP | (i & VECTOR_MASK));
	started_once(n);
	ok(n, "startups", STORM);
}

/* 3: INIT (assert, de-assert) storm at the running AP, then STARTUP:
 * INIT of a running vCPU is refused, so the STARTUP finds it running. */
static void init_storm(const char *n)
{
	u32 i;

	for (i = 0; i < STORM; i++) {
		ipi(AP, ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT);
		ipi(AP, ICR_INIT | ICR_LEVEL_TRIGGER);
	}
	ipi(AP, ICR_STARTUP | (SMP_TRAMP_PA >> 12));
	started_once(n);
	ok(n, "inits", STORM);
}

/* 4: INIT to itself, by shorthand and by its own ID: this CPU goes on. */
static void init_self(const char *n)
{
	u32 i;

	for (i = 0; i < STORM; i++) {
		ipi(0, ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT |
			       (i & 1 ? ICR_SELF : 0));
		ipi(0, ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT | ICR_ALL);
	}
	started_once(n);
	ok(n, "inits", 2 * STORM);
}

/* 5: STARTUP to itself (shorthand, own ID, all including self) at the
 * trampoline: had it started this CPU, smp_started[0] would count it. */
static void startup_self(const char *n)
{
	u32 i, v = SMP_TRAMP_PA >> 12;

	for (i = 0; i < STORM; i++) {
		ipi(0, ICR_STARTUP | v | (i & 1 ? ICR_SELF : 0));
		ipi(0, ICR_STARTUP | v | ICR_ALL);
	}
	started_once(n);
	ok(n, "startups", 2 * STORM);
}

/* 6a: fixed IPIs to every absent physical ID (2 .. 254): nobody takes
 * them. */
static void absent_ids(const char *n)
{
	u32 id;

	for (id = AP + 1; id < APIC_BROADCAST; id++)
		ipi(id, ICR_FIXED | ABSENT_VECTOR);
	sti();
	settle();
	cli();
	if (smp_seen[0][ABSENT_VECTOR] || smp_seen[AP][ABSENT_VECTOR])
		fail(n, "a CPU took an IPI sent to absent IDs",
		     smp_seen[AP][ABSENT_VECTOR]);
	beating(n, AP);
	ok(n, "ids", APIC_BROADCAST - AP - 1);
}

/* 6b: physical destination 0xFF is a broadcast: both CPUs take it. */
static void broadcast(const char *n)
{
	ipi(APIC_BROADCAST, ICR_FIXED | BROADCAST_VECTOR);
	sti();
	if (!smp_wait(&smp_seen[0][BROADCAST_VECTOR], 1, WAIT_MS))
		fail(n, "CPU 0 missed the broadcast", 0);
	if (!smp_wait(&smp_seen[AP][BROADCAST_VECTOR], 1, WAIT_MS))
		fail(n, "CPU 1 missed the broadcast", AP);
	cli();
	ok(n, "cpus", 2);
}

/* 7: every vector, STORM_ROUNDS times, at the sibling. 0-15 are illegal
 * (the sender's ESR says so, nobody takes them); 16-31 wait in its IRR
 * below its TPR; every other one is taken at least once. */
static void vector_storm(const char *n)
{
	u32 r, v;

	lapic_w(L_ESR, 0);
	for (r = 0; r < STORM_ROUNDS; r++)
		for (v = 0; v < SMP_NVEC; v++)
			ipi(AP, ICR_FIXED | v);
	lapic_w(L_ESR, 0);
	if (!(lapic_r(L_ESR) & ESR_SEND_ILLEGAL))
		fail(n, "no send-illegal-vector error (ESR)", lapic_r(L_ESR));
	for (v = FIRST_EXTERNAL; v < SMP_NVEC; v++)
		if (!smp_wait(&smp_seen[AP][v], 1, WAIT_MS))
			fail(n, "CPU 1 never took vector", v);
	for (v = 0; v < FIRST_EXTERNAL; v++)
		if (smp_seen[AP][v])
			fail(n, "CPU 1 took a vector below 32", v);
	beating(n, AP);
	ok(n, "vectors", SMP_NVEC * STORM_ROUNDS);
}

/* 8: lowest priority (taken, as fixed), SMI, NMI, reserved and ExtINT
 * (dropped by the model: vmmdev/lapic.c); the sibling goes on. */
static void modes(const char *n)
{
	static const u32 dropped[] = { ICR_SMI, ICR_NMI, ICR_RESERVED3,
				       ICR_EXTINT | LOWEST_VECTOR };
	u32 i, m;

	for (i = 0; i < MODE_STORM; i++) {
		ipi(AP, ICR_LOWEST | LOWEST_VECTOR);
		for (m = 0; m < sizeof(dropped) / sizeof(dropped[0]); m++) {
			ipi(AP, dropped[m]);
			ipi(0, dropped[m] | ICR_ALL_BUT_SELF);
		}
	}
	if (!smp_wait(&smp_seen[AP][LOWEST_VECTOR], 1, WAIT_MS))
		fail(n, "CPU 1 never took the lowest-priority IPI", 0);
	beating(n, AP);
	ok(n, "nmis taken", smp_seen[AP][NMI_VECTOR]);
}

/* 12: the boot CPU exits (port 0xf4, from mbtest_main) while CPU 1 runs. */
static void bsp_exit(const char *n)
{
	beating(n, AP);
	ok(n, "CPU 1 beats", smp_beat[AP]);
}

/* 1: CPU 1 spins with interrupts off; this CPU waits for a flag nobody
 * sets. The grade ends the VM (Ctrl-] q or vmm kill). */
static void cli_spin(const char *n)
{
	volatile u32 never = 0;

	start_ap(n, AP_CLI_SPIN);
	puts("smpattack: cli-spin: both CPUs spin\n");
	while (!never)
		asm volatile("pause");
}

/* 10: CPU 1 holds the lock, this CPU spins on it. */
static void lock_held(const char *n)
{
	start_ap(n, AP_HOLD_LOCK);
	while (!smp_lock)
		asm volatile("pause");
	puts("smpattack: lock-held: CPU 1 holds the lock, CPU 0 spins on it\n");
	smp_lock_take();
}

/* 9: (-c 8) every AP started at once by an all-but-self INIT-STARTUP;
 * each and this CPU count themselves in smp_arrived. */
static void count8(const char *n)
{
	u32 id;

	/* Quiet APs: seven loops of exits would share the test host's one
	 * CPU with this one's count. */
	smp_ap_mode = AP_IDLE;
	smp_boot(0, ICR_ALL_BUT_SELF);
	asm volatile("lock incl %0" : "+m"(smp_arrived));
	if (!smp_wait(&smp_arrived, COUNT_CPUS, WAIT_MS))
		fail(n, "not every CPU arrived", smp_arrived);
	settle();
	for (id = 1; id < COUNT_CPUS; id++)
		if (smp_started[id] != 1)
			fail(n, "a CPU did not start exactly once", id);
	if (smp_arrived != COUNT_CPUS)
		fail(n, "more CPUs than there are", smp_arrived);
	ok(n, "cpus", smp_arrived);
}

/* 11: CPU 1 started at a page that is the BIOS area or not RAM, or the
 * real-mode IVT: whatever it runs, the host stays whole; this CPU goes
 * on and exits unless the VM was ended for CPU 1. */
static void sipi_at(const char *n, u32 vector)
{
	lapic_w(L_SVR, SVR_ENABLE | SVR_VECTOR);
	ipi(AP, ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT);
	ipi(AP, ICR_INIT | ICR_LEVEL_TRIGGER);
	ipi(AP, ICR_STARTUP | vector);
	settle();
	settle();
	ok(n, "vector", vector);
}

/* 15: CPU 1 parks (cli; hlt) and this CPU goes on (the VMM says CPU
 * 1 parked); after SETTLE_MS this CPU parks too, and the VMM ends
 * the VM: no vCPU could ever wake. */
static void park(const char *n)
{
	start_ap(n, AP_PARK);
	settle();
	puts("smpattack: park: CPU 0 goes on\n");
	for (;;)
		asm volatile("cli; hlt");
}

static void sipi_ff(const char *n) { sipi_at(n, BAD_VECTOR_FF); }
static void sipi_00(const char *n) { sipi_at(n, BAD_VECTOR_00); }

struct smpattack {
	const char *word;
	void (*fn)(const char *name);
	int alone;	/* only as "smpattack-WORD" */
};

static const struct smpattack attacks[] = {
	{ "sipi-storm", sipi_storm, 0 },
	{ "init-storm", init_storm, 0 },
	{ "init-self", init_self, 0 },
	{ "startup-self", startup_self, 0 },
	{ "absent-ids", absent_ids, 0 },
	{ "broadcast", broadcast, 0 },
	{ "vector-storm", vector_storm, 0 },
	{ "modes", modes, 0 },
	{ "bsp-exit", bsp_exit, 0 },
	{ "cli-spin", cli_spin, 1 },
	{ "lock-held", lock_held, 1 },
	{ "count8", count8, 1 },
	{ "sipi-ff", sipi_ff, 1 },
	{ "sipi-00", sipi_00, 1 },
	{ "park", park, 1 },
	{ 0, 0, 0 },
};

void smpattack(const char *cmdline)
{
	const struct smpattack *a;
	int all = has_word(cmdline, "smpattack");
	u32 n = 0;

	if (all)
		start_ap("smpattack", AP_BEAT);
	for (a = attacks; a->word; a++)
		if ((all && !a->alone) || has_prefixed_word(cmdline, "smpattack-", a->word)) {
			a->fn(a->word);
			n++;
		}
	if (n) {
		puts("smpattack: ");
		putu(n);
		puts(" attacks survived\n");
	}
}
