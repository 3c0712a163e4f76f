/*
 * Per-CPU state: the array of CPUs and their kernel stacks. CPU numbers
 * index cpus[]; the local APIC id of the CPU we run on selects the entry.
 */
#include <kern/cpu.h>
#include <kern/lapic.h>

struct CpuInfo cpus[NCPU];
int ncpu = 1;
struct CpuInfo *bootcpu = &cpus[0];

/* Page-aligned so pmap.c can map each stack page by page. */
unsigned char percpu_kstacks[NCPU][KSTKSIZE]
	__attribute__((aligned(PGSIZE)));

int cpunum(void)
{
	int id = lapic_id(), i;

	for (i = 0; i < ncpu; i++)
		if (cpus[i].cpu_apicid == id)
			return i;
	return 0;
}
