/*
 * Application processors for the multi-vCPU attacks (smpattack*.c): the
 * boot CPU starts them with INIT and STARTUP through its LAPIC, each
 * enters ap_main (smpap.c) in 32-bit protected mode on a stack of its
 * own, counts its start in smp_started[its APIC ID], and then does what
 * smp_ap_mode says. Shared by C and aptramp.S.
 *
 * Invariants:
 * - Everything an AP and the boot CPU share is volatile and indexed by
 *   APIC ID (< SMP_IDS): no two CPUs write one word, except the counter
 *   smp_arrived and smp_lock, which use locked instructions.
 * - An AP never executes HLT with interrupts off (the host ends the
 *   whole VM for that: nothing could ever wake it).
 */
#ifndef MBTEST_SMPAP_H
#define MBTEST_SMPAP_H

/* At most this many APs get a stack (the host's VM_MAX_VCPUS is 8). */
#define SMP_AP_MAX 8
#define SMP_AP_STACK_SHIFT 12
/* The trampoline's page: free low RAM, below the EBDA and away from the
 * loader's information (0x8000); its page number is the SIPI vector. */
#define SMP_TRAMP_PA 0x30000

#ifndef __ASSEMBLER__
#include "mb.h"

#define SMP_IDS 16
#define SMP_NVEC 256

#define LAPIC_BASE 0xFEE00000U
#define L_ID 0x020
#define L_TPR 0x080
#define L_EOI 0x0B0
#define L_SVR 0x0F0
#define L_ESR 0x280
#define L_ICR_LO 0x300
#define L_ICR_HI 0x310
#define SVR_ENABLE 0x100
#define SVR_VECTOR 0xFF
#define ID_SHIFT 24
#define ICR_FIXED 0x000
#define ICR_LOWEST 0x100
#define ICR_SMI 0x200
#define ICR_RESERVED3 0x300
#define ICR_NMI 0x400
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_EXTINT 0x700
#define ICR_LEVEL_ASSERT 0x4000
#define ICR_LEVEL_TRIGGER 0x8000
#define ICR_SELF (1U << 18)
#define ICR_ALL (2U << 18)
#define ICR_ALL_BUT_SELF (3U << 18)
#define APIC_BROADCAST 0xFF
#define VECTOR_MASK 0xFF
#define NMI_VECTOR 2

/* What an AP does once in C (smp_ap_mode, set before it starts). */
enum ap_mode {
	AP_BEAT,	/* interrupts on, count heartbeats (one exit each) */
	AP_CLI_SPIN,	/* interrupts off, spin for ever */
	AP_HOLD_LOCK,	/* take smp_lock, then spin with interrupts off */
	AP_PONG,	/* as AP_BEAT; its IPI handler answers the sender */
	AP_IDLE,	/* interrupts on, spin with no exit (takes no IPI) */
	AP_PARK,	/* cli; hlt: the VMM parks this vCPU for good */
};

extern volatile u32 smp_ap_mode;
extern volatile u32 smp_started[SMP_IDS];
extern volatile u32 smp_beat[SMP_IDS];
extern volatile u32 smp_seen[SMP_IDS][SMP_NVEC];
extern volatile u32 smp_arrived;
extern volatile u32 smp_lock;

void lapic_w(u32 reg, u32 v);
u32 lapic_r(u32 reg);
u32 lapic_id(void);
void ipi(u32 dest, u32 lo);
/* Copy the trampoline, enable this CPU's LAPIC with every vector counted
 * (smp_seen), INIT-STARTUP to dest (or all but self with shorthand set),
 * at the trampoline's vector. */
void smp_boot(u32 dest, u32 shorthand);
/* Wait up to ms for *w >= want; whether it got there. */
int smp_wait(volatile u32 *w, u32 want, u32 ms);
/* Take smp_lock (spinning with pause until it is free). */
void smp_lock_take(void);
/* The handler every vector from FIRST_EXTERNAL (and NMI) gets. */
void smp_count(u32 vec);
/* AP_PONG's answer vector, and the one the boot CPU pings with. */
#define PING_VECTOR 0x41
#define PONG_VECTOR 0x42

#endif /* !__ASSEMBLER__ */
#endif /* !MBTEST_SMPAP_H */
