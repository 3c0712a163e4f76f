/*
 * The hostile-guest harness's attacks on interrupt handling (the rest is
 * attack.c, which runs them): interrupts off in every way a guest can
 * spin or wait, timer ticks, interrupt shadows; and the attacks that run
 * before the guest has an IDT (ATTACK_BEFORE_IDT).
 *
 * Invariants: attack.c's: each runs on the guest's only CPU, with
 * interrupts off unless it turns them on, before any env exists. Those
 * that spin for ever print a line first (a test attached to the guest
 * waits for it); the host must stay responsive and `vmm kill` or Ctrl-]
 * must end them.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/stdio.h>
#include <inc/vmx.h>

#include <testpayload/attack.h>
#include <testpayload/attack_int.h>

#ifndef VMM_GUEST
#error "the hostile-guest harness is built only into the guest kernel"
#endif

/* MONITOR's operand: any memory. */
static uint64_t monitor_line;

static void a_cli_spin(void)
{
	cprintf("attack %s: spinning with interrupts off\n",
		attack_current->name);
	for (;;)
		asm volatile("cli");
}

static void a_cli_hlt(void) { asm volatile("cli; hlt"); }

/*
 * Spinning with interrupts off without touching IF again: nothing in the
 * loop changes RFLAGS.IF, unlike cli-spin's. Bochs 2.7 keeps the host's
 * interrupts out of such a guest until it changes IF: on VT-x the VMM
 * bounds that with the preemption timer (vmm/vtx/preempt.c).
 */
static void a_cli_pause(void)
{
	cprintf("attack %s: pause with interrupts off\n",
		attack_current->name);
	asm volatile("cli");
	for (;;)
		pause();
}

static void a_cli_jmp(void)
{
	cprintf("attack %s: jmp to itself with interrupts off\n",
		attack_current->name);
	asm volatile("cli; 1: jmp 1b");
}

/* Exits that the VMM handles on its lock-free fast path, back to back,
 * interrupts off. */
static void a_cli_cpuid(void)
{
	cprintf("attack %s: CPUID with interrupts off\n",
		attack_current->name);
	asm volatile("cli");
	for (;;)
		cpuid(0, 0, NULL, NULL, NULL, NULL);
}

/* Later in life: the guest has taken timer ticks (as sti-hlt), then
 * turns interrupts off while one may be waiting for it, and spins. */
static void a_tick_cli_pause(void)
{
	while (attack_events < TIMER_TICKS)
		asm volatile("sti; hlt; cli");
	cprintf("attack %s: %lu ticks, now pause with interrupts off\n",
		attack_current->name, attack_events);
	for (;;)
		pause();
}

/* Before the guest has an IDT (ATTACK_BEFORE_IDT), interrupts off. */
static void a_boot_cli_pause(void)
{
	cprintf("attack %s: no IDT, pause with interrupts off\n",
		attack_current->name);
	asm volatile("cli");
	for (;;)
		pause();
}

/* Before the guest has an IDT, interrupts on: the first timer tick the
 * VMM injects cannot be delivered (a triple fault, reported). */
static void a_boot_sti_pause(void)
{
	cprintf("attack %s: no IDT, pause with interrupts on\n",
		attack_current->name);
	asm volatile("sti");
	for (;;)
		pause();
}

static void a_mwait_cli(void)
{
	cprintf("attack %s: monitor, cli, mwait\n", attack_current->name);
	for (;;)
		asm volatile("monitor; cli; mwait"
			     : : "a"(&monitor_line), "c"(0), "d"(0));
}

/* A single-stepped hypercall in a MOV-SS shadow. */
static void a_movss_hypercall(void)
{
	uint16_t ss;

	asm volatile("movw %%ss, %0" : "=r"(ss));
	write_eflags(read_eflags() | FL_TF);
	asm volatile("movw %0, %%ss\n\t" HYPERCALL_INSN
		     : : "r"(ss), "a"((uint64_t)VMCALL_VERSION),
		       HYPERCALL_VENDOR
		     : "memory", "cc");
	write_eflags(read_eflags() & ~FL_TF);
	attack_survived("%lu debug traps", attack_events);
}

/* The VMM's timer ticks reach a guest that waits with sti; hlt. */
static void a_sti_hlt(void)
{
	while (attack_events < TIMER_TICKS)
		asm volatile("sti; hlt; cli");
	attack_survived("%lu timer interrupts", attack_events);
}

static void a_pause_loop(void)
{
	int i;

	for (i = 0; i < STORM_COUNT * 50; i++)
		pause();
	attack_survived("%lu", (uint64_t)i);
}

/* ATTACK_AFTER_CPUID, with attack.c's table. */
const struct attack attacks_irq[] = {
	{ "cli-spin", "irq", a_cli_spin },
	{ "cli-hlt", "irq", a_cli_hlt },
	{ "cli-pause", "irq", a_cli_pause },
	{ "cli-jmp", "irq", a_cli_jmp },
	{ "cli-cpuid", "irq", a_cli_cpuid },
	{ "tick-cli-pause", "irq", a_tick_cli_pause },
	{ "mwait-cli", "irq", a_mwait_cli },
	{ "movss-hypercall", "irq", a_movss_hypercall },
	{ "sti-hlt", "irq", a_sti_hlt },
	{ "pause-loop", "irq", a_pause_loop },
};
const size_t attacks_irq_count = ARRAY_SIZE(attacks_irq);

const struct attack attacks_before_idt[] = {
	{ "boot-cli-pause", "irq", a_boot_cli_pause },
	{ "boot-sti-pause", "irq", a_boot_sti_pause },
};
const size_t attacks_before_idt_count = ARRAY_SIZE(attacks_before_idt);
