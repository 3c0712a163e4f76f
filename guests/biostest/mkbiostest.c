/*
 * mkbiostest: writes the BIOS test disk (biostest.h has its layout). A
 * HOST program: it stands in for the vmm program, with its own gmem_ptr
 * over a buffer as "guest memory" [0, 1 MiB), and calls the real
 * fw_tables_build and bios_build (vmmdev/, built for the host) for a
 * guest of BT_RAM_MB MiB; the pages they wrote go onto the disk, which
 * the test program then puts in place under QEMU.
 *
 *   mkbiostest OUT.img BIOSTEST.bin
 *
 * Invariants: a page range either function left unwritten, a byte
 * written outside the IVT, BDA, jump to POST, BIOS and EBDA, a program
 * too big for its sectors, or any I/O error fails with a message and
 * exit status 1, leaving no OUT.img.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmmdev/bios.h>
#include <vmmdev/fwtables.h>
#include <guests/biostest/biostest.h>

#define GMEM_SIZE (1u << 20)
#define MEM_FILL 0xA5 /* what no function writes */
#define MIB (1u << 20)
#define DWORD 4

static uint8_t gmem[GMEM_SIZE];
static uint8_t disk[BT_DISK_SECTORS * BT_SECTOR];

void *gmem_ptr(uint64_t gpa, size_t n)
{
	if (gpa > GMEM_SIZE || n > GMEM_SIZE - gpa)
		return NULL;
	return gmem + gpa;
}

/* vmmdev's messages. */
int cprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(stderr, fmt, ap);
	va_end(ap);
	return n;
}

static void die(const char *why, const char *what)
{
	fprintf(stderr, "mkbiostest: %s%s%s\n", why, what ? ": " : "",
		what ? what : "");
	exit(1);
}

/* n bytes of guest memory at gpa to the disk at LBA lba. */
static void put_pages(unsigned lba, uint32_t gpa, size_t n)
{
	memcpy(disk + (size_t)lba * BT_SECTOR, gmem + gpa, n);
}

/* Nothing but [0, end of the BDA), the jump at BIOS_RESET_PA and
 * [BIOS_PA, 0xA0000) was written. */
static int untouched_outside(void)
{
	uint32_t pa;

	for (pa = FW_BDA_PA + FW_BDA_SIZE; pa < GMEM_SIZE; pa++)
		if ((pa < BIOS_PA || pa >= BIOS_RESERVED_END) &&
		    (pa < BIOS_RESET_PA ||
		     pa >= BIOS_RESET_PA + BIOS_RESET_SIZE) &&
		    gmem[pa] != MEM_FILL)
			return 0;
	return 1;
}

static void put_patterns(void)
{
	unsigned lba, i;

	for (lba = BT_PATTERN_LBA; lba < BT_DISK_SECTORS; lba++) {
		uint8_t *s = disk + (size_t)lba * BT_SECTOR;
		memcpy(s, &lba, DWORD);
		for (i = DWORD; i < BT_SECTOR; i++)
			s[i] = (uint8_t)(i + lba);
	}
}

static void put_program(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t max = (1 + BT_CODE_SECTORS) * BT_SECTOR, n;

	if (!f)
		die("cannot open", path);
	n = fread(disk, 1, max + 1, f);
	fclose(f);
	if (n > max)
		die("the program is bigger than its sectors", path);
}

int main(int argc, char **argv)
{
	uint64_t ram = (uint64_t)BT_RAM_MB * MIB;
	char tmp[4096];
	FILE *f;

	if (argc != 3)
		die("usage: mkbiostest OUT.img BIOSTEST.bin", NULL);
	memset(gmem, MEM_FILL, sizeof(gmem));
	fw_tables_build(1, ram);
	if (bios_build(ram) != 0)
		die("bios_build refused", NULL);
	if (gmem[FW_EBDA_PA] == MEM_FILL || gmem[BIOS_PA] == MEM_FILL ||
	    gmem[BIOS_RESET_PA] != BIOS_JMP_FAR)
		die("fw_tables_build or bios_build wrote nothing", NULL);
	if (!untouched_outside())
		die("a byte outside the IVT, BDA, BIOS and EBDA was written",
		    NULL);
	put_program(argv[2]);
	put_pages(BT_PAGES_LBA, BIOS_IVT_PA, BT_IVT_BYTES);
	put_pages(BT_PAGES_LBA + BT_IVT_BYTES / BT_SECTOR, BT_BDA_PA,
		  BT_BDA_BYTES);
	memcpy(disk + (BT_PAGES_LBA + BT_IVT_BYTES / BT_SECTOR) * BT_SECTOR +
		       BT_RESET_AT, gmem + BIOS_RESET_PA, BIOS_RESET_SIZE);
	put_pages(BT_PAGES_LBA + BT_IVT_BYTES / BT_SECTOR + BT_BDA_SECTORS,
		  BIOS_PA, BT_RES_BYTES);
	put_patterns();
	snprintf(tmp, sizeof(tmp), "%s~", argv[1]);
	if (!(f = fopen(tmp, "wb")) ||
	    fwrite(disk, 1, sizeof(disk), f) != sizeof(disk) || fclose(f) != 0)
		die("cannot write", tmp);
	if (rename(tmp, argv[1]) != 0)
		die("cannot rename to", argv[1]);
	return 0;
}

_Static_assert(BIOS_RESERVED_END - BIOS_PA == BT_RES_BYTES,
	       "the disk carries the BIOS and the EBDA whole");
_Static_assert(BT_BDA_PA == FW_BDA_PA && BT_BDA_BYTES == FW_BDA_SIZE,
	       "the disk carries the BDA");
_Static_assert(BT_IVT_BYTES == BIOS_IVT_SIZE, "the disk carries the IVT");
_Static_assert(BT_RESET_AT >= BT_BDA_BYTES &&
		       BT_RESET_AT + BIOS_RESET_SIZE <= BT_SECTOR,
	       "the jump fits the BDA's sector after the BDA");
_Static_assert(BT_PAGES_LBA + BT_PAGES_SECTORS <= BT_PATTERN_LBA,
	       "the pages end before the patterns");
