/*
 * The PC's two 8259A programmable interrupt controllers, cascaded: the
 * master at ports 0x20/0x21, the slave at 0xA0/0xA1 on the master's IR2,
 * and the edge/level control registers (ELCR) at 0x4D0/0x4D1.
 *
 * Reference: Intel 8259A datasheet (order no. 231468): "Interrupt
 * Sequence", "Initialization Command Words" (ICW1-ICW4), "Operation
 * Command Words" (OCW1-OCW3), "Fully Nested Mode", "Special Mask Mode",
 * "Poll Command", "Edge and Level Triggered Modes", "Reading the 8259A
 * Status", "The Special Fully Nested Mode", "Automatic EOI Mode".
 * ELCR: Intel 82371AB (PIIX4) datasheet, section 4.1.13 (ELCR1/ELCR2).
 *
 * Invariants:
 * - irr holds the requests: an edge-triggered input sets its bit on a
 *   rising edge and keeps it until INTA (a pulse is latched); a
 *   level-triggered input's bit follows the input. INTA moves the bit to
 *   isr (not in AEOI mode); an EOI clears isr bits.
 * - The master's IR2 always follows the slave's INTR output.
 * - Priority: line (lowest + 1) & 7 is the highest, lowest the lowest;
 *   an in-service line blocks itself and every lower one, except in
 *   special mask mode (only itself).
 * - After each change irq_pic_changed() runs, so the IOAPIC's ExtINT pin
 *   follows the master's INTR.
 * - pic_init leaves the pair as a PC BIOS does before it boots a disk:
 *   initialised (vectors 0x08 and 0x70, cascade on IR2, 8086 mode) with
 *   every line masked but the cascade, so a guest that never programs
 *   the PIC gets no interrupt on an exception vector.
 */
#include <inc/string.h>
#include "dev.h"
#include "bytes.h"
#include "devices.h"
#include "irqchip.h"

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT 0xA0
#define PIC_PORTS 2
#define ELCR_PORT 0x4D0
#define ELCR_PORTS 2

/* ICW1 (command port, bit 4 set). */
#define ICW1_INIT 0x10
#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
/* ICW2: the vector base (T7-T3). */
#define ICW2_BASE_MASK 0xF8
/* ICW4. */
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
/* OCW2 (command port, bits 4:3 = 00): R, SL, EOI and the level L2-L0. */
#define OCW_SELECT_MASK 0x18
#define OCW3_SELECT 0x08
#define OCW2_CMD_SHIFT 5
#define OCW2_LEVEL_MASK 0x07
enum {
	OCW2_ROTATE_AEOI_CLEAR = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_ROTATE_AEOI_SET = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};
/* OCW3. */
#define OCW3_ESMM 0x40
#define OCW3_SMM 0x20
#define OCW3_POLL 0x04
#define OCW3_RR 0x02
#define OCW3_RIS 0x01
/* Poll word: an interrupt was pending, and its level. */
#define POLL_INT 0x80
/* Lines 0, 1 and 2 (master) and 8, 13 (slave) are always edge. */
#define ELCR_MASTER_MASK 0xF8
#define ELCR_SLAVE_MASK 0xDE
/* What a PC BIOS leaves (see the invariants). */
#define BIOS_MASTER_BASE 0x08
#define BIOS_SLAVE_BASE 0x70
#define BIOS_ICW1 (ICW1_INIT | ICW1_IC4)
#define BIOS_MASTER_ICW3 (1 << PIC_CASCADE_IRQ)
#define BIOS_SLAVE_ICW3 PIC_CASCADE_IRQ
#define BIOS_MASTER_IMR ((uint8_t)~(1 << PIC_CASCADE_IRQ))
#define BIOS_SLAVE_IMR 0xFF
/* The line a spurious INTA answers with (no ISR bit set). */
#define PIC_SPURIOUS_LINE 7
#define PIC_LINES 8

/* Initialization: the next ICW the data port expects (0: none). */
enum { ICW_NONE = 0, ICW_2 = 2, ICW_3 = 3, ICW_4 = 4 };

struct i8259 {
	uint8_t irr, isr, imr;
	uint8_t lines;       /* input levels now */
	uint8_t elcr;        /* level-triggered lines (ELCR) */
	uint8_t elcr_mask;   /* the ELCR bits that are writable */
	uint8_t base;        /* ICW2 vector base */
	uint8_t lowest;      /* the lowest-priority line */
	uint8_t icw1, icw3;
	int next_icw;
	bool aeoi, rotate_aeoi, sfnm, special_mask, read_isr, poll;
};

static struct i8259 pics[2] VDEV_SHARED;
static struct i8259 *const master = &pics[0];
static struct i8259 *const slave = &pics[1];

static bool level_mode(const struct i8259 *c, uint8_t bit)
{
	return (c->icw1 & ICW1_LTIM) || (c->elcr & bit);
}

