/*
 * A polling ATA (IDE) disk driver for the primary channel, in PIO mode
 * with 28-bit LBA: enough for the file system's disk (the slave, disk 1).
 *
 * Invariants:
 *  - The channel never interrupts (nIEN is set); every wait polls the
 *    status register and gives up after IDE_TIMEOUT_MS with an error, so
 *    a missing or broken disk is reported, never waited on for ever.
 *  - A command starts only when the drive is not busy (a new command
 *    ends a failed one), and each call moves whole sectors that lie
 *    inside the disk and within LBA28.
 *  - Needs I/O privilege: the server runs as ENV_TYPE_FS, with IOPL 3.
 */
#include <inc/x86.h>
#include "fs.h"

/* Primary channel command-block registers. */
#define IDE_DATA 0x1F0
#define IDE_ERROR 0x1F1
#define IDE_NSECT 0x1F2
#define IDE_LBA_LO 0x1F3
#define IDE_LBA_MID 0x1F4
#define IDE_LBA_HI 0x1F5
#define IDE_DRIVE 0x1F6
#define IDE_STATUS 0x1F7 /* read */
#define IDE_CMD 0x1F7    /* write */
/* Primary channel control block: alternate status / device control. */
#define IDE_CTRL 0x3F6

/* Status bits. */
#define IDE_BSY 0x80  /* busy */
#define IDE_DRDY 0x40 /* ready for a command */
#define IDE_DF 0x20   /* device fault */
#define IDE_DRQ 0x08  /* wants to transfer data */
#define IDE_ERR 0x01  /* the last command failed */

/* Device control: no interrupts. */
#define IDE_CTRL_NIEN 0x02

/* Drive/head register: LBA mode, and bit 4 picks the slave. */
#define IDE_DRIVE_LBA 0xE0
#define IDE_DRIVE_SLAVE_SHIFT 4
#define IDE_LBA_TOP_MASK 0x0F /* LBA bits 24..27 go in the low nibble */

/* Commands. */
#define IDE_CMD_READ 0x20
#define IDE_CMD_WRITE 0x30
#define IDE_CMD_IDENTIFY 0xEC

/* LBA28 limits: sector numbers, and at most 256 sectors per command. */
#define IDE_LBA28_SECTORS (1U << 28)
#define IDE_MAX_NSECT 256

/* IDENTIFY data: 256 words; words 60-61 count the LBA28 sectors. */
#define IDENTIFY_WORDS 256
#define IDENTIFY_LBA28_WORD 60

/* An absent channel's bus floats high. */
#define IDE_FLOATING 0xFF

/*
 * How long a command may take before we call the disk broken: ATA allows
 * a drive up to 30 s to spin up, and an emulator on a loaded machine can
 * stall its disk for seconds while this server's clock keeps running.
 */
#define IDE_TIMEOUT_MS 30000
/* Times a failed read or write is issued again before it is an error. */
#define IDE_RETRIES 2
/* Status polls between looks at the clock (a look is a system call). */
#define IDE_SPINS_PER_CLOCK 1024
/* Reading the alternate status this often takes the 400 ns that a drive
 * may need before its status is valid after a select. */
#define IDE_SELECT_DELAY_READS 4

/* Which drive on the channel: 0 (master) or 1 (slave). */
static int diskno = FS_DISKNO;
/* The selected disk's size in sectors, from IDENTIFY (0: unknown). */
static uint64_t disk_nsecs;

/*
 * Poll the status register until none of the bits in busy and all of the
 * bits in ready are set. Returns the status, or -E_UNSPECIFIED on a
 * timeout, or, with check_err, when the drive reports an error or a
 * fault (the last command's error stays visible until the next command,
 * so waits before a command do not check).
 */
static int ide_wait(uint8_t busy, uint8_t ready, bool check_err)
{
	unsigned start = 0;
	uint8_t s;
	int spins = 0;

	for (;;) {
		s = inb(IDE_STATUS);
		if (check_err && !(s & IDE_BSY) && (s & (IDE_ERR | IDE_DF)))
			return -E_UNSPECIFIED;
		if (!(s & busy) && (s & ready) == ready)
			return s;
		if (++spins % IDE_SPINS_PER_CLOCK)
			continue;
		if (start == 0)
			start = sys_time_msec() + 1;
		else if (sys_time_msec() + 1 - start > IDE_TIMEOUT_MS)
			return -E_UNSPECIFIED;
	}
}

/* Point the channel at drive, and give it time to answer. */
static void ide_select(int drive, uint32_t lba_top)
{
	int i;

	outb(IDE_DRIVE, IDE_DRIVE_LBA | (drive << IDE_DRIVE_SLAVE_SHIFT) |
				(lba_top & IDE_LBA_TOP_MASK));
	for (i = 0; i < IDE_SELECT_DELAY_READS; i++)
		inb(IDE_CTRL);
}

/*
 * Is there an ATA disk at the primary channel's slave? If so, learn its
 * size and make it the disk ide_read and ide_write use.
 */
