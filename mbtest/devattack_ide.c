/*
 * IDE attacks (devattack.h): commands the emulated disk must refuse with
 * its error bits, transfers that never started, and string I/O far
 * longer than any transfer. The guest runs with an IDE master (vmm -k
 * ... -i IMAGE); its size comes from IDENTIFY (words 60-61).
 * Reference: ATA/ATAPI-6 (T13 1410D): 7.15 status (BSY, DRDY, DRQ, ERR),
 * 7.9 error (IDNF, ABRT), 8.27/8.62 READ/WRITE SECTORS (count 0 means
 * 256), 8.15 IDENTIFY DEVICE; 9.2 SRST.
 *
 * Invariants:
 * - The only sector written is the image's last, with the bytes read
 *   from it just before: the image keeps its contents and its size.
 * - nIEN stays set: IRQ 14 is not part of these attacks.
 */
#include "devattack.h"
#include "ata.h"

#define SECTOR 512
#define ID_LBA_LO 60
#define ID_LBA_HI 61
#define LBA28_MAX 0x0FFFFFFF
#define DH_LBA_HIGH 0x0F     /* LBA bits 27:24 in the drive/head register */
#define COUNT_256 0           /* a count register of 0 means 256 */
#define SECTORS_256 256
#define TAIL_SECTORS 3
#define NCOMMANDS 256
#define NO_XFER_WORDS 1000
#define ALL_ONES16 0xFFFF
/* The huge rep insw: 8 MiB of words, 8,192 exits of 1 KiB. */
#define HUGE_WORDS (4 << 20)

static u32 nsectors;

static void insw(void *dst, u32 words)
{
	asm volatile("cld; rep insw" : "+D"(dst), "+c"(words)
		     : "d"(IDE_DATA) : "memory");
}

static void outsw(const void *src, u32 words)
{
	asm volatile("cld; rep outsw" : "+S"(src), "+c"(words)
		     : "d"(IDE_DATA) : "memory");
}

/* Status once BSY is clear (bounded: a wedged model fails the attack). */
static u8 wait(const char *name)
{
	u32 i;
	u8 s;

	for (i = 0; i < DA_POLL_MAX; i++)
		if (!((s = inb(IDE_CMD)) & ST_BSY))
			return s;
	da_check(0, name, "BSY never cleared");
	return s;
}

static u8 command(const char *name, u8 dh, u8 cmd, u32 lba, u8 count)
{
	outb(IDE_DEVCTL, DC_NIEN);
	outb(IDE_DH, dh | ((lba >> 24) & DH_LBA_HIGH));
	outb(IDE_COUNT, count);
	outb(IDE_LBA0, lba);
	outb(IDE_LBA1, lba >> 8);
	outb(IDE_LBA2, lba >> 16);
	outb(IDE_CMD, cmd);
	return wait(name);
}

/* The master's size, from IDENTIFY; every IDE attack starts here. */
static void identify(const char *name)
{
	u16 *w = (u16 *)DA_SCRATCH;
	u8 s = command(name, DH_LBA, CMD_IDENTIFY, 0, 0);

	da_check((s & (ST_DRQ | ST_ERR)) == ST_DRQ, name,
		 "IDENTIFY of the master has no data (run with -i IMAGE)");
	insw(w, SECTOR_WORDS);
	nsectors = w[ID_LBA_LO] | (u32)w[ID_LBA_HI] << 16;
	da_check(nsectors > SECTORS_256, name, "the image is too small");
}

/* A refused command: ERR with this error bit, and no data phase. */
static void refused(const char *name, u8 s, u8 bit, const char *why)
{
	da_check((s & (ST_ERR | ST_DRQ)) == ST_ERR &&
		 (inb(IDE_ERROR) & bit), name, why);
}

