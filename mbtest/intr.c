/*
 * The multiboot test kernel's IDT (intr.h says what a test may rely
 * on): 256 interrupt gates to the stubs of intrstub.S, and the C side
 * of every interrupt.
 *
 * Invariants:
 * - An exception (vector < FIRST_EXTERNAL) never returns: it is a bug
 *   in the test, or a VMM that delivered what it must not; unless a
 *   test set a handler for it (an attack that routes a device to an
 *   exception vector, devattack_irq.c, expects it there).
 * - intr_count[v] counts every delivery of v since intr_init.
 */
#include "intr.h"

#define GATE_INTR32 0x8E  /* present, DPL 0, 32-bit interrupt gate */

struct gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __attribute__((packed));

struct idtr {
	u16 limit;
	u32 base;
} __attribute__((packed));

extern const u32 intr_stubs[NVECTORS];
static struct gate idt[NVECTORS] __attribute__((aligned(8)));
static intr_handler handlers[NVECTORS];
volatile u32 intr_count[NVECTORS];

void intr_init(void)
{
	struct idtr r = { sizeof(idt) - 1, (u32)idt };
	u16 cs;
	u32 v;

	asm volatile("cli; movw %%cs, %0" : "=r"(cs));
	for (v = 0; v < NVECTORS; v++) {
		idt[v].off_lo = intr_stubs[v] & 0xFFFF;
		idt[v].off_hi = intr_stubs[v] >> 16;
		idt[v].sel = cs;
		idt[v].zero = 0;
		idt[v].type = GATE_INTR32;
	}
	asm volatile("lidt %0" : : "m"(r));
}

/* Another CPU (an AP, smpap.c) loads the IDT intr_init built. */
void intr_load(void)
{
	struct idtr r = { sizeof(idt) - 1, (u32)idt };

	asm volatile("lidt %0" : : "m"(r));
}

void intr_set(u32 vec, intr_handler fn)
{
	if (vec < NVECTORS)
		handlers[vec] = fn;
}

void intr_dispatch(u32 vec, u32 eip)
{
	if (vec < FIRST_EXTERNAL && !handlers[vec]) {
		puts("mbtest: exception ");
		putu(vec);
		puts(" at ");
		puthex(eip);
		putc('\n');
		finish(FAIL_VALUE);
	}
	intr_count[vec]++;
	if (handlers[vec])
		handlers[vec](vec);
}
