/*
 * ATA PIO disks on the primary IDE channel: command block at 0x1F0-0x1F7,
 * control block at 0x3F6 (alternate status / device control), a master
 * and an optional slave, each a file of the host file system, and ISA
 * IRQ 14.
 *
 * Reference: ANSI NCITS 317-1998, AT Attachment with Packet Interface
 * Extension (ATA/ATAPI-4): 7.2-7.15 (registers: data, error, features,
 * sector count, LBA low/mid/high (sector number, cylinder), device/head,
 * status, command, alternate status, device control with nIEN and
 * SRST), 8.12 IDENTIFY DEVICE (table 11: words 0-88), 8.22 READ
 * MULTIPLE, 8.26 READ SECTORS, 8.37 SET MULTIPLE MODE, 8.44 WRITE
 * MULTIPLE, 8.46 WRITE SECTORS, 8.9 EXECUTE DEVICE DIAGNOSTIC, 8.13
 * FLUSH CACHE, 9.5 (PIO data-in protocol: DRQ and INTRQ per DRQ block),
 * 9.6 (PIO data-out: no interrupt before the first block), 9.2 (software
 * reset protocol and the signature), 6.2.1 (CHS to LBA: (C * heads + H)
 * * sectors + S - 1).
 *
 * Invariants:
 * - A transfer moves whole DRQ blocks (1 sector, or the SET MULTIPLE
 *   count) of a command whose every sector was checked to lie inside its
 *   image before its block began: a sector past the end is IDNF, so an
 *   image never grows and nothing outside it is read or written. The
 *   images are opened O_FIXED, so the host FS holds to that too, and
 *   fills their holes only above the host's disk reserve.
 * - The host FS sees whole sectors only, in runs of up to BUF_SECTORS:
 *   reads prefetch the command's next sectors into buf, writes gather
 *   there and go out when buf is full or the command ends.
 * - Status has DRQ exactly while xfer != X_NONE; the data port moves
 *   bytes only then (reads give all ones, writes are dropped otherwise).
 * - IRQ 14 is high exactly while intrq is set and nIEN is clear;
 *   reading the status register clears intrq.
 * - A missing device (no image) answers status 0 and takes no command.
 */
#include <inc/string.h>
#include <inc/error.h>
#include <inc/lib.h>
#include "dev.h"
#include "bytes.h"
#include "ide.h"

#define IDE_CMD_PORT 0x1F0
#define IDE_CMD_PORTS 8
#define IDE_CTRL_PORT 0x3F6
#define IDE_IRQ 14
#define SECTOR 512
/* The most sectors one DRQ block may hold (IDENTIFY word 47). */
#define MAX_MULTIPLE 16
/* Sectors staged between the guest and the host FS. */
#define BUF_SECTORS ((uint64_t)MAX_MULTIPLE)
/* LBA28: the sectors a 28-bit address reaches. */
#define LBA28_SECTORS (1ULL << 28)
/* The geometry offered for CHS addressing (ATA 6.2.1 limits). */
#define CHS_HEADS 16
#define CHS_SPT 63
#define CHS_MAX_CYLS 16383ULL
#define COUNT_ZERO_MEANS 256
/* Register offsets from 0x1F0. */
enum { R_DATA, R_ERROR, R_COUNT, R_SECTOR, R_LCYL, R_HCYL, R_DH, R_STATUS };
/* Status. */
#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DSC 0x10
#define ST_DRQ 0x08
#define ST_ERR 0x01
#define ST_IDLE (ST_DRDY | ST_DSC)
/* Error. */
#define ER_UNC 0x40
#define ER_IDNF 0x10
#define ER_ABRT 0x04
#define ER_DIAG_OK 0x01
/* Device/head. */
#define DH_LBA 0x40
#define DH_DEV 0x10
#define DH_HEAD_MASK 0x0F
#define DH_OBSOLETE 0xA0
/* Device control. */
#define DC_NIEN 0x02
#define DC_SRST 0x04
/* Commands. */
enum {
	CMD_RECALIBRATE = 0x10, CMD_READ = 0x20, CMD_READ_NORETRY = 0x21,
	CMD_WRITE = 0x30, CMD_WRITE_NORETRY = 0x31, CMD_DIAGNOSE = 0x90,
	CMD_INIT_PARAMS = 0x91, CMD_READ_MULTIPLE = 0xC4,
	CMD_WRITE_MULTIPLE = 0xC5, CMD_SET_MULTIPLE = 0xC6,
	CMD_FLUSH = 0xE7, CMD_IDENTIFY = 0xEC,
};
#define CMD_RECALIBRATE_MASK 0xF0
/* IDENTIFY words (ATA-4 table 11). */
#define ID_WORDS 256
#define ID_GENERAL_FIXED 0x0040
#define ID_MULT_MAX_TAG 0x8000
#define ID_CAP_LBA 0x0200
#define ID_CAP2 0x4000
#define ID_FIELDS_VALID 0x0001
#define ID_MULT_VALID 0x0100
#define ID_VERSIONS 0x001E      /* ATA-1 .. ATA-4 */
#define ID_WORD_VALID 0x4000
#define ID_SERIAL "JOSVMM0001"
#define ID_FIRMWARE "1.0"
#define ID_MODEL "JOS-in-JOS virtual IDE disk"