static void lba_past_end(const struct mb_info *mbi, const char *name)
{
	u8 s;

	identify(name);
	s = command(name, DH_LBA, CMD_READ, nsectors, 1);
	refused(name, s, ER_IDNF, "READ at the image's end is not IDNF");
	s = command(name, DH_LBA, CMD_READ, LBA28_MAX, 1);
	refused(name, s, ER_IDNF, "READ at LBA 0x0FFFFFFF is not IDNF");
	/* Two sectors from the last: one comes, then IDNF. */
	s = command(name, DH_LBA, CMD_READ, nsectors - 1, 2);
	da_check(s & ST_DRQ, name, "the last sector has no data");
	insw((void *)DA_SCRATCH, SECTOR_WORDS);
	refused(name, wait(name), ER_IDNF, "the sector past the end came");
	da_begin(name);
	da_kv("sectors", nsectors);
	da_kv("status", s);
	da_end();
}

static void write_past_end(const struct mb_info *mbi, const char *name)
{
	u8 *last = (u8 *)DA_SCRATCH;
	u8 s;

	identify(name);
	s = command(name, DH_LBA, CMD_WRITE, nsectors, 1);
	refused(name, s, ER_IDNF, "WRITE at the image's end is not IDNF");
	s = command(name, DH_LBA, CMD_WRITE, LBA28_MAX, COUNT_256);
	refused(name, s, ER_IDNF, "WRITE at 0x0FFFFFFF is not IDNF");
	/* The last sector, written back as it was; the next is IDNF. */
	s = command(name, DH_LBA, CMD_READ, nsectors - 1, 1);
	da_check(s & ST_DRQ, name, "the last sector has no data");
	insw(last, SECTOR_WORDS);
	s = command(name, DH_LBA, CMD_WRITE, nsectors - 1, 2);
	da_check(s & ST_DRQ, name, "WRITE of the last sector wants no data");
	outsw(last, SECTOR_WORDS);
	s = wait(name);
	refused(name, s, ER_IDNF, "a write past the end was taken");
	da_begin(name);
	da_kv("status", s);
	da_kv("error", inb(IDE_ERROR));
	da_end();
}

/* Count 0 is 256 sectors: all of them from LBA 0, and from three
 * before the end three then IDNF. */
static void count_zero(const struct mb_info *mbi, const char *name)
{
	u32 i;
	u8 s;

	identify(name);
	s = command(name, DH_LBA, CMD_READ, 0, COUNT_256);
	for (i = 0; i < SECTORS_256; i++) {
		da_check((s & (ST_DRQ | ST_ERR)) == ST_DRQ, name,
			 "fewer than 256 sectors for count 0");
		insw((void *)(DA_SCRATCH + i * SECTOR), SECTOR_WORDS);
		s = wait(name);
	}
	da_check(!(s & (ST_DRQ | ST_ERR)), name, "a 257th sector, or ERR");
	s = command(name, DH_LBA, CMD_READ, nsectors - TAIL_SECTORS,
		    COUNT_256);
	for (i = 0; i < TAIL_SECTORS; i++) {
		da_check(s & ST_DRQ, name, "a sector before the end missing");
		insw((void *)DA_SCRATCH, SECTOR_WORDS);
		s = wait(name);
	}
	refused(name, s, ER_IDNF, "no IDNF after the last sector");
	da_begin(name);
	da_kv("sectors_read", SECTORS_256 + TAIL_SECTORS);
	da_end();
}

static void dma(const struct mb_info *mbi, const char *name)
{
	static const u8 cmds[] = { CMD_READ_DMA, CMD_WRITE_DMA,
				   CMD_READ_DMA_EXT, CMD_WRITE_DMA_EXT };
	u32 i;

	identify(name);
	for (i = 0; i < sizeof(cmds); i++)
		refused(name, command(name, DH_LBA, cmds[i], 0, 1),
			ER_ABRT, "a DMA command was not aborted");
	da_begin(name);
	da_kv("commands", sizeof(cmds));
	da_end();
}

