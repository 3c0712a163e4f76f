/*
 * The layout of the BIOS test disk (grade test bios-services), shared by
 * the test program (biostest.S) and the host tool that writes the disk
 * (mkbiostest.c). Safe for the assembler.
 *
 *   LBA 0                   biostest.S's boot sector
 *   LBA 1 ..                the rest of biostest.S (BT_CODE_SECTORS)
 *   LBA BT_PAGES_LBA ..     what fw_tables_build and bios_build wrote into
 *                           a guest of BT_RAM_MB MiB: the IVT, the BDA (and
 *                           at BT_RESET_AT in its sector the jump to POST
 *                           from 0x7C00), and [BIOS_PA, 0xA0000) (the BIOS
 *                           and the EBDA)
 *   LBA BT_PATTERN_LBA ..   to the end (BT_DISK_SECTORS): sector L holds
 *                           the dword L, then byte i = (i + L) mod 256
 *
 * Invariants: the pages follow the code directly, so one read of
 * BT_LOAD_SECTORS from LBA 1 to BT_CODE_PA brings both in; they all end
 * below BT_PATTERN_LBA.
 */
#ifndef JOS_GUESTS_BIOSTEST_H
#define JOS_GUESTS_BIOSTEST_H

#define BT_SECTOR 512
#define BT_BOOT_PA 0x7C00
#define BT_CODE_PA 0x7E00        /* LBA 1 onwards */
#define BT_CODE_SECTORS 15
#define BT_PAGES_LBA (1 + BT_CODE_SECTORS)
#define BT_IVT_BYTES 0x400
#define BT_BDA_PA 0x400
#define BT_BDA_BYTES 0x100
#define BT_BDA_SECTORS 1
#define BT_RESET_AT 0x100        /* in the BDA's sector: bios_build's jump */
#define BT_RES_BYTES 0x1000      /* [BIOS_PA, 0xA0000) */
#define BT_PAGES_SECTORS                                                   \
	(BT_IVT_BYTES / BT_SECTOR + BT_BDA_SECTORS + BT_RES_BYTES / BT_SECTOR)
#define BT_LOAD_SECTORS (BT_CODE_SECTORS + BT_PAGES_SECTORS)
/* Where the pages land when loaded with the code. */
#define BT_IVT_STAGED (BT_CODE_PA + BT_CODE_SECTORS * BT_SECTOR)
#define BT_BDA_STAGED (BT_IVT_STAGED + BT_IVT_BYTES)
#define BT_RES_STAGED (BT_BDA_STAGED + BT_BDA_SECTORS * BT_SECTOR)
#define BT_PATTERN_LBA 64
#define BT_DISK_SECTORS 8192     /* 4 MiB */
#define BT_RAM_MB 32             /* QEMU's -m and bios_build's RAM */

/* isa-debug-exit (port 0xf4): QEMU ends with status (code << 1) | 1. */
#define BT_EXIT_PORT 0xf4
#define BT_PASS 0x21             /* status 67 */
#define BT_FAIL 0x11             /* status 35 */
#define BT_FAIL_LOAD 0x12        /* status 37: the first read failed */
#define BT_PASS2_MAGIC 0x32535350 /* "PSS2": POST started us again */

#endif /* !JOS_GUESTS_BIOSTEST_H */
