/*
 * The global descriptor table: flat kernel and user segments and one
 * 64-bit TSS per CPU (SDM Vol. 3A 3.4.5, 7.2.3).
 *
 * Layout (inc/memlayout.h): 0 null, GD_KT kernel code, GD_KD kernel data,
 * GD_UT user code, GD_UD user data, then NCPU 16-byte TSS descriptors from
 * GD_TSS0. A real TSS matters: traps from user mode take their stack from
 * ts_rsp0, and VMX requires a non-null host TR.
 */
#include <inc/mmu.h>
#include <inc/memlayout.h>
#include <inc/string.h>
#include <inc/x86.h>

#include <kern/cpu.h>
#include <kern/gdt.h>

#define GDT_SEGS (GD_TSS0 / sizeof(struct Segdesc))

static struct {
	struct Segdesc segs[GDT_SEGS];
	struct SystemSegdesc64 tss[NCPU];
} __attribute__((packed, aligned(16))) gdt;

static struct Pseudodesc gdt_pd = {
	sizeof(gdt) - 1,
	(uint64_t)&gdt,
};

/* A 64-bit TSS descriptor for ts (SDM Vol. 3A Figure 7-4). */
static void set_tss_desc(struct SystemSegdesc64 *d, struct Taskstate *ts)
{
	uint64_t base = (uint64_t)ts;
	uint32_t lim = sizeof(*ts) - 1;

	memset(d, 0, sizeof(*d));
	d->sd_lo.sd_lim_15_0 = lim & 0xffff;
	d->sd_lo.sd_base_15_0 = base & 0xffff;
	d->sd_lo.sd_base_23_16 = (base >> 16) & 0xff;
	d->sd_lo.sd_type = STS_T64A;
	d->sd_lo.sd_s = 0;
	d->sd_lo.sd_dpl = 0;
	d->sd_lo.sd_p = 1;
	d->sd_lo.sd_lim_19_16 = (lim >> 16) & 0xf;
	d->sd_lo.sd_base_31_24 = (base >> 24) & 0xff;
	d->sd_base_63_32 = base >> 32;
}

/* Fill in the shared descriptors; once, on the boot CPU. */
void gdt_init(void)
{
	gdt.segs[GD_KT >> 3] = SEG64_CODE(0);
	gdt.segs[GD_KD >> 3] = SEG64_DATA(0);
	gdt.segs[GD_UT >> 3] = SEG64_CODE(3);
	gdt.segs[GD_UD >> 3] = SEG64_DATA(3);
}

/*
 * Load the GDT and this CPU's TSS, whose rsp0 is the CPU's kernel stack.
 * Called on every CPU.
 */
void gdt_init_percpu(void)
{
	int id = cpunum();
	struct Taskstate *ts = &cpus[id].cpu_ts;

	memset(ts, 0, sizeof(*ts));
	ts->ts_rsp0 = kstacktop(id);
	/* No I/O permission bitmap: the map base lies past the limit. */
	ts->ts_iomb = sizeof(struct Taskstate);
	set_tss_desc(&gdt.tss[id], ts);

	lgdt(&gdt_pd);
	/* Reload the segment registers: the far return reloads %cs. */
	asm volatile("movw %w0, %%ds\n\t"
		     "movw %w0, %%es\n\t"
		     "movw %w0, %%ss\n\t"
		     "movw %w1, %%fs\n\t"
		     "movw %w1, %%gs\n\t"
		     "pushq %2\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:"
		     :
		     : "r"(GD_KD), "r"(0), "i"(GD_KT)
		     : "rax", "memory");
	ltr(GD_TSS0 + id * sizeof(struct SystemSegdesc64));
}
