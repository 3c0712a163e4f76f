/*
 * The guest page-table walk's self-test (the monitor's `insntest`, test
 * insn-decoder): 32-bit (4 KiB, 4 MiB and PSE-36 pages), PAE and 4-level
 * tables built in a scratch buffer that plays guest-physical memory, and
 * walked by vmm/gvawalk.c through a reader of that buffer.
 *
 * Invariants:
 * - The buffer is guest-physical [0, SCRATCH_BYTES); the reader refuses
 *   anything else, as guest_gpa2kva refuses what is not guest RAM.
 * - Every table is written afresh before the cases run, so the test can
 *   run any number of times.
 * - Prints "gva: FAILED <case>: ..." for each mismatch and "gva: N ok"
 *   only when all N cases matched; expected results are written out by
 *   hand from the SDM's formats.
 */
#include <inc/error.h>
#include <inc/mmu.h>
#include <inc/stdio.h>
#include <inc/string.h>

#include <vmm/gvawalk.h>
#include <vmm/vmm.h>
#include <testpayload/selftest.h>

#define SCRATCH_PAGES 16
#define SCRATCH_BYTES (SCRATCH_PAGES * PGSIZE)

static uint8_t scratch[SCRATCH_BYTES] __attribute__((aligned(PGSIZE)));

/* Where each table lies in the scratch "guest memory". */
#define PD32 0x1000UL
#define PT32 0x2000UL
#define PAE_PDPT 0x3020UL   /* 32-byte aligned, not page aligned */
#define PAE_PD 0x4000UL
#define PAE_PT 0x5000UL
#define PML4 0x6000UL
#define PDPT 0x8000UL
#define PD 0xA000UL
#define PT 0xB000UL
#define OUTSIDE (SCRATCH_BYTES * 4UL)

#define P PTE_P
#define W PTE_W
#define PS PTE_PS
#define XD (1UL << 63)
#define BIT(n) (1UL << (n))

/* Control-register sets of each mode. */
#define PG (CR0_PG | CR0_PE)
#define LM (EFER_LMA | EFER_LME)
#define CR4_LA57 BIT(12)

static int scratch_read(void *arg, uint64_t gpa, unsigned bytes,
			uint64_t *out)
{
	uint32_t v32;

	if (gpa >= SCRATCH_BYTES || bytes > SCRATCH_BYTES - gpa)
		return -E_FAULT;
	if (bytes == sizeof(v32)) {
		memcpy(&v32, scratch + gpa, sizeof(v32));
		*out = v32;
	} else {
		memcpy(out, scratch + gpa, sizeof(*out));
	}
	return 0;
}

static void put32(uint64_t table, unsigned i, uint32_t v)
{
	memcpy(scratch + table + i * sizeof(v), &v, sizeof(v));
}

static void put64(uint64_t table, unsigned i, uint64_t v)
{
	memcpy(scratch + table + i * sizeof(v), &v, sizeof(v));
}

static void build_tables(void)
{
	memset(scratch, 0, sizeof(scratch));
	/* 32-bit paging. */
	put32(PD32, 0, PT32 | P | W);
	put32(PD32, 1, 0x00C00000 | PS | P);
	put32(PD32, 2, 0x01000000 | (0x3 << 13) | PS | P); /* PSE-36 */
	put32(PD32, 3, 0x01400000 | BIT(21) | PS | P);     /* reserved */
	put32(PD32, 1023, PT32 | P);
	put32(PT32, 5, 0x7000 | P);
	put32(PT32, 6, 0x7000);                            /* not present */
	/* PAE. */
	put64(PAE_PDPT, 0, PAE_PD | P);
	put64(PAE_PDPT, 2, PAE_PD | P);
	put64(PAE_PDPT, 3, PAE_PD | P | BIT(1));           /* reserved */
	put64(PAE_PD, 0, PAE_PT | P | W);
	put64(PAE_PD, 1, 0x40000000 | PS | P);
	put64(PAE_PD, 2, 0x40200000 | BIT(13) | PS | P);   /* reserved */
	put64(PAE_PT, 3, 0x9000 | P);
	put64(PAE_PT, 4, 0x9000 | P | XD);
	put64(PAE_PT, 5, 0x9000 | P | BIT(52));            /* reserved */
	/* 4-level. */
	put64(PML4, 0, PDPT | P);
	put64(PML4, 1, PDPT | P | PS);                     /* reserved */
	put64(PML4, 511, PDPT | P);
	put64(PDPT, 0, PD | P);
	put64(PDPT, 1, 0x80000000 | PS | P);
	put64(PDPT, 2, 0xC0000000 | BIT(13) | PS | P);     /* reserved */
	put64(PD, 0, PT | P);
	put64(PD, 1, 0x600000 | PS | P);
	put64(PT, 7, 0x12345000 | P);
	put64(PT, 8, 0x13000 | P | XD);
}

struct gcase {
	const char *name;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t la;
	int ret;
	uint64_t gpa;
};

