/*
 * Guest addresses as a debugger names them (vmm/gva.c): guest-virtual
 * through the guest's own page tables, guest-physical through the nested
 * tables, each step checked.
 */
#ifndef JOS_VMM_GVA_H
#define JOS_VMM_GVA_H

#include <inc/types.h>
#include <vmm/vmm.h>

struct Env;

int guest_gva2gpa(struct Env *e, const struct guest_dbgstate *s,
		  uint64_t gva, uint64_t *gpa, bool verbose);
int guest_gva_copy(struct Env *e, const struct guest_dbgstate *s,
		   uint64_t gva, void *buf, size_t len, bool write);
void guest_gpa_walk_print(struct Env *e, uint64_t gpa);

#endif /* !JOS_VMM_GVA_H */
