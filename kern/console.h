/*
 * The kernel console: COM1 serial, the CGA text screen and the PS/2
 * keyboard (kern/console.c).
 *
 * Invariants:
 *  - Every byte of output goes to both serial and CGA, through one
 *    function, in the order it was printed.
 *  - Input from both devices goes to the foreground guest's queue
 *    (vmm/vmcons.c) or, when no guest is in the foreground, to one host
 *    ring buffer. serial_intr and kbd_intr move whatever the hardware
 *    holds; they may be called from IRQ handlers or by polling, and never
 *    block. Serial input is also taken while output is printed. When a
 *    buffer is full, new characters are dropped and the console says so
 *    once.
 *  - cons_getc never blocks: it polls both devices, then returns the next
 *    character from the ring, or 0 if there is none.
 *  - Ctrl-C typed for this system (not for a foreground guest) is never
 *    input: it only counts, and cons_interrupts returns the count so
 *    far, which only grows. A shell that waits for its foreground
 *    command ends the command when the count moves (user/sh.c).
 *  - cons_init needs no allocator, interrupts or page tables beyond the
 *    boot direct map, but must run after .bss is cleared. It prints
 *    nothing but, on serial, the escape that turns the terminal's
 *    auto-wrap back on; an absent serial port or screen is skipped.
 */
#ifndef JOS_KERN_CONSOLE_H
#define JOS_KERN_CONSOLE_H
#ifndef JOS_KERNEL
#error "This is a JOS kernel header; user programs should not #include it"
#endif

void cons_init(void);
/* Print s[0 .. n) in order, as n cputchar calls would (vcprintf). */
void cons_write(const char *s, size_t n);
int cons_getc(void);
int cons_take_pending(void);
unsigned int cons_interrupts(void);

void serial_intr(void);
void kbd_intr(void);

#endif /* !JOS_KERN_CONSOLE_H */
