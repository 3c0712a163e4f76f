/*
 * Byte offsets into struct UTrapframe (inc/trap.h), for lib/pfentry.S.
 * lib/pgfault.c checks them against the C structure at compile time.
 */
#ifndef JOS_LIB_PFENTRY_H
#define JOS_LIB_PFENTRY_H

#define UTF_FAULT_VA 0
#define UTF_ERR 8
#define UTF_REGS 16   /* struct PushRegs: r15 first, rax last */
#define UTF_NREGS 15  /* general registers in struct PushRegs */
#define UTF_RIP 136
#define UTF_EFLAGS 144
#define UTF_RSP 152
#define UTF_SIZE 160

#endif /* !JOS_LIB_PFENTRY_H */