/* Drain a data phase, at most one sector's words; the status after. */
static u8 drain(const char *name, u8 s)
{
	u32 i;

	for (i = 0; (s & ST_DRQ) && i < SECTOR_WORDS; i++) {
		(void)inw(IDE_DATA);
		s = inb(IDE_CMD);
	}
	return s;
}

/* Every command byte, at an LBA past the end: each ends (BSY clear),
 * a data phase ends within a sector; then SRST, and IDENTIFY works. */
static void every_command(const struct mb_info *mbi, const char *name)
{
	u32 c, errs = 0, data = 0;
	u8 s;

	identify(name);
	for (c = 0; c < NCOMMANDS; c++) {
		s = command(name, DH_LBA, c, nsectors, 1);
		errs += !!(s & ST_ERR);
		if (s & ST_DRQ) {
			data++;
			s = drain(name, s);
			/* A write's sector: the data phase wants words. */
			if (s & ST_DRQ)
				outsw((void *)DA_SCRATCH, SECTOR_WORDS);
		}
		da_check(!(wait(name) & ST_DRQ), name,
			 "a data phase never ends");
	}
	outb(IDE_DEVCTL, DC_SRST | DC_NIEN);
	outb(IDE_DEVCTL, DC_NIEN);
	identify(name);
	da_begin(name);
	da_kv("refused", errs);
	da_kv("with_data", data);
	da_end();
}

/* The data port with no transfer: reads all ones, writes dropped, the
 * status untouched; a huge rep insw gets one sector, then all ones. */
static void no_transfer(const struct mb_info *mbi, const char *name)
{
	u16 *w = (u16 *)DA_SCRATCH;
	u32 i;
	u8 s;

	identify(name);
	s = inb(IDE_CMD);
	for (i = 0; i < NO_XFER_WORDS; i++) {
		da_check(inw(IDE_DATA) == ALL_ONES16, name,
			 "the data port without DRQ is not all ones");
		outw(IDE_DATA, i);
	}
	da_check(inb(IDE_CMD) == s && !(s & ST_DRQ), name,
		 "the status changed without a command");
	s = command(name, DH_LBA, CMD_READ, 0, 1);
	w[SECTOR_WORDS] = 0;
	w[HUGE_WORDS - 1] = 0;
	insw(w, HUGE_WORDS);
	da_check(w[SECTOR_WORDS] == ALL_ONES16 &&
		 w[HUGE_WORDS - 1] == ALL_ONES16, name,
		 "words past the sector are not all ones");
	da_check(!(inb(IDE_CMD) & (ST_DRQ | ST_ERR)), name,
		 "DRQ or ERR after the transfer");
	da_begin(name);
	da_kv("status", s);
	da_kv("huge_words", HUGE_WORDS);
	da_end();
}

/* The slave: no image behind it; IDENTIFY gets no data. */
static void absent_slave(const struct mb_info *mbi, const char *name)
{
	u8 s;

	identify(name);
	s = command(name, (DH_LBA | DH_SLAVE), CMD_IDENTIFY, 0, 0);
	da_check(!(s & ST_DRQ), name, "the absent slave has IDENTIFY data");
	s = command(name, (DH_LBA | DH_SLAVE), CMD_READ, 0, 1);
	da_check(!(s & ST_DRQ), name, "the absent slave has sectors");
	outb(IDE_DH, DH_LBA);
	da_begin(name);
	da_kv("status", s);
	da_end();
}

const struct devattack da_ide[] = {
	{ "ide-lba-past-end", lba_past_end, DA_RUNS },
	{ "ide-write-past-end", write_past_end, DA_RUNS },
	{ "ide-count-zero", count_zero, DA_RUNS },
	{ "ide-dma", dma, DA_RUNS },
	{ "ide-every-command", every_command, DA_RUNS },
	{ "ide-no-transfer", no_transfer, DA_RUNS },
	{ "ide-absent-slave", absent_slave, DA_RUNS },
	{ 0, 0, 0 },
};
