/*
 * A PC-kind VM's vCPUs as its VMM programs steer them (vmm/vcpuctl.c;
 * the ABI: inc/vmmctl.h). Called from sys_vmm_ctl (vmm/vmctl.c) and the
 * hand-off (vmm/devexit.c), under the big kernel lock.
 */
#ifndef JOS_VMM_VCPUCTL_H
#define JOS_VMM_VCPUCTL_H

#include <inc/types.h>
#include <vmm/vmm.h>

struct Vm;
struct Env;

bool vcpuctl_may_run(struct Vm *vm, const struct Env *v);
int vcpuctl_pc(struct Vm *vm, int64_t id, void *arg, size_t len);
int vcpuctl_add(struct Vm *vm);
int vcpuctl_start(struct Vm *vm, int64_t id, void *arg, size_t len);
int vcpuctl_init(struct Vm *vm, int64_t id);
int vcpuctl_kick(struct Vm *vm, int64_t id);
enum vmexit_action vcpuctl_park(struct Env *e);

#endif /* !JOS_VMM_VCPUCTL_H */
