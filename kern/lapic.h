/* The local APIC of each CPU (kern/lapic.c). */
#ifndef JOS_KERN_LAPIC_H
#define JOS_KERN_LAPIC_H

#include <inc/types.h>

extern physaddr_t lapicaddr;
/* TSC cycles per millisecond, measured at boot (0 in a guest, or if the
 * PIT never answered). */
extern uint64_t tsc_per_ms;

void lapic_init(void);
void lapic_eoi(void);
void lapic_startap(uint8_t apicid, uint32_t addr);
void lapic_ipi(uint8_t apicid, uint8_t vector);
int lapic_id(void);

#endif /* !JOS_KERN_LAPIC_H */
