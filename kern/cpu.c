/*
 * Per-CPU state: the array of CPUs and their kernel stacks. CPU numbers
 * index cpus[]; the local APIC id of the CPU we run on selects the entry.
 */
#include <kern/cpu.h>
#include <kern/lapic.h>

struct CpuInfo cpus[NCPU];
int ncpu = 1;
struct CpuInfo *bootcpu = &cpus[0];

/* Page-aligned so pmap_kern.c can map each stack page by page. */
unsigned char percpu_kstacks[NCPU][KSTKSIZE]
	__attribute__((aligned(PGSIZE)));

/*
 * Which CPU are we? Every CPU runs the kernel on its own stack below
 * kstacktop(cpu) (traps from user mode through the TSS, the scheduler,
 * the VMM's run loop), so the stack pointer says it without a local-APIC
 * read, which matters on the VM-exit path. Only the boot CPU's early boot
 * runs on another stack (entry.S's): ask the APIC then.
 */
int cpunum(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t below = KSTACKTOP - sp;
	int id, i;

	if (sp < KSTACKTOP && below < (uintptr_t)ncpu * (KSTKSIZE + KSTKGAP))
		return below / (KSTKSIZE + KSTKGAP);
	id = lapic_id();

	for (i = 0; i < ncpu; i++)
		if (cpus[i].cpu_apicid == id)
			return i;
	return 0;
}
