/*
 * The second serial port (COM2), interrupt driven, for the VMM's gdb stub
 * (vmm/gdbstub.c, vmm/gdbpkt.c). The make targets connect it to a TCP
 * port of the build machine (QEMU -serial tcp:..., Bochs com2:
 * mode=socket-server), so whoever connects there is its client.
 *
 * Invariants:
 *  - Host kernel only: a guest kernel never calls these (its port I/O
 *    would stop it); com2_init() is called once at boot, before any
 *    other function here.
 *  - Every function runs under the kernel lock (IRQ 3 reaches only the
 *    boot CPU, and trap() takes the lock before dispatching it).
 *  - Nothing here waits for the UART or for the client: bytes move
 *    between the UART and two rings, a bounded number per interrupt and
 *    per timer tick, and a full ring stops the flow instead (a full
 *    receive ring masks the receive interrupt, so the emulator holds the
 *    client's bytes back; a full transmit ring refuses com2_queue).
 */
#ifndef JOS_KERN_COM2_H
#define JOS_KERN_COM2_H
#ifndef JOS_KERNEL
#error "This is a JOS kernel header; user programs should not #include it"
#endif

#include <inc/types.h>

/* The transmit ring's size: what com2_tx_room() reports when idle. */
#define COM2_TX_SIZE 8192

bool com2_init(void);
bool com2_present(void);
/* IRQ 3. */
void com2_intr(void);
/* The boot CPU's timer tick: a fresh budget; moves what an interrupt
 * may have missed. */
void com2_tick(void);
/* The next received byte, or -1 if none is waiting. */
int com2_getc(void);
/* Bytes com2_queue can take now. */
size_t com2_tx_room(void);
/* All n bytes into the transmit ring, or none (false) if they do not
 * fit; transmission starts at once. */
bool com2_queue(const void *buf, size_t n);

#endif /* !JOS_KERN_COM2_H */
