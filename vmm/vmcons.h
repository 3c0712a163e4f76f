/*
 * A VM's console (vmm/vmcons.c): foreground or background, an output
 * ring replayed on attach and an input queue of its own; and the control
 * of VMs by id (vmm/vmctl.c). The VM's name, disk and pause/kill state
 * are the VM's (vmm/vm.h).
 *
 * Invariants:
 * - out_w and in_r/in_w only grow; out_w - out_shown bytes of output
 *   arrived while the guest was in the background (at most
 *   VMCONS_OUT_SIZE of them are still in the ring); in_w - in_r bytes of
 *   input wait for the guest, never more than VMCONS_IN_SIZE.
 * - The ring pages are allocated with the guest and freed with it; a
 *   guest with no pages (half-built) has out_pg[0] == NULL.
 * - All of it is read and written under the big kernel lock.
 */
#ifndef JOS_VMM_VMCONS_H
#define JOS_VMM_VMCONS_H

#include <inc/types.h>
#include <inc/mmu.h>
#include <inc/vmmctl.h>

/* Output kept for a background guest, and input waiting for a guest. */
#define VMCONS_OUT_PAGES 4
#define VMCONS_IN_PAGES 2
#define VMCONS_OUT_SIZE (VMCONS_OUT_PAGES * PGSIZE)
#define VMCONS_IN_SIZE (VMCONS_IN_PAGES * PGSIZE)

struct Env;
struct Vm;

struct GuestCon {
	bool in_overflowed;   /* input was dropped; said so once */
	int notices;          /* VMCALL_PUTS_NOTICE lines shown */
	char *out_pg[VMCONS_OUT_PAGES];
	uint64_t out_w, out_shown;
	char *in_pg[VMCONS_IN_PAGES];
	uint64_t in_r, in_w;
};

int vmcons_init(struct Vm *vm);
void vmcons_free(struct Vm *vm);
void vmcons_putc(struct Vm *vm, int c);
int vmcons_getc(struct Vm *vm);
bool vmcons_has_input(struct Vm *vm);
bool vmcons_input(int c);
int vmcons_attach(struct Vm *vm);
int vmcons_detach(struct Vm *vm);
bool vmcons_is_foreground(struct Vm *vm);
void vmm_guest_hold(struct Env *e);
void vmcons_track(int c);
void vmcons_notice_begin(void);
void vmcons_notice_end(void);
void vmcons_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vmcons_restore_line(void);
void vmcons_guest_notice(struct Vm *vm, const uint8_t *s, size_t len);
int vmm_guest_state(struct Vm *vm);
struct Vcpu;
int vmm_vcpu_state(struct Vcpu *vc);

int vmm_ctl(int op, int64_t vmid, void *arg, size_t len);

#endif /* !JOS_VMM_VMCONS_H */
