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
/* IRQ lines trap_irq_window() reports (one bit each). */
#define NIRQS 32
uint32_t trap_irq_window(void);
const char *trapname(int trapno);
/* Returns only inside trap_irq_window(); otherwise resumes an env. */
void trap(struct Trapframe *tf);
extern const char *panicstr;
void trapframe_pop(struct Trapframe *tf) __attribute__((noreturn));

#endif /* !JOS_KERN_TRAP_H */
