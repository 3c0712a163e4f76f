/*
 * What attack.c shares with the attacks of attack_irq.c. Only a guest
 * kernel (VMM_GUEST) has them.
 *
 * Invariant: attack_current is the attack running (NULL before and after
 * it), attack_events the traps attack_trap() counted for it.
 */
#ifndef JOS_TESTPAYLOAD_ATTACK_INT_H
#define JOS_TESTPAYLOAD_ATTACK_INT_H

#include <inc/types.h>
#include <testpayload/attack.h>

/* How many events the storm attacks make. */
#define STORM_COUNT 20000
/* How many timer ticks the attacks that wait for ticks wait for. */
#define TIMER_TICKS 20

extern const struct attack *attack_current;
extern volatile uint64_t attack_events;

/* The attack completed inside the guest; fmt has one %lu or %lx. */
void attack_survived(const char *fmt, uint64_t value);

/* attack_irq.c's tables, by stage. */
extern const struct attack attacks_irq[];
extern const size_t attacks_irq_count;
extern const struct attack attacks_before_idt[];
extern const size_t attacks_before_idt_count;

#endif /* !JOS_TESTPAYLOAD_ATTACK_INT_H */