enum { X_NONE, X_IN, X_OUT };

struct drive {
	bool present;
	int fd;
	uint64_t nsectors;
	unsigned cyls;
	unsigned multiple;  /* sectors per DRQ block of *MULTIPLE; 0: off */
};

static struct ide {
	struct drive drv[2];
	uint8_t feature, count, sector, lcyl, hcyl, dh, devctl;
	uint8_t status, error;
	bool intrq;
	/* The transfer in progress (xfer != X_NONE). */
	int xfer;
	bool identify;
	struct drive *xd;    /* the drive of the transfer */
	uint64_t lba;        /* the first sector of the current block */
	uint64_t left;       /* sectors of the command not yet done */
	unsigned block;      /* sectors per DRQ block */
	unsigned blk_n;      /* sectors in the current block */
	size_t pos;          /* bytes of the current block moved */
	/* buf holds sectors [buf_lba, buf_lba + buf_n). */
	uint64_t buf_lba;
	unsigned buf_n;
	uint8_t buf[BUF_SECTORS * SECTOR];
} ide VDEV_SHARED;

static struct drive *cur(void)
{
	return &ide.drv[(ide.dh & DH_DEV) ? 1 : 0];
}

static void irq_update(void)
{
	vdev_irq_set(IDE_IRQ, ide.intrq && !(ide.devctl & DC_NIEN));
}

static void raise(void)
{
	ide.intrq = true;
	irq_update();
}

/* ---- Host I/O ----------------------------------------------------------- */

static int host_read(struct drive *d, uint64_t lba, unsigned n, void *buf)
{
	ssize_t r;

	if ((r = seek(d->fd, lba * SECTOR)) < 0)
		return r;
	r = readn(d->fd, buf, (size_t)n * SECTOR);
	return r == (ssize_t)n * SECTOR ? 0 : r < 0 ? r : -E_INVAL;
}

static int host_write(struct drive *d, uint64_t lba, unsigned n,
		      const void *buf)
{
	size_t done = 0, want = (size_t)n * SECTOR;
	ssize_t r;

	if ((r = seek(d->fd, lba * SECTOR)) < 0)
		return r;
	while (done < want) {
		r = write(d->fd, (const char *)buf + done, want - done);
		if (r <= 0)
			return r < 0 ? r : -E_NO_DISK;
		done += r;
	}
	return 0;
}

/* ---- Addresses ---------------------------------------------------------- */

/* The command's first sector, or -1 when CHS names no sector. */
static int64_t start_lba(const struct drive *d)
{
	unsigned cyl = ide.hcyl << 8 | ide.lcyl, head = ide.dh & DH_HEAD_MASK;

	if (ide.dh & DH_LBA)
		return (uint64_t)(ide.dh & DH_HEAD_MASK) << 24 |
		       ide.hcyl << 16 | ide.lcyl << 8 | ide.sector;
	if (ide.sector < 1 || ide.sector > CHS_SPT || head >= CHS_HEADS ||
	    cyl >= d->cyls)
		return -1;
	return ((uint64_t)cyl * CHS_HEADS + head) * CHS_SPT + ide.sector - 1;
}

/* Leave lba in the address registers (the last sector, or the bad one). */
static void set_address(uint64_t lba)
{
	unsigned cyl;

	if (ide.dh & DH_LBA) {
		ide.sector = lba;
		ide.lcyl = lba >> 8;
		ide.hcyl = lba >> 16;
		ide.dh = (ide.dh & ~DH_HEAD_MASK) |
			 ((lba >> 24) & DH_HEAD_MASK);
		return;
	}
	cyl = lba / (CHS_HEADS * CHS_SPT);
	ide.sector = lba % CHS_SPT + 1;
	ide.lcyl = cyl;
	ide.hcyl = cyl >> 8;
	ide.dh = (ide.dh & ~DH_HEAD_MASK) | ((lba / CHS_SPT) % CHS_HEADS);
}

