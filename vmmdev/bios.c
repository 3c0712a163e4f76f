/*
 * bios_build: puts the BIOS of a PC-kind guest into its memory before it
 * starts: the real-mode IVT and the BIOS segment (vmmdev/bios16.S's blob,
 * with the E820 table and the memory sizes of this guest filled in).
 * vmmdev/bios.h has the layout and the services.
 *
 * How the `-i IMAGE` loader uses it (user/vmm.c or vmmdev/pc.c):
 *   1. Stage guest RAM for gmem_ptr; call fw_tables_build(ncpus,
 *      ram_bytes) and bios_build(ram_bytes), in either order: bios_build
 *      writes [0, 0x400) (the IVT), [0x7C00, 0x7C05) (a far jump to POST)
 *      and [BIOS_PA, BIOS_END) = [0x9F000, 0x9FC00); fw_tables_build the
 *      BDA [0x400, 0x500) and the EBDA [0x9FC00, 0xA0000). Register the
 *      devices (IDE with IMAGE as master, COM1, PIC, PIT) before the start.
 *   2. Start the vCPU in real mode at CS:IP = 0:7C00 (CS base 0), IF
 *      clear, any SS:SP and general registers: sys_env_mkguest(gphysz,
 *      GUEST_BOOT_PA) as for the JOS guest. POST programs both 8259s
 *      (vectors 08h and 70h, only IRQ 0 and the cascade unmasked), the PIT
 *      (channel 0, mode 3, 18.2 Hz), counts the IDE disks into the BDA,
 *      reads drive 80h's sector 0 to 0:7C00 with its own INT 13h, checks
 *      55AAh, and jumps to 0:7C00 with DL = 80h, SS:SP = 0:7C00, DS = ES =
 *      0, the other general registers 0 and IF set. (No boot sector: a
 *      line on COM1 and HLT with IF clear.)
 *   A loader that puts IMAGE's first sector at 0x7C00 itself, after
 *   bios_build, overwrites the jump and skips POST: it must then leave the
 *   state above (DL = 80h, SS:SP), and INT 1Ah's ticks advance only if the
 *   PICs and the PIT are set up as POST sets them.
 * The guest's memory map (what INT 15h E820 reports, and what the loader
 * must not put anything else into): RAM [0, BIOS_PA), reserved [BIOS_PA,
 * 0xA0000) (the BIOS, then the EBDA), the legacy hole, RAM [1 MiB,
 * ram_bytes). The BDA's base-memory word says BIOS_PA / 1 KiB = 636 KiB.
 *
 * Invariants:
 * - Everything is composed in local buffers and copied to the guest only
 *   when every check passed: a refused call writes no guest byte.
 * - Only [0, BIOS_IVT_SIZE), [BIOS_RESET_PA, BIOS_RESET_PA +
 *   BIOS_RESET_SIZE) and [BIOS_PA, BIOS_END) are written.
 * - Every vector has a handler: the named services, the IRQ stubs at
 *   08h-0Fh and 70h-77h, and an IRET stub for all others.
 */
#include <inc/types.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/error.h>
#include <vmmdev/dev.h>
#include <vmmdev/bios.h>
#include <vmmdev/fwtables.h>

/* The assembled bios16.S, BIOS_SIZE bytes (vmmdev/biosblob.S). */
extern const uint8_t bios16_blob[], bios16_blob_end[];

_Static_assert(BIOS_END == FW_EBDA_PA, "the BIOS ends where the EBDA starts");
_Static_assert(BIOS_PA == FW_BASEMEM_END,
	       "the BDA's base memory ends where the BIOS starts");
_Static_assert(BIOS_RESERVED_END == FW_EBDA_PA + FW_EBDA_SIZE,
	       "the reserved range is the BIOS and the EBDA");
_Static_assert(BH_CODE <= BIOS_SIZE, "the header fits the segment");

#define KIB 1024ull
#define MIB (1024 * KIB)
#define E801_SPLIT (16 * MIB) /* E801h: KiB below it, 64 KiB blocks above */
#define E801_BLOCK (64 * KIB)
#define WORD_MAX 0xFFFFull

/* The interrupt controllers' vectors (POST programs the 8259s so). */
#define VEC_IRQ0 0x08
#define VEC_IRQ8 0x70
#define PIC_IRQS 8

static const struct {
	uint8_t vec;
	uint16_t field; /* the header word holding its handler */
} services[] = {
	{0x10, BH_INT10}, {0x12, BH_INT12}, {0x13, BH_INT13},
	{0x15, BH_INT15}, {0x16, BH_INT16}, {0x1A, BH_INT1A},
};

static uint8_t seg[BIOS_SIZE];
static uint16_t ivt[BIOS_NVEC][2]; /* offset, segment */

