/*
 * The LAPIC read shadow's in-kernel answers (vmm/devlapic.c): loads of
 * LAPIC registers the VMM program's model published in the run page
 * (inc/vmrun.h), completed without a hand-off, on the slow path
 * (devexit_mmio) and on the fast path (devexit_mmio_fast, devexit.h).
 */
#ifndef JOS_VMM_DEVLAPIC_H
#define JOS_VMM_DEVLAPIC_H

#include <inc/types.h>

struct Env;
struct mmio_insn;

/* The slow path's use of the shadow: true with the load completed
 * (its destination written; the caller moves RIP), false with nothing
 * changed for a hand-off. */
bool devlapic_read(struct Env *e, uint64_t gpa, const struct mmio_insn *mi);

#endif /* !JOS_VMM_DEVLAPIC_H */