/* ---- Commands ----------------------------------------------------------- */

static void finish(uint8_t error)
{
	ide.xfer = X_NONE;
	ide.identify = false;
	ide.error = error;
	ide.status = ST_IDLE | (error ? ST_ERR : 0);
	raise();
}

/* Does buf hold the current block's sectors? */
static bool buffered(void)
{
	return ide.lba >= ide.buf_lba &&
	       ide.lba + ide.blk_n <= ide.buf_lba + ide.buf_n;
}

/* Start the next DRQ block at ide.lba: range check, data staged. */
static void begin_block(void)
{
	struct drive *d = ide.xd;

	ide.blk_n = MIN(ide.block, ide.left);
	ide.pos = 0;
	if (ide.lba + ide.blk_n > d->nsectors) {
		set_address(MAX(ide.lba, d->nsectors));
		finish(ER_IDNF);
		return;
	}
	if (ide.xfer == X_IN && !buffered()) {
		ide.buf_lba = ide.lba;
		ide.buf_n = MIN(MIN(ide.left, BUF_SECTORS),
				d->nsectors - ide.lba);
		if (host_read(d, ide.buf_lba, ide.buf_n, ide.buf) < 0) {
			ide.buf_n = 0;
			set_address(ide.lba);
			finish(ER_UNC);
			return;
		}
	}
	/* Writes gather after the ones before (block_done flushed buf
	 * when this block would not fit). */
	if (ide.xfer == X_OUT && !ide.buf_n)
		ide.buf_lba = ide.lba;
	ide.status = ST_IDLE | ST_DRQ;
	ide.count = ide.left % COUNT_ZERO_MEANS;
	if (ide.xfer == X_IN)
		raise();
}

/* The bytes of the current block inside buf. */
static uint8_t *block_data(void)
{
	return ide.identify ? ide.buf
	       : ide.buf + (ide.lba - ide.buf_lba) * SECTOR;
}

static size_t block_bytes(void)
{
	return ide.identify ? SECTOR : (size_t)ide.blk_n * SECTOR;
}

static int flush_writes(void)
{
	int r = 0;

	if (ide.buf_n)
		r = host_write(ide.xd, ide.buf_lba, ide.buf_n, ide.buf);
	ide.buf_n = 0;
	return r;
}

/* The guest moved the whole current block. */
static void block_done(void)
{
	uint64_t last = ide.lba + ide.blk_n - 1;

	if (ide.identify) {
		ide.xfer = X_NONE;
		ide.identify = false;
		ide.status = ST_IDLE;
		return;
	}
	if (ide.xfer == X_OUT)
		ide.buf_n += ide.blk_n;
	ide.lba += ide.blk_n;
	ide.left -= ide.blk_n;
	set_address(last);
	if (ide.xfer == X_OUT &&
	    (!ide.left || ide.buf_n + MIN(ide.block, ide.left) > BUF_SECTORS) &&
	    flush_writes() < 0) {
		finish(ER_UNC);
		return;
	}
	if (!ide.left) {
		ide.count = 0;
		if (ide.xfer == X_OUT) {
			finish(0);
		} else {
			ide.xfer = X_NONE;
			ide.status = ST_IDLE;
		}
		return;
	}
	begin_block();
	if (ide.xfer == X_OUT)
		raise();
}

static void start_rw(bool out, unsigned block)
{
	struct drive *d = cur();
	int64_t lba = start_lba(d);

	if (lba < 0) {
		finish(ER_IDNF);
		return;
	}
	ide.xd = d;
	ide.xfer = out ? X_OUT : X_IN;
	ide.identify = false;
	ide.lba = lba;
	ide.left = ide.count ? ide.count : COUNT_ZERO_MEANS;
	ide.block = block;
	ide.buf_n = 0;
	ide.error = 0;
	begin_block();
}

/* An ATA string: space padded, two characters a word, first one high. */
static void id_string(uint16_t *w, unsigned words, const char *s)
{
	unsigned i, n = strlen(s);

	for (i = 0; i < words * 2; i++) {
		char c = i < n ? s[i] : ' ';
		if (i % 2 == 0)
			w[i / 2] = (uint16_t)c << 8;
		else
			w[i / 2] |= (uint8_t)c;
	}
}

