/*
 * vdevtest: the ATA PIO disk (vmmdev/ide.c) on a scratch image of
 * SCRATCH_SECTORS sectors, sector s filled with the byte s & 0xFF
 * (a fresh pattern per sector: (s * 7 + i) & 0xFF at byte i): IDENTIFY,
 * READ/WRITE SECTORS and MULTIPLE, LBA and CHS, sector count 0, IDNF
 * past the end (the image never grows), ABRT for DMA and unknown
 * commands, the data port with no transfer, nIEN and IRQ 14, SRST.
 *
 * Invariants: the image is made here and removed at the end.
 */
#include "vdevtest.h"
#include <vmmdev/ide.h>

#define SCRATCH "/vdevtest.img"
#define SCRATCH_SECTORS 300
#define SECTOR 512
#define MAX_SECTORS 256
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_IDLE 0x50

static uint8_t big[MAX_SECTORS * SECTOR];

static uint8_t pattern(unsigned s, unsigned i)
{
	return (s * 7 + i) & 0xFF;
}

static void make_image(void)
{
	static uint8_t sec[SECTOR];
	unsigned s, i;
	int fd;

	remove(SCRATCH);
	CHECK((fd = open(SCRATCH, O_RDWR | O_CREAT)) >= 0);
	for (s = 0; s < SCRATCH_SECTORS; s++) {
		for (i = 0; i < SECTOR; i++)
			sec[i] = pattern(s, i);
		CHECK_EQ(write(fd, sec, SECTOR), SECTOR);
	}
	close(fd);
}

static bool sector_is(const uint8_t *p, unsigned s)
{
	unsigned i;

	for (i = 0; i < SECTOR; i++)
		if (p[i] != pattern(s, i))
			return false;
	return true;
}

static void lba_cmd(uint32_t lba, uint8_t count, uint8_t cmd)
{
	outb8(0x1F6, 0xE0 | (lba >> 24));
	outb8(0x1F2, count);
	outb8(0x1F3, lba);
	outb8(0x1F4, lba >> 8);
	outb8(0x1F5, lba >> 16);
	outb8(0x1F7, cmd);
}

static uint8_t irq14(void)
{
	return pic_reg(0xA0, 0x0A) & 0x40;
}

static void test_identify(void)
{
	uint16_t *w = (uint16_t *)big;

	pic_setup(0x01);
	lba_cmd(0, 0, 0xEC);
	CHECK_EQ(irq14(), 0x40);
	CHECK_EQ(inb8(0x3F6), ST_IDLE | ST_DRQ);    /* alt: keeps INTRQ */
	CHECK_EQ(inb8(0x1F7), ST_IDLE | ST_DRQ);
	CHECK_EQ(ide_data_in(big, 2 * SECTOR), SECTOR);
	CHECK_EQ(inb8(0x1F7), ST_IDLE);
	CHECK_EQ(w[60] | w[61] << 16, SCRATCH_SECTORS);
	CHECK_EQ(w[49] & 0x0300, 0x0200);           /* LBA, no DMA */
	CHECK_EQ(w[27], 'J' << 8 | 'O');
	CHECK_EQ(w[47] & 0xFF, 16);
	/* The data port with no transfer reads all ones. */
	CHECK_EQ(io_in(0x1F0, 2), 0xFFFF);
	CHECK_EQ(io_in(0x1F0, 4), 0xFFFFFFFF);
	/* No slave: it answers status 0 (xv6 probes so). */
	outb8(0x1F6, 0xF0);
	CHECK_EQ(inb8(0x1F7), 0);
	outb8(0x1F6, 0xE0);
}

static void test_rw(void)
{
	unsigned i;
	uint16_t v;

	/* READ SECTORS 5-6: a sector a DRQ block; insw one word at a time. */
	lba_cmd(5, 2, 0x20);
	CHECK_EQ(ide_data_in(big, SECTOR), SECTOR);
	CHECK(sector_is(big, 5));
	CHECK_EQ(inb8(0x1F7), ST_IDLE | ST_DRQ);
	for (i = 0; i < SECTOR / 2; i++) {
		v = io_in(0x1F0, 2);
		big[2 * i] = v;
		big[2 * i + 1] = v >> 8;
	}
	CHECK(sector_is(big, 6));
	CHECK_EQ(inb8(0x1F7), ST_IDLE);
	/* WRITE SECTORS 7, then read it back through the host file. */
	lba_cmd(7, 1, 0x30);
	CHECK_EQ(inb8(0x1F7), ST_IDLE | ST_DRQ);
	memset(big, 0xA5, SECTOR);
	CHECK_EQ(ide_data_out(big, 2 * SECTOR), SECTOR);
	CHECK_EQ(inb8(0x1F7), ST_IDLE);
	lba_cmd(7, 1, 0x20);
	memset(big, 0, SECTOR);
	CHECK_EQ(ide_data_in(big, SECTOR), SECTOR);
	CHECK_EQ(big[0] & big[SECTOR - 1], 0xA5);
	/* CHS: cylinder 0, head 0, sector 9 is LBA 8. */
	outb8(0x1F6, 0xA0);
	outb8(0x1F2, 1);
	outb8(0x1F3, 9);
	outb8(0x1F4, 0);
	outb8(0x1F5, 0);
	outb8(0x1F7, 0x20);
	CHECK_EQ(ide_data_in(big, SECTOR), SECTOR);
	CHECK(sector_is(big, 8));
	outb8(0x1F3, 0);                            /* sector 0: no such */
	outb8(0x1F7, 0x20);
	CHECK_EQ(inb8(0x1F7), ST_IDLE | ST_ERR);
	CHECK_EQ(inb8(0x1F1), 0x10);
}

