/*
 * The two cascaded 8259A PICs route the legacy device IRQs (keyboard 1,
 * COM2 3, COM1 4, IDE 14) to vectors IRQ_OFFSET + irq, delivered
 * through the boot CPU's local APIC (LINT0 in ExtINT mode, see
 * kern/lapic.c).
 *
 * We use automatic EOI mode, so handlers never acknowledge the PIC; the
 * LAPIC timer does the scheduling and its own EOI.
 *
 * A guest kernel (VMM_GUEST) has no PIC, and the VMM stops a guest at its
 * first port access: there, both functions do nothing.
 */
#include <inc/x86.h>
#include <inc/trap.h>

#include <kern/picirq.h>

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_CASCADE_IRQ 2

/* Initialisation command words (8259A data sheet). */
#define ICW1_INIT 0x10 /* start initialisation */
#define ICW1_ICW4 0x01 /* an ICW4 follows */
#define ICW4_8086 0x01 /* 8086 mode */
#define ICW4_AEOI 0x02 /* automatic end of interrupt */

#ifdef VMM_GUEST

void pic_init(void)
{
}

void irq_unmask_8259A(int irq)
{
}

#else /* !VMM_GUEST */

/* All masked but the cascade input, until irq_unmask_8259A. */
static uint16_t irq_mask = 0xFFFF & ~(1 << PIC_CASCADE_IRQ);

static void pic_write_mask(void)
{
	outb(PIC1_DATA, irq_mask & 0xFF);
	outb(PIC2_DATA, irq_mask >> 8);
}

void pic_init(void)
{
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);

	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	outb(PIC1_DATA, IRQ_OFFSET);                /* ICW2: vector base */
	outb(PIC1_DATA, 1 << PIC_CASCADE_IRQ);      /* ICW3: slave on IRQ2 */
	outb(PIC1_DATA, ICW4_8086 | ICW4_AEOI);     /* ICW4 */

	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	outb(PIC2_DATA, IRQ_OFFSET + 8);
	outb(PIC2_DATA, PIC_CASCADE_IRQ);           /* ICW3: slave id */
	outb(PIC2_DATA, ICW4_8086 | ICW4_AEOI);

	pic_write_mask();
}

void irq_unmask_8259A(int irq)
{
	irq_mask &= ~(1 << irq);
	pic_write_mask();
}

#endif /* !VMM_GUEST */