static void identify(struct drive *d)
{
	uint16_t *w = (uint16_t *)ide.buf;
	uint64_t chs = (uint64_t)d->cyls * CHS_HEADS * CHS_SPT;
	uint64_t lba = MIN(d->nsectors, LBA28_SECTORS - 1);

	memset(w, 0, SECTOR);
	w[0] = ID_GENERAL_FIXED;
	w[1] = w[54] = d->cyls;
	w[3] = w[55] = CHS_HEADS;
	w[6] = w[56] = CHS_SPT;
	id_string(&w[10], 10, ID_SERIAL);
	id_string(&w[23], 4, ID_FIRMWARE);
	id_string(&w[27], 20, ID_MODEL);
	w[47] = ID_MULT_MAX_TAG | MAX_MULTIPLE;
	w[49] = ID_CAP_LBA;
	w[50] = ID_CAP2;
	w[53] = ID_FIELDS_VALID;
	w[57] = chs & 0xFFFF;
	w[58] = chs >> 16;
	w[59] = d->multiple ? ID_MULT_VALID | d->multiple : 0;
	w[60] = lba & 0xFFFF;
	w[61] = lba >> 16;
	w[80] = ID_VERSIONS;
	w[83] = w[84] = w[86] = w[87] = ID_WORD_VALID;
	ide.buf_n = 0;
	ide.xfer = X_IN;
	ide.identify = true;
	ide.pos = 0;
	ide.error = 0;
	ide.status = ST_IDLE | ST_DRQ;
	raise();
}

static void set_multiple(struct drive *d)
{
	unsigned n = ide.count;

	if (n > MAX_MULTIPLE || (n & (n - 1))) {
		finish(ER_ABRT);
		return;
	}
	d->multiple = n;
	finish(0);
}

/* EXECUTE DEVICE DIAGNOSTIC and software reset: the signature. */
static void signature(void)
{
	ide.count = 1;
	ide.sector = 1;
	ide.lcyl = ide.hcyl = 0;
	ide.dh = DH_OBSOLETE;
	ide.error = ER_DIAG_OK;
}

static void command(uint8_t c)
{
	struct drive *d = cur();

	if (!d->present || (ide.status & ST_BSY))
		return;
	if (ide.xfer == X_OUT)
		flush_writes();
	ide.xfer = X_NONE;
	switch (c) {
	case CMD_READ: case CMD_READ_NORETRY: start_rw(false, 1); break;
	case CMD_WRITE: case CMD_WRITE_NORETRY: start_rw(true, 1); break;
	case CMD_READ_MULTIPLE: case CMD_WRITE_MULTIPLE:
		if (!d->multiple)
			finish(ER_ABRT);
		else
			start_rw(c == CMD_WRITE_MULTIPLE, d->multiple);
		break;
	case CMD_SET_MULTIPLE: set_multiple(d); break;
	case CMD_IDENTIFY: identify(d); break;
	case CMD_FLUSH: case CMD_INIT_PARAMS: finish(0); break;
	case CMD_DIAGNOSE:
		signature();
		ide.status = ST_IDLE;
		raise();
		break;
	default:
		if ((c & CMD_RECALIBRATE_MASK) == CMD_RECALIBRATE)
			finish(0);
		else
			finish(ER_ABRT); /* DMA, unknown */
		break;
	}
}

static void device_control(uint8_t v)
{
	bool was = ide.devctl & DC_SRST;

	ide.devctl = v;
	if ((v & DC_SRST) && !was) {
		if (ide.xfer == X_OUT)
			flush_writes();
		ide.xfer = X_NONE;
		ide.identify = false;
		ide.status = ST_BSY;
		ide.intrq = false;
	} else if (!(v & DC_SRST) && was) {
		signature();
		ide.status = ST_IDLE;
	}
	irq_update();
}

/* ---- The data port ------------------------------------------------------ */

size_t ide_data_in(void *buf, size_t n)
{
	size_t moved = 0, k;

	while (moved < n && ide.xfer == X_IN) {
		k = MIN(n - moved, block_bytes() - ide.pos);
		memcpy((char *)buf + moved, block_data() + ide.pos, k);
		ide.pos += k;
		moved += k;
		if (ide.pos == block_bytes())
			block_done();
	}
	return moved;
}

size_t ide_data_out(const void *buf, size_t n)
{
	size_t moved = 0, k;

	while (moved < n && ide.xfer == X_OUT) {
		k = MIN(n - moved, block_bytes() - ide.pos);
		memcpy(block_data() + ide.pos, (const char *)buf + moved, k);
		ide.pos += k;
		moved += k;
		if (ide.pos == block_bytes())
			block_done();
	}
	return moved;
}

