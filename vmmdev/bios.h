/*
 * The BIOS of a PC-kind guest (`vmm -i IMAGE`): 16-bit real-mode services
 * for boot sectors and boot loaders (vmmdev/bios16.S), and their layout
 * in guest memory, which vmmdev/bios.c writes before the guest starts.
 * Included by both (this file is safe for the assembler).
 *
 * Guest-physical layout below 1 MiB (the legacy hole [0xA0000, 1 MiB) is
 * never RAM, inc/vmx.h, so the BIOS lives in low RAM, under the EBDA):
 *   [0, BIOS_IVT_SIZE)           the real-mode IVT (bios_build)
 *   [0x400, 0x500)               the BIOS data area (fw_tables_build)
 *   [0x7C00, 0x7C05)             a far jump to POST, where the guest
 *                                starts (bios_build); POST reads the
 *                                boot sector over it
 *   [BIOS_PA, BIOS_END)          the BIOS segment: header, data, code
 *                                (bios_build); E820 type 2
 *   [BIOS_END, 0xA0000)          the EBDA (fw_tables_build); E820 type 2
 * The BDA's base-memory word (0x413) is BIOS_PA / 1 KiB: the RAM below the
 * lowest reserved byte (fwtables.h's FW_BASEMEM_END is the same address).
 *
 * Invariants:
 * - bios16.S is linked at offset 0 of segment BIOS_SEG: every label is an
 *   offset in that segment, and the blob's header lies at the BH_*
 *   offsets below (bios16.S checks each with an assembly-time assertion).
 * - The blob with its data fits [BIOS_PA, BIOS_END) (bios16.S's .org
 *   fails the build otherwise).
 */
#ifndef JOS_VMMDEV_BIOS_H
#define JOS_VMMDEV_BIOS_H

/* Where everything is. */
#define BIOS_IVT_PA 0x0
#define BIOS_NVEC 256
#define BIOS_IVT_SIZE (BIOS_NVEC * 4) /* offset word, segment word */
#define BIOS_SEG 0x9F00
#define BIOS_PA (BIOS_SEG << 4) /* 0x9F000 */
#define BIOS_END 0x9FC00  /* fwtables.h's FW_EBDA_PA */
#define BIOS_SIZE (BIOS_END - BIOS_PA)
#define BIOS_RESERVED_END 0xA0000 /* the EBDA's end, the hole's start */
#define BIOS_HIGH_PA 0x100000     /* RAM again (inc/vmx.h) */

/* Where the guest starts: bios_build puts a far jump to POST there
 * (BIOS_RESET_SIZE bytes), which POST then overwrites with the boot
 * sector. */
#define BIOS_RESET_PA 0x7C00
#define BIOS_RESET_SIZE 5 /* JMP ptr16:16: opcode, offset, segment */
#define BIOS_JMP_FAR 0xEA

/* What POST leaves for the boot sector (the PC convention). */
#define BIOS_BOOT_PA 0x7C00 /* CS:IP = 0:7C00 */
#define BIOS_BOOT_DRIVE 0x80 /* DL: the first hard disk */
#define BIOS_BOOT_SP 0x7C00 /* SS:SP = 0:7C00, below the boot sector */

/* The header at the start of the segment: the handlers' offsets (bios_build
 * points the IVT at them) and the data bios_build fills in. Words unless
 * said otherwise. */
#define BH_MAGIC 0x00     /* 4 bytes: BIOS_MAGIC */
#define BH_POST 0x04      /* power-on entry: PIC/PIT set up, then 0:7C00 */
#define BH_IRET 0x06      /* unused vectors */
#define BH_IRQ0 0x08      /* vector 08h: timer tick, then EOI */
#define BH_IRQ_MASTER 0x0A /* vectors 09h-0Fh: EOI to the master PIC */
#define BH_IRQ_SLAVE 0x0C /* vectors 70h-77h: EOI to both PICs */
#define BH_INT10 0x0E
#define BH_INT12 0x10
#define BH_INT13 0x12
#define BH_INT15 0x14
#define BH_INT16 0x16
#define BH_INT1A 0x18
#define BH_E801_LO 0x1A   /* KiB of RAM in [1 MiB, 16 MiB) */
#define BH_E801_HI 0x1C   /* 64 KiB blocks of RAM above 16 MiB */
#define BH_EXT_KB 0x1E    /* INT 15h AH=88h: KiB above 1 MiB (<= 0xFFFF) */
#define BH_E820_N 0x20    /* entries in the E820 table */
#define BH_KEY 0x22       /* byte: a key INT 16h AH=01h saw, if BH_KEY_FULL */
#define BH_KEY_FULL 0x23  /* byte: 1 while BH_KEY holds a key */
#define BH_DEV 0x24       /* byte: INT 13h's ATA device bit (scratch) */
#define BH_CMD 0x25       /* byte: INT 13h's ATA command (scratch) */
#define BH_RESERVED 0x26  /* 2 bytes */
#define BH_E820 0x28      /* BIOS_E820_MAX entries of BIOS_E820_ENTRY bytes */
#define BIOS_E820_MAX 4
#define BIOS_E820_ENTRY 20 /* base (8 bytes), length (8), type (4) */
#define BH_CODE (BH_E820 + BIOS_E820_MAX * BIOS_E820_ENTRY)

#define BIOS_MAGIC 0x4F49424A /* "JBIO" in memory */

/* E820 address range types (ACPI spec, "INT 15H E820H"). */
#define E820_RAM 1
#define E820_RESERVED 2

#ifndef __ASSEMBLER__
#include <inc/types.h>

/*
 * Write the BIOS of a PC-kind guest with ram_bytes of guest-physical
 * address space (RAM in [0, 0xA0000) and [1 MiB, ram_bytes), inc/vmx.h)
 * through gmem_ptr, before the guest starts: the IVT (all 256 vectors),
 * the jump to POST at BIOS_RESET_PA, and the BIOS segment with its E820
 * table and memory sizes. Call it and fw_tables_build in either order
 * (they write disjoint ranges). The guest
 * then starts in real mode at 0:7C00, in POST (bios.c's top comment says
 * what POST does and what a loader that skips it must do).
 * 0, or -E_INVAL (RAM smaller than BIOS_RAM_MIN, or not staged by
 * gmem_ptr), having said why in one line and written nothing.
 */
int bios_build(uint64_t ram_bytes);

/* The guest RAM the BIOS needs at least: low RAM and 1 MiB above the hole. */
#define BIOS_RAM_MIN (2u << 20)
#endif

#endif /* !JOS_VMMDEV_BIOS_H */
