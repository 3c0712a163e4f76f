/*
 * The MMIO decoder's fetch cache against a remapped code page (word
 * "fetchremap"): the host caches the host page behind the linear page
 * of the last MMIO instruction it decoded (vmm/insn.c). Here one linear
 * page L is switched, by its page-table entry and INVLPG alone (CR3 is
 * never written), between two physical pages: A holds "load the LAPIC
 * ID into EAX; ret", B "load it into EBX; ret". Each round calls L
 * under A, then under B, and checks that the ID arrived in the register
 * the page mapped at that moment names, and that the other one kept its
 * marker. A host that decoded the old page's bytes puts it in the wrong
 * one. Then it times BENCH_CALLS calls of L (one LAPIC read each, under
 * paging: the host's cache must check two guest entries), in TSC ticks
 * (instructions under Bochs and QEMU -icount), the call, the PTE write
 * and INVLPG included (the PTE's value stays: a hit).
 *
 * Invariants:
 * - Paging is on only inside fetch_remap(): 32-bit paging, every 4 MiB
 *   of the address space mapped to itself (CR4.PSE) but the 4 MiB that
 *   holds L, which a page table maps (L only). Paging and PSE are off
 *   again when it returns, as the other parts expect.
 * - A mismatch prints what differs and ends with FAIL_VALUE.
 */
#include "mb.h"

#define PAGE_SIZE 4096
#define PD_ENTRIES 1024
#define PDE_SHIFT 22
#define PTE_SHIFT 12
#define PT_INDEX_MASK 0x3FFU
#define PTE_P 0x001U
#define PTE_W 0x002U
#define PDE_PS 0x080U
#define CR0_PG 0x80000000U
#define CR4_PSE 0x00000010U
/* L: a linear address nothing else uses (guest RAM is far below). */
#define LINEAR_L 0x40000000U
#define LAPIC_ID_ADDR 0xFEE00020U
/* What each register holds before the call: not a LAPIC ID (those are
 * 8 bits, in bits 31:24, in the xAPIC's ID register). */
#define MARKER 0x00C0FFEEU
#define ROUNDS 4
#define RET_OP 0xC3
/* MOV r32, r/m32 (8B /r) with ModRM mod 00, r/m 101: [disp32]. */
#define MOV_LOAD_OP 0x8B
#define MODRM_DISP32_EAX 0x05
#define MODRM_DISP32_EBX 0x1D
#define DISP_BYTES 4
#define BYTE_BITS 8
#define BENCH_CALLS 1000

static u32 pd[PD_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static u32 pt[PD_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static u8 page_a[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static u8 page_b[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* "mov LAPIC_ID_ADDR, reg; ret" at the start of page. */
static void write_load(u8 *page, u8 modrm)
{
	u32 i;

	page[0] = MOV_LOAD_OP;
	page[1] = modrm;
	for (i = 0; i < DISP_BYTES; i++)
		page[2 + i] = (u8)(LAPIC_ID_ADDR >> (i * BYTE_BITS));
	page[2 + DISP_BYTES] = RET_OP;
}

static void paging_on(void)
{
	u32 i;

	for (i = 0; i < PD_ENTRIES; i++)
		pd[i] = (i << PDE_SHIFT) | PDE_PS | PTE_W | PTE_P;
	pd[LINEAR_L >> PDE_SHIFT] = (u32)pt | PTE_W | PTE_P;
	asm volatile("movl %0, %%cr3" : : "r"(pd) : "memory");
	asm volatile("movl %%cr4, %%eax; orl %0, %%eax; movl %%eax, %%cr4"
		     : : "i"(CR4_PSE) : "eax", "memory");
	asm volatile("movl %%cr0, %%eax; orl %0, %%eax; movl %%eax, %%cr0"
		     : : "i"(CR0_PG) : "eax", "memory");
}

static void paging_off(void)
{
	asm volatile("movl %%cr0, %%eax; andl %0, %%eax; movl %%eax, %%cr0"
		     : : "i"(~CR0_PG) : "eax", "memory");
	asm volatile("movl %%cr4, %%eax; andl %0, %%eax; movl %%eax, %%cr4"
		     : : "i"(~CR4_PSE) : "eax", "memory");
}

/* Point L at page (a new PTE, its old translation flushed), call it:
 * the values EAX and EBX come back with. */
static void run_at_l(u8 *page, u32 *eax, u32 *ebx)
{
	u32 a = MARKER, b = MARKER;

	pt[(LINEAR_L >> PTE_SHIFT) & PT_INDEX_MASK] =
		(u32)page | PTE_W | PTE_P;
	asm volatile("invlpg (%0)" : : "r"(LINEAR_L) : "memory");
	asm volatile("call *%2" : "+a"(a), "+b"(b) : "r"(LINEAR_L)
		     : "cc", "memory");
	*eax = a;
	*ebx = b;
}

static void expect(u32 round, const char *reg, u32 got, u32 want)
{
	if (got == want)
		return;
	paging_off();
	puts("mbtest: fetch remap, round ");
	putu(round);
	puts(": ");
	puts(reg);
	puts(" is ");
	puthex(got);
	puts(", expected ");
	puthex(want);
	putc('\n');
	finish(FAIL_VALUE);
}

void fetch_remap(void)
{
	u32 id = *(volatile u32 *)LAPIC_ID_ADDR, eax, ebx, i;
	u64 t0;

	write_load(page_a, MODRM_DISP32_EAX);
	write_load(page_b, MODRM_DISP32_EBX);
	paging_on();
	for (i = 0; i < ROUNDS; i++) {
		run_at_l(page_a, &eax, &ebx);
		expect(i, "EAX after page A", eax, id);
		expect(i, "EBX after page A", ebx, MARKER);
		run_at_l(page_b, &eax, &ebx);
		expect(i, "EAX after page B", eax, MARKER);
		expect(i, "EBX after page B", ebx, id);
	}
	t0 = rdtsc();
	for (i = 0; i < BENCH_CALLS; i++)
		run_at_l(page_a, &eax, &ebx);
	t0 = rdtsc() - t0;
	paging_off();
	puts("mbtest: fetch remap ok: ");
	putu(ROUNDS);
	puts(" rounds, each load from the page mapped at the time\n");
	/* Under 2^32 ticks in all (no 64-bit division in 32-bit code). */
	puts("mbtest: mmio round trip, lapic id read, 32-bit paging "
	     "(kernel): ");
	putu((u32)t0 / BENCH_CALLS);
	puts(" TSC ticks (average of ");
	putu(BENCH_CALLS);
	puts(")\n");
}