/* ---- Registers ---------------------------------------------------------- */

static uint8_t status_read(bool clear_intrq)
{
	if (!cur()->present)
		return 0;
	if (clear_intrq && ide.intrq) {
		ide.intrq = false;
		irq_update();
	}
	return ide.status;
}

static uint64_t cmd_read(struct vdev *dv, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	if (off == R_DATA) {
		size_t got = ide_data_in(&v, size);
		memset((char *)&v + got, 0xFF, size - got);
		return v;
	}
	switch (off) {
	case R_ERROR: v = ide.error; break;
	case R_COUNT: v = ide.count; break;
	case R_SECTOR: v = ide.sector; break;
	case R_LCYL: v = ide.lcyl; break;
	case R_HCYL: v = ide.hcyl; break;
	case R_DH: v = ide.dh; break;
	case R_STATUS: v = status_read(true); break;
	}
	/* A wider access covers the next registers too (bytes.h). */
	if (size > 1 && off + 1 < IDE_CMD_PORTS)
		v |= cmd_read(dv, off + 1, size - 1) << 8;
	return v & (size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
}

static void cmd_write(struct vdev *dv, uint64_t off, unsigned size,
		      uint64_t val)
{
	uint8_t b = val;

	if (off == R_DATA) {
		ide_data_out(&val, size);
		return;
	}
	switch (off) {
	case R_ERROR: ide.feature = b; break;
	case R_COUNT: ide.count = b; break;
	case R_SECTOR: ide.sector = b; break;
	case R_LCYL: ide.lcyl = b; break;
	case R_HCYL: ide.hcyl = b; break;
	case R_DH: ide.dh = b; break;
	case R_STATUS: command(b); break;
	}
	if (size > 1 && off + 1 < IDE_CMD_PORTS)
		cmd_write(dv, off + 1, size - 1, val >> 8);
}

static uint8_t ctrl_read8(struct vdev *d, uint64_t off)
{
	return status_read(false);
}

static void ctrl_write8(struct vdev *d, uint64_t off, uint8_t val)
{
	device_control(val);
}

static uint64_t ctrl_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, ctrl_read8);
}

static void ctrl_write(struct vdev *d, uint64_t off, unsigned size,
		       uint64_t val)
{
	vdev_write_bytes(d, off, size, val, ctrl_write8);
}

static struct vdev ide_cmd_dev VDEV_SHARED = {
	.name = "ide", .space = VDEV_PIO, .base = IDE_CMD_PORT,
	.len = IDE_CMD_PORTS, .read = cmd_read, .write = cmd_write,
};

static struct vdev ide_ctrl_dev VDEV_SHARED = {
	.name = "ide-ctrl", .space = VDEV_PIO, .base = IDE_CTRL_PORT, .len = 1,
	.read = ctrl_read, .write = ctrl_write,
};

static int open_drive(struct drive *d, const char *path)
{
	struct Stat st;
	int fd, r;

	if (!path)
		return 0;
	if ((fd = open(path, O_RDWR | O_FIXED)) < 0)
		return fd;
	if ((r = fstat(fd, &st)) < 0 || st.st_isdir || st.st_size < SECTOR) {
		close(fd);
		return r < 0 ? r : -E_INVAL;
	}
	d->present = true;
	d->fd = fd;
	d->nsectors = MIN((uint64_t)st.st_size / SECTOR, LBA28_SECTORS);
	d->cyls = MIN(d->nsectors / (CHS_HEADS * CHS_SPT), CHS_MAX_CYLS);
	if (!d->cyls)
		d->cyls = 1;
	return 0;
}

int ide_init(const char *master, const char *slave)
{
	int r;

	memset(&ide, 0, sizeof(ide));
	ide.drv[0].fd = ide.drv[1].fd = -1;
	if (!master && !slave)
		return -E_INVAL;
	if ((r = open_drive(&ide.drv[0], master)) < 0 ||
	    (r = open_drive(&ide.drv[1], slave)) < 0)
		goto fail;
	signature();
	ide.status = ST_IDLE;
	if ((r = vdev_register(&ide_cmd_dev)) < 0 ||
	    (r = vdev_register(&ide_ctrl_dev)) < 0)
		goto fail;
	return 0;
fail:
	if (ide.drv[0].present)
		close(ide.drv[0].fd);
	if (ide.drv[1].present)
		close(ide.drv[1].fd);
	ide.drv[0].present = ide.drv[1].present = false;
	return r;
}