bool ide_probe_disk1(void)
{
	uint16_t id[IDENTIFY_WORDS];
	int r;

	outb(IDE_CTRL, IDE_CTRL_NIEN);
	ide_select(1, 0);
	r = inb(IDE_STATUS);
	if (r == 0 || r == IDE_FLOATING)
		return false;
	if (ide_wait(IDE_BSY, 0, false) < 0)
		return false;
	outb(IDE_CMD, IDE_CMD_IDENTIFY);
	/* No drive, or a packet (ATAPI) device: status 0 or ERR. */
	if (inb(IDE_STATUS) == 0 || ide_wait(IDE_BSY, IDE_DRQ, true) < 0)
		return false;
	insw(IDE_DATA, id, IDENTIFY_WORDS);
	ide_set_disk(1);
	disk_nsecs = id[IDENTIFY_LBA28_WORD] |
		     ((uint32_t)id[IDENTIFY_LBA28_WORD + 1] << 16);
	return disk_nsecs != 0;
}

void ide_set_disk(int d)
{
	if (d != 0 && d != 1)
		panic("ide_set_disk: bad disk number %d", d);
	diskno = d;
}

/* The selected disk's size in sectors (0 if it was never probed). */
uint64_t ide_nsectors(void)
{
	return disk_nsecs;
}

/*
 * Issue a read or write of nsecs sectors at secno, once the range is known
 * to fit LBA28, the disk and one command.
 */
static int ide_start(uint32_t secno, size_t nsecs, uint8_t cmd)
{
	if (nsecs == 0 || nsecs > IDE_MAX_NSECT ||
	    secno >= IDE_LBA28_SECTORS || nsecs > IDE_LBA28_SECTORS - secno ||
	    (disk_nsecs && secno + nsecs > disk_nsecs))
		return -E_INVAL;
	if (ide_wait(IDE_BSY, 0, false) < 0)
		return -E_UNSPECIFIED;
	ide_select(diskno, secno >> 24);
	if (ide_wait(IDE_BSY, IDE_DRDY, false) < 0)
		return -E_UNSPECIFIED;
	/* A count of 0 means 256 sectors: the cast does that. */
	outb(IDE_NSECT, (uint8_t)nsecs);
	outb(IDE_LBA_LO, secno & 0xFF);
	outb(IDE_LBA_MID, (secno >> 8) & 0xFF);
	outb(IDE_LBA_HI, (secno >> 16) & 0xFF);
	outb(IDE_CMD, cmd);
	return 0;
}

/* One read command of nsecs sectors at secno into dst. */
static int ide_read_once(uint32_t secno, void *dst, size_t nsecs)
{
	char *p = dst;
	int r;

	if ((r = ide_start(secno, nsecs, IDE_CMD_READ)) < 0)
		return r;
	for (; nsecs > 0; nsecs--, p += SECTSIZE) {
		if (ide_wait(IDE_BSY, IDE_DRQ, true) < 0)
			return -E_UNSPECIFIED;
		insl(IDE_DATA, p, SECTSIZE / 4);
	}
	return 0;
}

/* One write command of nsecs sectors from src to secno. */
static int ide_write_once(uint32_t secno, const void *src, size_t nsecs)
{
	const char *p = src;
	int r;

	if ((r = ide_start(secno, nsecs, IDE_CMD_WRITE)) < 0)
		return r;
	/* outsl does not tell the compiler it reads memory. */
	asm volatile("" : : : "memory");
	for (; nsecs > 0; nsecs--, p += SECTSIZE) {
		if (ide_wait(IDE_BSY, IDE_DRQ, true) < 0)
			return -E_UNSPECIFIED;
		outsl(IDE_DATA, p, SECTSIZE / 4);
	}
	/* The write is done when the drive is idle again, without error. */
	if (ide_wait(IDE_BSY | IDE_DRQ, IDE_DRDY, true) < 0)
		return -E_UNSPECIFIED;
	return 0;
}

/*
 * A failed command is worth one more try before the caller (the block
 * cache, which panics) sees it: say what the drive reported, so a flaky
 * disk leaves a trace even when the retry succeeds.
 */
static int ide_retry(const char *what, uint32_t secno, size_t nsecs, int r,
		     int attempt)
{
	if (r >= 0 || r == -E_INVAL || attempt >= IDE_RETRIES)
		return 0;
	cprintf("ide: %s of %lu sectors at %u failed (status %02x, error "
		"%02x); trying again\n",
		what, (unsigned long)nsecs, secno, inb(IDE_STATUS),
		inb(IDE_ERROR));
	return 1;
}

/* Read nsecs sectors from secno into dst. 0, or a negative error. */
int ide_read(uint32_t secno, void *dst, size_t nsecs)
{
	int r, attempt = 0;

	do
		r = ide_read_once(secno, dst, nsecs);
	while (ide_retry("read", secno, nsecs, r, attempt++));
	return r;
}

/* Write nsecs sectors from src to secno. 0, or a negative error. */
int ide_write(uint32_t secno, const void *src, size_t nsecs)
{
	int r, attempt = 0;

	do
		r = ide_write_once(secno, src, nsecs);
	while (ide_retry("write", secno, nsecs, r, attempt++));
	return r;
}
