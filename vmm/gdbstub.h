/*
 * The VMM's GDB remote-serial-protocol stub (vmm/gdbstub.c): gdb on the
 * build machine debugs one guest at a time over COM2.
 */
#ifndef JOS_VMM_GDBSTUB_H
#define JOS_VMM_GDBSTUB_H

#include <inc/types.h>
#include <vmm/vmm.h>

struct Env;

/* What brought a debugged guest back to the VMM. */
enum gdb_trap {
	GDB_TRAP_BREAKPOINT,    /* #BP: an INT3 executed */
	GDB_TRAP_STEP,          /* #DB after a single step */
};

void gdbstub_init(void);
void gdbstub_poll(void);
int gdbstub_debug_guest(struct Env *e);
void gdbstub_before_entry(struct Env *e);
enum vmexit_action gdbstub_trap(struct Env *e, enum gdb_trap why);
void gdbstub_guest_free(struct Env *e);

#endif /* !JOS_VMM_GDBSTUB_H */
