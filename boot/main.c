/*
 * Second half of the boot sector, in 32-bit protected mode: read the kernel
 * ELF image from the boot disk with ATA PIO (no BIOS any more) and jump to
 * its entry point.
 *
 * Disk layout: sector 0 is this boot sector; sector 1 holds the kernel
 * command line (a NUL-terminated string, empty by default: `make run-NAME`
 * writes one); the kernel ELF file starts at sector 2 (KERNEL_SECTOR) and
 * runs contiguously. The kernel's program
 * headers give physical load addresses (p_pa), so no paging is needed yet.
 *
 * The whole boot sector must fit in 510 bytes: no error messages, and only
 * the low 32 bits of the ELF64 fields are used (the kernel loads below
 * 4 GiB).
 */
#include <inc/x86.h>
#include <inc/elf.h>
#include <inc/multiboot.h>

#define SECTSIZE 512
#define CMDLINE_SECTOR 1
#define KERNEL_SECTOR 2
/* Scratch space for the first page of the ELF file (headers). */
#define ELFHDR ((struct Elf *)0x10000)
#define ELFHDR_BYTES 4096

/* Primary ATA channel, master drive, LBA28 PIO (ATA/ATAPI-6 8.27). */
#define ATA_DATA 0x1F0
#define ATA_COUNT 0x1F2
#define ATA_LBA0 0x1F3
#define ATA_LBA1 0x1F4
#define ATA_LBA2 0x1F5
#define ATA_DRIVE 0x1F6
#define ATA_CMD 0x1F7 /* status when read */
#define ATA_DRIVE_LBA 0xE0
#define ATA_CMD_READ 0x20
#define ATA_ST_BSY 0x80
#define ATA_ST_DRDY 0x40

static void ata_wait(void)
{
	while ((inb(ATA_CMD) & (ATA_ST_BSY | ATA_ST_DRDY)) != ATA_ST_DRDY)
		;
}

static void read_sector(uint32_t dst, uint32_t lba)
{
	ata_wait();
	outb(ATA_COUNT, 1);
	outb(ATA_LBA0, lba);
	outb(ATA_LBA1, lba >> 8);
	outb(ATA_LBA2, lba >> 16);
	outb(ATA_DRIVE, ATA_DRIVE_LBA | ((lba >> 24) & 0xF));
	outb(ATA_CMD, ATA_CMD_READ);
	ata_wait();
	insl(ATA_DATA, (void *)dst, SECTSIZE / 4);
}

/*
 * Read `len` bytes at file offset `off` of the kernel image to physical
 * address `pa`. Whole sectors are read, so a little before and after the
 * range may be overwritten too (harmless: segments are laid out in order).
 */
static void read_seg(uint32_t pa, uint32_t len, uint32_t off)
{
	uint32_t end = pa + len;
	uint32_t lba = off / SECTSIZE + KERNEL_SECTOR;

	for (pa -= off % SECTSIZE; pa < end; pa += SECTSIZE, lba++)
		read_sector(pa, lba);
}

__attribute__((noreturn)) void bootmain(void)
{
	struct multiboot_info *mbi = (struct multiboot_info *)BOOT_MBINFO_ADDR;
	struct Proghdr *ph, *eph;

	read_seg((uint32_t)ELFHDR, ELFHDR_BYTES, 0);
	if (ELFHDR->e_magic != ELF_MAGIC)
		for (;;) /* not a kernel: nothing sensible to do */
			;

	ph = (struct Proghdr *)((uint8_t *)ELFHDR + (uint32_t)ELFHDR->e_phoff);
	eph = ph + ELFHDR->e_phnum;
	for (; ph < eph; ph++)
		if (ph->p_type == ELF_PROG_LOAD)
			read_seg(ph->p_pa, ph->p_filesz, ph->p_offset);

	read_sector(BOOT_CMDLINE_ADDR, CMDLINE_SECTOR);

	/* boot.S filled in mmap_length; the kernel zeroes its own bss. */
	mbi->flags = MB_FLAG_MMAP | MB_FLAG_CMDLINE;
	mbi->mmap_addr = BOOT_MMAP_ADDR;
	mbi->cmdline = BOOT_CMDLINE_ADDR;
	asm volatile("jmp *%0"
		     :
		     : "r"((uint32_t)ELFHDR->e_entry),
		       "a"(MULTIBOOT_BOOTLOADER_MAGIC), "b"(mbi));
	__builtin_unreachable();
}
