/*
 * Interrupts for the multiboot test kernel's device tests and attacks:
 * one IDT of 256 gates (intr.c, stubs in intrstub.S). A vector below
 * 32 is a CPU exception: the kernel says which and where, and fails
 * (FAIL_VALUE), unless a handler is set for it (an interrupt a test
 * routed there on purpose). Any other vector is counted in intr_count[] and then
 * passed to the handler set for it, if any; the handler sends the EOI
 * its controller needs (the test knows which controller it programmed).
 *
 * Invariants:
 * - intr_init() leaves interrupts off; the tests decide when to sti().
 * - Every gate is a 32-bit interrupt gate (IF clear in the handler) in
 *   the code segment the loader left in CS.
 */
#ifndef MBTEST_INTR_H
#define MBTEST_INTR_H

#include "mb.h"

#define NVECTORS 256
#define FIRST_EXTERNAL 32

typedef void (*intr_handler)(u32 vec);

void intr_init(void);
void intr_load(void);
void intr_set(u32 vec, intr_handler fn);
extern volatile u32 intr_count[NVECTORS];

static inline void sti(void)
{
	asm volatile("sti" : : : "memory");
}

static inline void cli(void)
{
	asm volatile("cli" : : : "memory");
}

#endif /* !MBTEST_INTR_H */
