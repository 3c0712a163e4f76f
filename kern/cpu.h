/* Per-CPU state. */
#ifndef JOS_KERN_CPU_H
#define JOS_KERN_CPU_H

#include <inc/types.h>
#include <inc/memlayout.h>
#include <inc/mmu.h>

/* Maximum number of CPUs the kernel supports. */
#define NCPU 8

enum { CPU_UNUSED = 0, CPU_STARTED, CPU_HALTED };

struct CpuInfo {
	uint8_t cpu_id;               /* index into cpus[] (not the APIC id) */
	uint8_t cpu_apicid;           /* local APIC id */
	volatile unsigned cpu_status; /* CPU_* */
	struct Env *cpu_env;          /* the env running on this CPU, or NULL */
	struct Taskstate cpu_ts;      /* rsp0 for traps from user mode */
	/* trap_irq_window(): interrupts taken in it, as IRQ-line bits. */
	volatile bool cpu_irq_window;
	volatile uint32_t cpu_window_irqs;
};

extern struct CpuInfo cpus[NCPU];
extern int ncpu;               /* number of CPUs in the system */
extern struct CpuInfo *bootcpu; /* the boot-strap processor */

/*
 * Each CPU's kernel stack. mem_init (kern/pmap_kern.c) maps stack i at
 * [KSTACKTOP - i * (KSTKSIZE + KSTKGAP) - KSTKSIZE, ... + KSTKSIZE)
 * with an unmapped guard gap below it, so an overflow faults.
 */
extern unsigned char percpu_kstacks[NCPU][KSTKSIZE];

static inline uintptr_t kstacktop(int cpu)
{
	return KSTACKTOP - (uintptr_t)cpu * (KSTKSIZE + KSTKGAP);
}

int cpunum(void);
#define thiscpu (&cpus[cpunum()])

#endif /* !JOS_KERN_CPU_H */
