/* Trap handling (kern/trap.c). */
#ifndef JOS_KERN_TRAP_H
#define JOS_KERN_TRAP_H
#ifndef JOS_KERNEL
#error "This is a JOS kernel header; user programs should not #include it"
#endif

#include <inc/trap.h>
#include <inc/mmu.h>

void trap_init(void);
void trap_init_percpu(void);
void print_regs(struct PushRegs *regs);
void print_trapframe(struct Trapframe *tf);
bool trap_guest_irq(uint32_t vector);
const char *trapname(int trapno);
void trap(struct Trapframe *tf) __attribute__((noreturn));
extern const char *panicstr;
void trapframe_pop(struct Trapframe *tf) __attribute__((noreturn));

#endif /* !JOS_KERN_TRAP_H */
