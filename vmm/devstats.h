/*
 * A PC-kind guest's device report (inc/devstats.h): the page its VMM
 * program counts in, registered with VMMCTL_DEVSTATS, held for the VM's
 * life and shown by the monitor's `devices ID` (vmm/vmmon.c).
 *
 * Invariant: the kernel only reads the page, and only through a copy it
 * bounds first (devstats.c).
 */
#ifndef JOS_VMM_DEVSTATS_H
#define JOS_VMM_DEVSTATS_H

#include <inc/types.h>

struct Vm;

/* VMMCTL_DEVSTATS: the caller, vm's VMM program, names its page. */
int devstats_setup(struct Vm *vm, void *arg, size_t len);
/* vm goes (vm_put): drop the page. */
void devstats_vm_free(struct Vm *vm);
/* The monitor's report of vm's devices. */
void devstats_print(struct Vm *vm);

#endif /* !JOS_VMM_DEVSTATS_H */
