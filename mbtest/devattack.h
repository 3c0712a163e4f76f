/*
 * Device attacks of the multiboot test kernel (devattack*.c): a guest
 * that drives the emulated PC's devices wildly must get device errors
 * (error bits, all ones, a bounded storm) or be stopped with a line
 * naming why, and never harm the host. Each attack is one function in
 * a table (devattack.c) with what it expects: it RUNS (it checks what
 * the devices answered, prints "devattack: NAME ok: ..." and returns)
 * or STOPS (the VMM must end the guest; coming back is a failure), or
 * runs ALONE (a known limit it shows; only by its own word).
 *
 * Invariants:
 * - An attack that runs leaves interrupts off, every interrupt source
 *   it armed masked again, and COM1 usable by puts (com_init again).
 * - A failed check prints "devattack: NAME FAIL: why" and ends the
 *   guest with FAIL_VALUE (da_check), so the grade sees which.
 */
#ifndef MBTEST_DEVATTACK_H
#define MBTEST_DEVATTACK_H

#include "mb.h"

/* Where attacks may scribble: guest RAM from 4 MiB on (the kernel, its
 * stack and the multiboot data lie below 2 MiB). */
#define DA_SCRATCH 0x400000
/* A bound on every poll of a device bit, so a wedged model fails the
 * attack instead of hanging the guest. */
#define DA_POLL_MAX 100000

/* DA_ALONE: runs only by its own word, not in "devattack": a known
 * limit of the device model it shows (vmm/README.md), not in the grade. */
enum da_kind { DA_RUNS, DA_STOPS, DA_ALONE };

struct devattack {
	const char *word;  /* "devattack-" WORD runs this one alone */
	void (*fn)(const struct mb_info *mbi, const char *name);
	enum da_kind kind;
};

/* devattack.c: reporting. */
void da_begin(const char *name);          /* "devattack: NAME ok:" */
void da_kv(const char *key, u32 v);       /* " KEY=0xV" */
void da_end(void);                        /* the newline */
void da_check(int ok, const char *name, const char *why);

/* Each file's attacks (devattack_ide.c, devattack_irq.c,
 * devattack_dev.c), NULL-word terminated. */
extern const struct devattack da_ide[], da_irq[], da_dev[];

static inline u32 mmio_r32(u32 a)
{
	return *(volatile u32 *)a;
}

static inline u16 mmio_r16(u32 a)
{
	return *(volatile u16 *)a;
}

static inline u8 mmio_r8(u32 a)
{
	return *(volatile u8 *)a;
}

static inline void mmio_w32(u32 a, u32 v)
{
	*(volatile u32 *)a = v;
}

static inline void mmio_w16(u32 a, u16 v)
{
	*(volatile u16 *)a = v;
}

static inline void mmio_w8(u32 a, u8 v)
{
	*(volatile u8 *)a = v;
}

#endif /* !MBTEST_DEVATTACK_H */