static const struct gcase cases[] = {
	{ "real mode", 0, 0, 0, 0, 0xb8000, 0, 0xb8000 },
	{ "protected, paging off", CR0_PE, PD32, 0, 0, 0xfee00020, 0,
	  0xfee00020 },
	{ "32: 4k page", PG, PD32, 0, 0, 0x5123, 0, 0x7123 },
	{ "32: last pde", PG, PD32, 0, 0, 0xffc05abc, 0, 0x7abc },
	{ "32: pte not present", PG, PD32, 0, 0, 0x6000, -E_FAULT, 0 },
	{ "32: pde not present", PG, PD32, 0, 0, 0x1000000, -E_FAULT, 0 },
	{ "32: 4m page", PG, PD32, CR4_PSE, 0, 0x401234, 0, 0xC01234 },
	{ "32: ps without pse", PG, PD32, 0, 0, 0x401234, -E_FAULT, 0 },
	{ "32: pse-36", PG, PD32, CR4_PSE, 0, 0x800010, 0, 0x301000010 },
	{ "32: 4m reserved bit", PG, PD32, CR4_PSE, 0, 0xC00000, -E_INVAL,
	  0 },
	{ "32: above 4g", PG, PD32, 0, 0, 0x100000000, -E_INVAL, 0 },
	{ "32: pd outside ram", PG, OUTSIDE, 0, 0, 0x5123, -E_FAULT, 0 },
	{ "pae: 4k page", PG, PAE_PDPT, CR4_PAE, 0, 0x3abc, 0, 0x9abc },
	{ "pae: cr3 low bits", PG, PAE_PDPT | 0x18, CR4_PAE, 0, 0x3abc, 0,
	  0x9abc },
	{ "pae: pdpte 2", PG, PAE_PDPT, CR4_PAE, 0, 0x80003abc, 0, 0x9abc },
	{ "pae: 2m page", PG, PAE_PDPT, CR4_PAE, 0, 0x212345, 0, 0x40012345 },
	{ "pae: 2m reserved bit", PG, PAE_PDPT, CR4_PAE, 0, 0x400000,
	  -E_INVAL, 0 },
	{ "pae: xd without nxe", PG, PAE_PDPT, CR4_PAE, 0, 0x4000, -E_INVAL,
	  0 },
	{ "pae: xd with nxe", PG, PAE_PDPT, CR4_PAE, EFER_NXE, 0x4000, 0,
	  0x9000 },
	{ "pae: bit 52", PG, PAE_PDPT, CR4_PAE, EFER_NXE, 0x5000, -E_INVAL,
	  0 },
	{ "pae: pdpte not present", PG, PAE_PDPT, CR4_PAE, 0, 0x40000000,
	  -E_FAULT, 0 },
	{ "pae: pdpte reserved", PG, PAE_PDPT, CR4_PAE, 0, 0xC0000000,
	  -E_INVAL, 0 },
	{ "pae: above 4g", PG, PAE_PDPT, CR4_PAE, 0, 0x100003abc, -E_INVAL,
	  0 },
	{ "4l: 4k page", PG, PML4, CR4_PAE, LM, 0x7fff, 0, 0x12345fff },
	{ "4l: 2m page", PG, PML4, CR4_PAE, LM, 0x201234, 0, 0x601234 },
	{ "4l: 1g page", PG, PML4, CR4_PAE, LM, 0x40123456, 0, 0x80123456 },
	{ "4l: high half", PG, PML4, CR4_PAE, LM, 0xffffff8000007abc, 0,
	  0x12345abc },
	{ "4l: non-canonical", PG, PML4, CR4_PAE, LM, 0x0000800000000000,
	  -E_INVAL, 0 },
	{ "4l: pml4e ps", PG, PML4, CR4_PAE, LM, 0x8000000000, -E_INVAL, 0 },
	{ "4l: 1g reserved bit", PG, PML4, CR4_PAE, LM, 0x80000000, -E_INVAL,
	  0 },
	{ "4l: xd without nxe", PG, PML4, CR4_PAE, LM, 0x8000, -E_INVAL, 0 },
	{ "4l: xd with nxe", PG, PML4, CR4_PAE, LM | EFER_NXE, 0x8010, 0,
	  0x13010 },
	{ "4l: pte not present", PG, PML4, CR4_PAE, LM, 0x9000, -E_FAULT, 0 },
	{ "4l: pml4 outside ram", PG, OUTSIDE, CR4_PAE, LM, 0x7fff, -E_FAULT,
	  0 },
	{ "5-level", PG, PML4, CR4_PAE | CR4_LA57, LM, 0x7fff, -E_NOT_SUPP,
	  0 },
};

static bool run_case(const struct gcase *c)
{
	struct guest_dbgstate s = { .cr0 = c->cr0, .cr3 = c->cr3,
				    .cr4 = c->cr4, .efer = c->efer };
	uint64_t gpa = 0;
	int r = gva_walk(&s, c->la, scratch_read, NULL, &gpa, false);

	if (r != c->ret || (r == 0 && gpa != c->gpa)) {
		cprintf("gva: FAILED %s: la 0x%lx -> %d gpa 0x%lx, not %d gpa "
			"0x%lx\n", c->name, c->la, r, gpa, c->ret, c->gpa);
		return false;
	}
	return true;
}

int gva_selftest(void)
{
	unsigned i, bad = 0;

	build_tables();
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		if (!run_case(&cases[i]))
			bad++;
	if (bad)
		cprintf("gva: %u of %u cases FAILED\n", bad,
			(unsigned)ARRAY_SIZE(cases));
	else
		cprintf("gva: %u ok\n", (unsigned)ARRAY_SIZE(cases));
	return bad ? -E_INVAL : 0;
}