static void set_line(struct i8259 *c, unsigned line, bool level)
{
	uint8_t bit = 1 << line;

	if (level_mode(c, bit) || (c == master && line == PIC_CASCADE_IRQ)) {
		c->irr = level ? (c->irr | bit) : (c->irr & ~bit);
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;
	}
	c->lines = level ? (c->lines | bit) : (c->lines & ~bit);
}

/* The highest-priority line c would interrupt with, or -1. */
static int pick(const struct i8259 *c)
{
	uint8_t pending = c->irr & ~c->imr;
	unsigned i, line;

	for (i = 0; i < PIC_LINES; i++) {
		line = (c->lowest + 1 + i) & 7;
		if (c->isr & (1 << line)) {
			bool nested = c == master && c->sfnm &&
				      line == PIC_CASCADE_IRQ;
			if (!c->special_mask && !nested)
				return -1;
			if (!nested)
				continue;
		}
		if (pending & (1 << line))
			return line;
	}
	return -1;
}

/* Propagate the slave's INTR to the master, and the master's onward. */
static void update(void)
{
	set_line(master, PIC_CASCADE_IRQ, pick(slave) >= 0);
	irq_pic_changed();
}

void pic_set_irq(unsigned irq, bool level)
{
	if (irq >= ISA_IRQS || irq == PIC_CASCADE_IRQ)
		return;
	set_line(&pics[irq / PIC_LINES], irq % PIC_LINES, level);
	update();
}

bool pic_intr(void)
{
	return pick(master) >= 0;
}

int pic_next(void)
{
	int line = pick(master), sl;

	if (line < 0)
		return -1;
	if (line != PIC_CASCADE_IRQ)
		return master->base + line;
	sl = pick(slave);
	return slave->base + (sl < 0 ? PIC_SPURIOUS_LINE : sl);
}

/* The INTA cycle of chip c for line: request -> in service. */
static void ack_line(struct i8259 *c, unsigned line)
{
	uint8_t bit = 1 << line;

	c->irr &= ~bit;
	if ((level_mode(c, bit) || (c == master && line == PIC_CASCADE_IRQ)) &&
	    (c->lines & bit))
		c->irr |= bit;
	if (!c->aeoi)
		c->isr |= bit;
	else if (c->rotate_aeoi)
		c->lowest = line;
}

/* Is line of c requested and not masked? */
static bool requested(const struct i8259 *c, unsigned line)
{
	return (c->irr & ~c->imr) & (1 << line);
}

/*
 * The vCPU took vector vec, which pic_next() offered: the INTA cycles
 * for vec's line (the guest ran in between, so a request of higher
 * priority may have come: vec is what it got). A request gone since
 * then makes this a spurious IR7/IR15 (no in-service bit), as on the
 * chip; a slave's spurious vector still puts IR2 in service.
 */
void pic_ack(int vec)
{
	unsigned mline = (unsigned)vec - master->base;
	unsigned sline = (unsigned)vec - slave->base;

	if (mline < PIC_LINES && mline != PIC_CASCADE_IRQ) {
		if (requested(master, mline))
			ack_line(master, mline);
	} else if (sline < PIC_LINES && requested(master, PIC_CASCADE_IRQ)) {
		ack_line(master, PIC_CASCADE_IRQ);
		if (requested(slave, sline))
			ack_line(slave, sline);
	}
	update();
}

/* The in-service line of highest priority, or -1. */
static int highest_isr(const struct i8259 *c)
{
	unsigned i, line;

	for (i = 0; i < PIC_LINES; i++) {
		line = (c->lowest + 1 + i) & 7;
		if (c->isr & (1 << line))
			return line;
	}
	return -1;
}

static void ocw2(struct i8259 *c, uint8_t val)
{
	unsigned level = val & OCW2_LEVEL_MASK;
	int line;

	switch (val >> OCW2_CMD_SHIFT) {
	case OCW2_ROTATE_AEOI_CLEAR:
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_aeoi =
			(val >> OCW2_CMD_SHIFT) == OCW2_ROTATE_AEOI_SET;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		if ((line = highest_isr(c)) < 0)
			break;
		c->isr &= ~(1 << line);
		if ((val >> OCW2_CMD_SHIFT) == OCW2_ROTATE_EOI)
			c->lowest = line;
		break;
	case OCW2_SPECIFIC_EOI:
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= ~(1 << level);
		if ((val >> OCW2_CMD_SHIFT) == OCW2_ROTATE_SPECIFIC_EOI)
			c->lowest = level;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = level;
		break;
	default: /* OCW2_NOP */
		break;
	}
}

