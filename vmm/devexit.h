/*
 * Device exits of PC-kind guests, handed straight to the VMM program
 * (vmm/devexit.c; the ABI is inc/vmrun.h). The hooks elsewhere in vmm/
 * that call these are each marked "devexit hook".
 */
#ifndef JOS_VMM_DEVEXIT_H
#define JOS_VMM_DEVEXIT_H

#include <inc/types.h>
#include <vmm/vmm.h>
#include <vmm/exitinfo.h>

struct Env;
struct Vm;

bool devexit_pc_guest(const struct Env *e);
enum vmexit_action devexit_pio(struct Env *e, const struct vmm_io *io);
enum vmexit_action devexit_mmio(struct Env *e, uint64_t gpa);
bool devexit_mmio_fast(struct Env *e, uint64_t gpa);
enum vmexit_action devexit_hlt(struct Env *e);
void devexit_tick(void);
void devexit_wake_halted(struct Env *e);
void devexit_before_entry(struct Env *e);
enum vmexit_action devexit_deadline(struct Env *e, enum vmexit_action a);
void devexit_handoff(struct Env *e) __attribute__((noreturn));
int devexit_vcpu_run(int32_t guest);
bool devexit_may_resume(const struct Env *e);
void devexit_guest_free(struct Env *e);
int32_t devexit_vm_vmm(const struct Vm *vm);
void devexit_env_free(struct Env *e);

#endif /* !JOS_VMM_DEVEXIT_H */
