/*
 * The second serial port (COM2), polled, for the VMM's gdb stub
 * (vmm/gdbstub.c). The make targets connect it to a TCP port of the
 * build machine (QEMU -serial tcp:..., Bochs com2: mode=socket-server).
 *
 * Invariants:
 *  - Host kernel only: a guest kernel never calls these (its port I/O
 *    would stop it); com2_init() is called once at boot, before any
 *    other function here.
 *  - Nothing here blocks for long: com2_getc never waits, com2_putc
 *    waits a bounded time for the transmitter.
 *  - The receive FIFO is left off, so an emulator that finds the
 *    receiver full holds further bytes back instead of dropping them.
 */
#ifndef JOS_KERN_COM2_H
#define JOS_KERN_COM2_H
#ifndef JOS_KERNEL
#error "This is a JOS kernel header; user programs should not #include it"
#endif

#include <inc/types.h>

bool com2_init(void);
int com2_getc(void);
void com2_putc(int c);

#endif /* !JOS_KERN_COM2_H */