static void test_multiple_and_errors(void)
{
	struct Stat st;
	unsigned s;
	int fd;

	/* READ MULTIPLE needs SET MULTIPLE; 3 is not a power of two. */
	lba_cmd(0, 1, 0xC4);
	CHECK_EQ(inb8(0x1F1), 0x04);
	lba_cmd(0, 3, 0xC6);
	CHECK_EQ(inb8(0x1F7), ST_IDLE | ST_ERR);
	lba_cmd(0, 16, 0xC6);
	CHECK_EQ(inb8(0x1F7), ST_IDLE);
	/* Count 0 is 256 sectors, one call of a whole rep insl. */
	lba_cmd(0, 0, 0xC4);
	CHECK_EQ(ide_data_in(big, sizeof(big)), sizeof(big));
	for (s = 0; s < MAX_SECTORS; s++)
		CHECK(s == 7 || sector_is(big + s * SECTOR, s));
	CHECK_EQ(inb8(0x1F7), ST_IDLE);
	/* Past the end: sectors up to it move, then IDNF. */
	lba_cmd(100, 0, 0x20);
	CHECK_EQ(ide_data_in(big, sizeof(big)), 200 * SECTOR);
	CHECK_EQ(inb8(0x1F7), ST_IDLE | ST_ERR);
	CHECK_EQ(inb8(0x1F1), 0x10);
	lba_cmd(SCRATCH_SECTORS, 1, 0x30);
	CHECK_EQ(inb8(0x1F7), ST_IDLE | ST_ERR);
	CHECK_EQ(ide_data_out(big, SECTOR), 0);
	lba_cmd(SCRATCH_SECTORS - 1, 2, 0xC5);
	CHECK_EQ(inb8(0x1F7), ST_IDLE | ST_ERR);
	lba_cmd(0x0FFFFFFF, 1, 0x20);
	CHECK_EQ(inb8(0x1F1), 0x10);
	CHECK_EQ(stat(SCRATCH, &st), 0);
	CHECK_EQ(st.st_size, SCRATCH_SECTORS * SECTOR);
	/* The host FS holds an O_FIXED open (ide.c's) to its size too. */
	CHECK((fd = open(SCRATCH, O_RDWR | O_FIXED)) >= 0);
	CHECK_EQ(seek(fd, SCRATCH_SECTORS * SECTOR - 1), 0);
	CHECK_EQ(write(fd, big, 2), -E_INVAL);
	CHECK_EQ(ftruncate(fd, SECTOR), -E_INVAL);
	CHECK_EQ(write(fd, big, 1), 1);
	close(fd);
	CHECK_EQ(stat(SCRATCH, &st), 0);
	CHECK_EQ(st.st_size, SCRATCH_SECTORS * SECTOR);
	/* DMA and unknown commands abort. */
	lba_cmd(0, 1, 0xC8);
	CHECK_EQ(inb8(0x1F7), ST_IDLE | ST_ERR);
	CHECK_EQ(inb8(0x1F1), 0x04);
	lba_cmd(0, 1, 0xFF);
	CHECK_EQ(inb8(0x1F1), 0x04);
	/* WRITE MULTIPLE of 32 sectors (two blocks of 16), read back. */
	for (s = 0; s < 32 * SECTOR; s++)
		big[s] = pattern(200 + s / SECTOR, s % SECTOR);
	lba_cmd(200, 32, 0xC5);
	CHECK_EQ(ide_data_out(big, 32 * SECTOR), 32 * SECTOR);
	CHECK_EQ(inb8(0x1F7), ST_IDLE);
	lba_cmd(200, 32, 0x20);
	CHECK_EQ(ide_data_in(big, 32 * SECTOR), 32 * SECTOR);
	for (s = 0; s < 32; s++)
		CHECK(sector_is(big + s * SECTOR, 200 + s));
}

static void test_nien_srst(void)
{
	inb8(0x1F7);
	pic_setup(0x01);
	outb8(0x3F6, 0x02);                         /* nIEN */
	lba_cmd(0, 1, 0x20);
	CHECK_EQ(irq14(), 0);
	outb8(0x3F6, 0x00);                         /* INTRQ still pending */
	CHECK_EQ(irq14(), 0x40);
	/* SRST mid-transfer: BSY, then the signature and no DRQ. */
	outb8(0x3F6, 0x04);
	CHECK_EQ(inb8(0x3F6) & 0x80, 0x80);
	outb8(0x3F6, 0x00);
	CHECK_EQ(inb8(0x1F7), ST_IDLE);
	CHECK_EQ(inb8(0x1F2) | inb8(0x1F3) << 8, 0x0101);
	CHECK_EQ(inb8(0x1F1), 0x01);
	CHECK_EQ(ide_data_in(big, SECTOR), 0);
}

void test_ide(void)
{
	struct Stat st;

	make_image();
	CHECK(ide_init("/no/such/image", NULL) < 0);
	CHECK_EQ(ide_init(SCRATCH, NULL), 0);
	test_identify();
	test_rw();
	test_multiple_and_errors();
	test_nien_srst();
	fuzz_devices();
	CHECK_EQ(stat(SCRATCH, &st), 0);
	CHECK_EQ(st.st_size, SCRATCH_SECTORS * SECTOR);
	cprintf("vdevtest: %d random accesses to every device survived\n",
		FUZZ_ACCESSES);
	CHECK_EQ(remove(SCRATCH), 0);
	cprintf("vdevtest: ide ok\n");
}
