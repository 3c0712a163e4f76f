/*
 * The kernel console: COM1 serial, the CGA text screen and the PS/2
 * keyboard (kern/console.c).
 *
 * Invariants:
 *  - Every byte of output goes to both serial and CGA, through one
 *    function, in the order it was printed.
 *  - Input from both devices lands in one ring buffer. serial_intr and
 *    kbd_intr move whatever the hardware holds into it; they may be called
 *    from IRQ handlers or by polling, and never block. When the ring is
 *    full, new characters are dropped.
 *  - cons_getc never blocks: it polls both devices, then returns the next
 *    character from the ring, or 0 if there is none.
 *  - cons_init needs no allocator, interrupts or page tables beyond the
 *    boot direct map, but must run after .bss is cleared. It prints
 *    nothing, and an absent serial port or screen is simply skipped.
 */
#ifndef JOS_KERN_CONSOLE_H
#define JOS_KERN_CONSOLE_H
#ifndef JOS_KERNEL
#error "This is a JOS kernel header; user programs should not #include it"
#endif

void cons_init(void);
int cons_getc(void);
bool cons_take(int c);

void serial_intr(void);
void kbd_intr(void);

#endif /* !JOS_KERN_CONSOLE_H */