static uint16_t get16(unsigned off)
{
	uint16_t v;

	memcpy(&v, seg + off, sizeof(v));
	return v;
}

static void put16(unsigned off, uint64_t v)
{
	uint16_t w = v > WORD_MAX ? WORD_MAX : v;

	memcpy(seg + off, &w, sizeof(w));
}

static void e820_put(unsigned i, uint64_t base, uint64_t end, uint32_t type)
{
	uint8_t *e = seg + BH_E820 + i * BIOS_E820_ENTRY;
	uint64_t len = end - base;

	memcpy(e, &base, sizeof(base));
	memcpy(e + 8, &len, sizeof(len));
	memcpy(e + 16, &type, sizeof(type));
}

/* The memory sizes INT 15h reports, for RAM up to ram_bytes. */
static void memory_fill(uint64_t ram_bytes)
{
	uint64_t low_end = MIN(ram_bytes, (uint64_t)E801_SPLIT);
	unsigned n = 0;

	put16(BH_E801_LO, (low_end - BIOS_HIGH_PA) / KIB);
	put16(BH_E801_HI, ram_bytes > E801_SPLIT ?
			      (ram_bytes - E801_SPLIT) / E801_BLOCK : 0);
	put16(BH_EXT_KB, (ram_bytes - BIOS_HIGH_PA) / KIB);
	e820_put(n++, 0, BIOS_PA, E820_RAM);
	e820_put(n++, BIOS_PA, BIOS_RESERVED_END, E820_RESERVED);
	e820_put(n++, BIOS_HIGH_PA, ram_bytes, E820_RAM);
	put16(BH_E820_N, n);
}

/* The handler offset of vector vec. */
static uint16_t handler(unsigned vec)
{
	unsigned i;

	if (vec == VEC_IRQ0)
		return get16(BH_IRQ0);
	if (vec > VEC_IRQ0 && vec < VEC_IRQ0 + PIC_IRQS)
		return get16(BH_IRQ_MASTER);
	if (vec >= VEC_IRQ8 && vec < VEC_IRQ8 + PIC_IRQS)
		return get16(BH_IRQ_SLAVE);
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (services[i].vec == vec)
			return get16(services[i].field);
	return get16(BH_IRET);
}

/* JMP BIOS_SEG:post, where the guest starts. */
static void reset_fill(uint8_t *jmp)
{
	uint16_t off = get16(BH_POST), sel = BIOS_SEG;

	jmp[0] = BIOS_JMP_FAR;
	memcpy(jmp + 1, &off, sizeof(off));
	memcpy(jmp + 3, &sel, sizeof(sel));
}

int bios_build(uint64_t ram_bytes)
{
	size_t blob = bios16_blob_end - bios16_blob;
	void *ivt_gpa, *seg_gpa, *reset_gpa;
	uint8_t reset[BIOS_RESET_SIZE];
	uint32_t magic;
	unsigned v;

	memcpy(&magic, bios16_blob, sizeof(magic));
	if (blob != BIOS_SIZE || magic != BIOS_MAGIC) {
		cprintf("vmm: bios: the blob is %lu bytes, magic 0x%x (want %u, "
			"0x%x): none written\n", (unsigned long)blob, magic,
			BIOS_SIZE, BIOS_MAGIC);
		return -E_INVAL;
	}
	if (ram_bytes < BIOS_RAM_MIN) {
		cprintf("vmm: bios: %lu bytes of RAM, %u needed: none written\n",
			(unsigned long)ram_bytes, BIOS_RAM_MIN);
		return -E_INVAL;
	}
	ivt_gpa = gmem_ptr(BIOS_IVT_PA, BIOS_IVT_SIZE);
	seg_gpa = gmem_ptr(BIOS_PA, BIOS_SIZE);
	reset_gpa = gmem_ptr(BIOS_RESET_PA, BIOS_RESET_SIZE);
	if (!ivt_gpa || !seg_gpa || !reset_gpa) {
		cprintf("vmm: bios: guest memory at 0x%x not staged: none "
			"written\n", !ivt_gpa ? BIOS_IVT_PA :
			!seg_gpa ? BIOS_PA : BIOS_RESET_PA);
		return -E_INVAL;
	}
	memcpy(seg, bios16_blob, BIOS_SIZE);
	memory_fill(ram_bytes);
	for (v = 0; v < BIOS_NVEC; v++) {
		ivt[v][0] = handler(v);
		ivt[v][1] = BIOS_SEG;
	}
	reset_fill(reset);
	memcpy(ivt_gpa, ivt, BIOS_IVT_SIZE);
	memcpy(reset_gpa, reset, BIOS_RESET_SIZE);
	memcpy(seg_gpa, seg, BIOS_SIZE);
	return 0;
}
