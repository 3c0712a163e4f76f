/*
 * Between the interrupt controllers of vmmdev/: the 8259A pair (pic.c),
 * the IOAPIC (ioapic.c), the local APICs (lapic.c) and the routing that
 * ties them together and answers the run loop (irq.c).
 *
 * Invariants:
 * - Lines flow one way: a device line -> irq.c -> PIC input and IOAPIC
 *   pin; the PIC's INTR output -> IOAPIC pin 0 and each LAPIC's LINT0;
 *   an IOAPIC message or an IPI -> irq_deliver -> the LAPICs it names.
 * - EOIs flow back: a LAPIC EOI of a level-triggered vector (TMR set) ->
 *   irq_lapic_eoi -> ioapic_eoi, which clears remote IRR.
 * - Nothing here allocates or fails: bad guest values are dropped or
 *   reported in the device's error register (LAPIC ESR).
 */
#ifndef JOS_VMMDEV_IRQCHIP_H
#define JOS_VMMDEV_IRQCHIP_H

#include <inc/types.h>

/* ISA interrupt lines (the PIC pair's inputs). */
#define ISA_IRQS 16
/* The master PIC input the slave's INTR drives. */
#define PIC_CASCADE_IRQ 2
/* IOAPIC pins (version register: 24 redirection entries). */
#define IOAPIC_PINS 24
/* The IOAPIC pin the PIC's INTR drives (an ExtINT entry). */
#define IOAPIC_PIN_EXTINT 0
/* The IOAPIC pin ISA IRQ 0 drives (the MADT override / MP table say so). */
#define IOAPIC_PIN_IRQ0 2

/* Delivery modes of IOAPIC entries, LVT entries and the ICR. */
#define DM_FIXED 0
#define DM_LOWEST 1
#define DM_SMI 2
#define DM_NMI 4
#define DM_INIT 5
#define DM_STARTUP 6
#define DM_EXTINT 7

/* pic.c */
void pic_set_irq(unsigned irq, bool level);
bool pic_intr(void);
int pic_next(void);
void pic_ack(int vec);

/* ioapic.c */
void ioapic_set_pin(unsigned pin, bool level);
void ioapic_eoi(uint8_t vec);

/* lapic.c */
struct lapic;
unsigned lapic_count(void);
struct lapic *lapic_of(unsigned cpu);
/* The vCPU this process runs (lapic_select). */
unsigned lapic_self(void);
bool lapic_sw_enabled(const struct lapic *l);
bool lapic_match(const struct lapic *l, uint8_t dest, bool logical);
uint8_t lapic_ppr(const struct lapic *l);
void lapic_accept(struct lapic *l, uint8_t vec, bool level);
int lapic_next(const struct lapic *l);
void lapic_ack(struct lapic *l, int vec);
bool lapic_irr_has(const struct lapic *l, int vec);
bool lapic_lint0_extint(const struct lapic *l);

/* irq.c */
void irq_deliver(uint8_t dest, bool logical, unsigned mode, uint8_t vec,
		 bool level);
void irq_lapic_eoi(uint8_t vec);
void irq_pic_changed(void);

#endif /* !JOS_VMMDEV_IRQCHIP_H */
