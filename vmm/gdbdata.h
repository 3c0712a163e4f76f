/*
 * Registers and memory of a stopped guest for the gdb stub
 * (vmm/gdbdata.c).
 */
#ifndef JOS_VMM_GDBDATA_H
#define JOS_VMM_GDBDATA_H

#include <inc/types.h>
#include <vmm/vmm.h>

struct Env;

void gdbdata_read_state(struct Env *e, struct guest_dbgstate *s);
void gdbdata_read_regs(struct Env *e);
void gdbdata_write_regs(struct Env *e, const char *p);
void gdbdata_one_reg(struct Env *e, const char *p, bool write);
void gdbdata_read_mem(struct Env *e, const char *p);
void gdbdata_write_mem(struct Env *e, const char *p);

#endif /* !JOS_VMM_GDBDATA_H */
