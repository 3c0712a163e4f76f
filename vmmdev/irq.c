/*
 * Interrupt routing of the PC model: device lines to the 8259A pair and
 * the IOAPIC, IOAPIC messages to the local APICs, and the run loop's two
 * questions (dev.h: vintr_next, vintr_ack).
 *
 * Reference: Intel MultiProcessor Specification 1.4, section 3.6.2 and
 * figure 3-3 ("virtual wire mode via I/O APIC"; the 8259A INTR on IOAPIC
 * pin 0 and LINT0) and section 5.3 (default configurations: ISA IRQ 0 on
 * IOAPIC pin 2); ACPI 6.4, 5.2.12.5 (interrupt source override, IRQ 0 ->
 * GSI 2); Intel SDM vol. 3A 11.8.5 (EOI broadcast to the IOAPIC).
 *
 * Invariants:
 * - Line numbers: 0-15 are ISA IRQs, each driving its PIC input and
 *   IOAPIC pin (IRQ 0 pin 2, the others pin n; IRQ 2 is the cascade and
 *   drives nothing); 16-23 are IOAPIC pins 16-23 only. Other numbers are
 *   ignored.
 * - IOAPIC pin 0 always follows the PIC's INTR (irq_pic_changed).
 * - The run loop asks for its own vCPU (lapic_self): vintr_next offers
 *   that vCPU's LAPIC's vector first; else, on the boot vCPU only (the
 *   8259A's INTR is wired to it alone, as ExtINT messages are sent to
 *   it alone), the PIC's, when its LAPIC takes ExtINT (LINT0 unmasked
 *   ExtINT, an ExtINT message from the IOAPIC pending) or is absent or
 *   software-disabled. vintr_ack acknowledges vec in the controller
 *   that offered it.
 * - extint_pending is machine state (VDEV_SHARED); offered_* are this
 *   process's: what its vCPU was last offered.
 */
#include "dev.h"
#include "irqchip.h"

/* The vCPU the PIC's INTR and ExtINT messages reach: the boot CPU. */
#define BSP 0
/* Lines past the ISA IRQs reach only the IOAPIC. */
#define LINES (IOAPIC_PINS)

/* An ExtINT message from the IOAPIC is waiting for the vCPU's INTA. */
static bool extint_pending VDEV_SHARED;
/* What vintr_next offered last: the vector and the controller. */
enum { FROM_NONE, FROM_LAPIC, FROM_PIC };
static int offered_vec = -1;
static int offered_from = FROM_NONE;

void vdev_irq_set(unsigned line, bool level)
{
	if (line >= LINES || line == PIC_CASCADE_IRQ)
		return;
	if (line < ISA_IRQS)
		pic_set_irq(line, level);
	ioapic_set_pin(line == 0 ? IOAPIC_PIN_IRQ0 : line, level);
}

void vdev_irq_pulse(unsigned line)
{
	vdev_irq_set(line, true);
	vdev_irq_set(line, false);
}

/* The PIC's INTR as irq_pic_changed last saw it (machine state). */
static bool pic_was_up VDEV_SHARED;

void irq_pic_changed(void)
{
	bool up = pic_intr();

	ioapic_set_pin(IOAPIC_PIN_EXTINT, up);
	/* The INTR reaches the boot vCPU only: another vCPU's process
	 * raised it, so the boot vCPU's process should look soon. */
	if (up && !pic_was_up && lapic_self() != BSP)
		vdev_cpu_kick(BSP);
	pic_was_up = up;
}

/* A message to the LAPICs dest names: fixed (each), lowest priority (the
 * one with the lowest PPR), ExtINT (INTA goes to the PIC). The others
 * (SMI, NMI, INIT, ...) have no path into a vCPU here and are dropped. */
void irq_deliver(uint8_t dest, bool logical, unsigned mode, uint8_t vec,
		 bool level)
{
	struct lapic *l, *low = NULL;
	unsigned i;

	for (i = 0; (l = lapic_of(i)) != NULL; i++) {
		if (!lapic_match(l, dest, logical))
			continue;
		if (mode == DM_FIXED)
			lapic_accept(l, vec, level);
		else if (mode == DM_LOWEST &&
			 (!low || lapic_ppr(l) < lapic_ppr(low)))
			low = l;
		else if (mode == DM_EXTINT && i == BSP)
			extint_pending = true;
	}
	if (low)
		lapic_accept(low, vec, level);
}

void irq_lapic_eoi(uint8_t vec)
{
	ioapic_eoi(vec);
}

/* Does the PIC's INTR reach this process's vCPU? */
static bool pic_routed(void)
{
	struct lapic *l = lapic_of(BSP);

	if (lapic_self() != BSP)
		return false;
	return !lapic_sw_enabled(l) || lapic_lint0_extint(l) || extint_pending;
}

int vintr_next(void)
{
	struct lapic *l = lapic_of(lapic_self());
	int v = -1;

	offered_from = FROM_NONE;
	if (l && (v = lapic_next(l)) >= 0)
		offered_from = FROM_LAPIC;
	else if (pic_routed() && (v = pic_next()) >= 0)
		offered_from = FROM_PIC;
	offered_vec = v;
	return v;
}

/*
 * The kernel delivered vec: acknowledge it in the controller that
 * offered it (the guest ran since vintr_next, so the controllers may
 * offer another vector now; vec is what the vCPU took). A vector
 * vintr_next did not offer last goes to the LAPIC if its IRR holds it,
 * else to the PIC.
 */
void vintr_ack(int vec)
{
	struct lapic *l = lapic_of(lapic_self());
	int from = offered_from;

	if (vec != offered_vec || from == FROM_NONE)
		from = l && lapic_irr_has(l, vec) ? FROM_LAPIC
		       : lapic_self() == BSP ? FROM_PIC : FROM_NONE;
	offered_from = FROM_NONE;
	offered_vec = -1;
	if (from == FROM_LAPIC && l) {
		lapic_ack(l, vec);
	} else if (from == FROM_PIC) {
		extint_pending = false;
		pic_ack(vec);
	}
}
