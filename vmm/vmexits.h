/*
 * Vendor-neutral VM-exit handlers (vmm/vmexits.c). The vendor's exit
 * table (vmx.c) decodes its exit information into struct GuestExit and
 * calls these.
 */
#ifndef JOS_VMM_VMEXITS_H
#define JOS_VMM_VMEXITS_H

#include <inc/types.h>
#include <vmm/vmm.h>

struct Env;
struct PushRegs;

void vmexit_skip_instruction(struct Env *e);
enum vmexit_action vmexit_inject_exception(struct Env *e, int vector,
					   int error);
enum vmexit_action vmexit_undefined(struct Env *e);
enum vmexit_action vmexit_bad_msr(struct Env *e);
enum vmexit_action vmexit_invd(struct Env *e);
enum vmexit_action vmexit_cpuid(struct Env *e);
enum vmexit_action vmexit_hypercall(struct Env *e);
bool vmexit_hypercall_fast(struct PushRegs *r);
void vmexit_cpuid_regs(struct PushRegs *r);
enum vmexit_action vmexit_hlt(struct Env *e);
enum vmexit_action vmexit_triple_fault(struct Env *e);
enum vmexit_action vmexit_interrupt(struct Env *e, uint32_t vector);
enum vmexit_action vmexit_guest_memory(struct Env *e, uint64_t gpa,
				       const char *access);
enum vmexit_action vmexit_unhandled(struct Env *e, const char *what);

#endif /* !JOS_VMM_VMEXITS_H */