static void ocw3(struct i8259 *c, uint8_t val)
{
	if (val & OCW3_ESMM)
		c->special_mask = (val & OCW3_SMM) != 0;
	if (val & OCW3_POLL)
		c->poll = true;
	if (val & OCW3_RR)
		c->read_isr = (val & OCW3_RIS) != 0;
}

/* ICW1: start initialization; the datasheet's list of what it resets. */
static void icw1(struct i8259 *c, uint8_t val)
{
	c->icw1 = val;
	c->imr = 0;
	c->irr = 0;
	c->isr = 0;
	c->lowest = PIC_LINES - 1;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_aeoi = false;
	if (!(val & ICW1_IC4))
		c->aeoi = c->sfnm = false;
	c->next_icw = ICW_2;
}

static void data_write(struct i8259 *c, uint8_t val)
{
	switch (c->next_icw) {
	case ICW_2:
		c->base = val & ICW2_BASE_MASK;
		c->next_icw = !(c->icw1 & ICW1_SNGL) ? ICW_3
			      : (c->icw1 & ICW1_IC4) ? ICW_4 : ICW_NONE;
		break;
	case ICW_3:
		c->icw3 = val;
		c->next_icw = (c->icw1 & ICW1_IC4) ? ICW_4 : ICW_NONE;
		break;
	case ICW_4:
		c->aeoi = (val & ICW4_AEOI) != 0;
		c->sfnm = (val & ICW4_SFNM) != 0;
		c->next_icw = ICW_NONE;
		break;
	default: /* OCW1 */
		c->imr = val;
		break;
	}
}

static void pic_write8(struct vdev *d, uint64_t off, uint8_t val)
{
	struct i8259 *c = d->state;

	if (off == 1)
		data_write(c, val);
	else if (val & ICW1_INIT)
		icw1(c, val);
	else if ((val & OCW_SELECT_MASK) == OCW3_SELECT)
		ocw3(c, val);
	else if ((val & OCW_SELECT_MASK) == 0)
		ocw2(c, val);
	update();
}

/* The poll command: an INTA without a vCPU interrupt. */
static uint8_t poll_read(struct i8259 *c)
{
	int line;

	c->poll = false;
	if ((line = pick(c)) < 0)
		return 0;
	ack_line(c, line);
	update();
	return POLL_INT | line;
}

static uint8_t pic_read8(struct vdev *d, uint64_t off)
{
	struct i8259 *c = d->state;

	if (off == 1)
		return c->imr;
	if (c->poll)
		return poll_read(c);
	return c->read_isr ? c->isr : c->irr;
}

static uint8_t elcr_read8(struct vdev *d, uint64_t off)
{
	return pics[off].elcr;
}

static void elcr_write8(struct vdev *d, uint64_t off, uint8_t val)
{
	pics[off].elcr = val & pics[off].elcr_mask;
	update();
}

static uint64_t pic_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, pic_read8);
}

static void pic_write(struct vdev *d, uint64_t off, unsigned size,
		      uint64_t val)
{
	vdev_write_bytes(d, off, size, val, pic_write8);
}

static uint64_t elcr_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, elcr_read8);
}

static void elcr_write(struct vdev *d, uint64_t off, unsigned size,
		       uint64_t val)
{
	vdev_write_bytes(d, off, size, val, elcr_write8);
}

static struct vdev pic_devs[] VDEV_SHARED = {
	{ .name = "pic-master", .space = VDEV_PIO, .base = PIC_MASTER_PORT,
	  .len = PIC_PORTS, .read = pic_read, .write = pic_write,
	  .state = &pics[0] },
	{ .name = "pic-slave", .space = VDEV_PIO, .base = PIC_SLAVE_PORT,
	  .len = PIC_PORTS, .read = pic_read, .write = pic_write,
	  .state = &pics[1] },
	{ .name = "elcr", .space = VDEV_PIO, .base = ELCR_PORT,
	  .len = ELCR_PORTS, .read = elcr_read, .write = elcr_write },
};

int pic_init(void)
{
	unsigned i;
	int r;

	for (i = 0; i < 2; i++) {
		memset(&pics[i], 0, sizeof(pics[i]));
		pics[i].lowest = PIC_LINES - 1;
		pics[i].icw1 = BIOS_ICW1;
	}
	master->base = BIOS_MASTER_BASE;
	master->icw3 = BIOS_MASTER_ICW3;
	master->imr = BIOS_MASTER_IMR;
	master->elcr_mask = ELCR_MASTER_MASK;
	slave->base = BIOS_SLAVE_BASE;
	slave->icw3 = BIOS_SLAVE_ICW3;
	slave->imr = BIOS_SLAVE_IMR;
	slave->elcr_mask = ELCR_SLAVE_MASK;
	for (i = 0; i < ARRAY_SIZE(pic_devs); i++)
		if ((r = vdev_register(&pic_devs[i])) < 0)
			return r;
	return 0;
}
