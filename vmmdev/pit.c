/*
 * The 8254 programmable interval timer at ports 0x40-0x43: channel 0
 * drives ISA IRQ 0, channel 2's gate and output are bits 0 and 5 of
 * port B (0x61), which also holds the speaker enable; channel 1 (once
 * DRAM refresh) counts but drives nothing.
 *
 * Reference: Intel 82C54 CHMOS programmable interval timer datasheet
 * (order no. 231244): "Control Word Format", "Write Operations", "Read
 * Operations" (simple read, counter latch command, read-back command,
 * status byte), "Mode Definitions" (mode 0 interrupt on terminal count,
 * mode 2 rate generator, mode 3 square wave), "Operations Common to All
 * Modes" (gate). Port B: IBM PC/AT Technical Reference, "System Board
 * I/O Address Map" (port 61h bits), and Intel 82371AB (PIIX4) datasheet
 * 4.7.1 (NMI status and control register: refresh toggle, OUT2).
 *
 * Invariants:
 * - A channel counts the virtual input clock PIT_HZ from start_ns on
 *   (vdev_now_ns() time) while its gate is high; with the gate low it
 *   holds frozen ticks. Its count and OUT are functions of the ticks
 *   elapsed: nothing ticks in the background.
 * - Modes 1, 4 and 5 (gate-triggered, strobes) count as mode 0; 6 and 7
 *   are 2 and 3 (the datasheet's "X" bit). A new count takes effect at
 *   once, in every mode.
 * - Channel 0 pulses IRQ 0 once per rising edge of OUT that poll sees
 *   (edges == ticks / N in modes 2 and 3, one at N in mode 0); edges a
 *   late poll skipped are counted in missed, not replayed.
 */
#include <inc/string.h>
#include "dev.h"
#include "bytes.h"
#include "devices.h"

#define PIT_PORT 0x40
#define PIT_PORTS 4
#define PIT_CONTROL 3
#define PORTB_PORT 0x61
#define PIT_CHANNELS 3
#define PIT_IRQ 0
/* The input clock of every channel: 1.193182 MHz. */
#define PIT_HZ 1193182ULL
#define NS_PER_SEC 1000000000ULL
/* Count moduli: a count of 0 means the modulus. */
#define BIN_MODULUS 0x10000U
#define BCD_MODULUS 10000U
/* Control word fields. */
#define CW_SC_SHIFT 6
#define CW_RW_SHIFT 4
#define CW_MODE_SHIFT 1
#define CW_BCD 0x01
#define CW_READBACK 3
enum { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_BOTH = 3 };
/* Read-back: bits 5 (count) and 4 (status) are active low. */
#define RB_NO_COUNT 0x20
#define RB_NO_STATUS 0x10
/* Status byte. */
#define ST_OUT 0x80
#define ST_NULL 0x40
/* Port B. */
#define PB_GATE2 0x01
#define PB_SPEAKER 0x02
#define PB_WRITABLE 0x0F
#define PB_REFRESH 0x10
#define PB_OUT2 0x20
/* The refresh-request bit toggles every 15.085 us (PIIX4 4.7.1). */
#define REFRESH_NS 15085ULL

struct pit_chan {
	uint8_t mode, rw, bcd;
	uint32_t reload;       /* N, the count written (0: the modulus) */
	bool counting;         /* a count was loaded */
	bool gate;
	uint64_t start_ns;
	uint64_t frozen;       /* ticks elapsed when the gate went low */
	bool wr_msb_next, rd_msb_next;
	uint8_t wr_lsb;
	bool latched, latch_msb_next;
	uint16_t latch;
	bool status_latched;
	uint8_t status;
	bool null_count;
	uint64_t edges, missed;
};

static struct pit_chan chans[PIT_CHANNELS] VDEV_SHARED;
static uint8_t portb VDEV_SHARED;

static uint64_t ticks_between(uint64_t from, uint64_t to)
{
	uint64_t d = to > from ? to - from : 0;

	return d / NS_PER_SEC * PIT_HZ + d % NS_PER_SEC * PIT_HZ / NS_PER_SEC;
}

/* The first ns at which ticks have elapsed (rounded up). */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return ticks / PIT_HZ * NS_PER_SEC +
	       (ticks % PIT_HZ * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ;
}

static uint32_t modulus(const struct pit_chan *c)
{
	return c->bcd ? BCD_MODULUS : BIN_MODULUS;
}

static uint32_t n_of(const struct pit_chan *c)
{
	return c->reload ? c->reload : modulus(c);
}

static uint64_t elapsed(const struct pit_chan *c, uint64_t now)
{
	if (!c->counting)
		return 0;
	return c->gate ? ticks_between(c->start_ns, now) : c->frozen;
}

static bool periodic(const struct pit_chan *c)
{
	return c->mode == 2 || c->mode == 3;
}

static uint32_t count_at(const struct pit_chan *c, uint64_t now)
{
	uint64_t e = elapsed(c, now), n = n_of(c), mod = modulus(c), ph, half;

	if (!c->counting)
		return c->reload;
	if (!periodic(c))
		return (uint32_t)((n + mod - e % mod) % mod);
	ph = e % n;
	if (c->mode == 2)
		return (uint32_t)(n - ph);
	half = (n + 1) / 2;
	return (uint32_t)(ph < half ? n - 2 * ph : n - 2 * (ph - half));
}

static bool out_at(const struct pit_chan *c, uint64_t now)
{
	uint64_t e = elapsed(c, now), n = n_of(c);

	if (!periodic(c))
		return c->counting && e >= n;
	if (!c->counting || !c->gate)
		return true;
	if (c->mode == 2)
		return e % n != n - 1;
	return e % n < (n + 1) / 2;
}

static uint16_t to_bcd(uint32_t v)
{
	return (v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 |
	       (v / 1000 % 10) << 12;
}

static uint32_t from_bcd(uint16_t v)
{
	return (v & 0xF) + (v >> 4 & 0xF) * 10 + (v >> 8 & 0xF) * 100 +
	       (v >> 12 & 0xF) * 1000;
}

/* The count as the guest reads it (16 bits, BCD in BCD mode). */
static uint16_t visible_count(const struct pit_chan *c, uint64_t now)
{
	uint32_t v = count_at(c, now) % modulus(c);

	return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static void load(struct pit_chan *c, uint16_t raw, uint64_t now)
{
	c->reload = c->bcd ? from_bcd(raw) % BCD_MODULUS : raw;
	c->counting = true;
	c->start_ns = now;
	c->frozen = 0;
	c->edges = 0;
	c->null_count = false;
}

static void control(uint8_t cw, uint64_t now)
{
	unsigned sc = cw >> CW_SC_SHIFT, rw = (cw >> CW_RW_SHIFT) & 3, i;
	struct pit_chan *c;

	if (sc == CW_READBACK) {
		for (i = 0; i < PIT_CHANNELS; i++) {
			c = &chans[i];
			if (!(cw & (2 << i)))
				continue;
			if (!(cw & RB_NO_STATUS) && !c->status_latched) {
				c->status = (out_at(c, now) ? ST_OUT : 0) |
					    (c->null_count ? ST_NULL : 0) |
					    c->rw << CW_RW_SHIFT |
					    c->mode << CW_MODE_SHIFT | c->bcd;
				c->status_latched = true;
			}
			if (!(cw & RB_NO_COUNT) && !c->latched) {
				c->latch = visible_count(c, now);
				c->latched = true;
				c->latch_msb_next = c->rw == RW_MSB;
			}
		}
		return;
	}
	c = &chans[sc];
	if (rw == RW_LATCH) {
		if (!c->latched) {
			c->latch = visible_count(c, now);
			c->latched = true;
			c->latch_msb_next = c->rw == RW_MSB;
		}
		return;
	}
	c->rw = rw;
	c->mode = (cw >> CW_MODE_SHIFT) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = cw & CW_BCD;
	c->counting = false;
	c->null_count = true;
	c->wr_msb_next = rw == RW_MSB;
	c->rd_msb_next = rw == RW_MSB;
	c->latched = c->status_latched = false;
}

static void data_write(struct pit_chan *c, uint8_t v, uint64_t now)
{
	if (c->rw == RW_LSB) {
		load(c, v, now);
	} else if (c->rw == RW_MSB) {
		load(c, (uint16_t)v << 8, now);
	} else if (!c->wr_msb_next) {
		c->wr_lsb = v;
		c->wr_msb_next = true;
		if (c->mode == 0)
			c->counting = false;
	} else {
		c->wr_msb_next = false;
		load(c, c->wr_lsb | (uint16_t)v << 8, now);
	}
}

static uint8_t data_read(struct pit_chan *c, uint64_t now)
{
	uint16_t v;
	uint8_t b;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched) {
		b = c->latch_msb_next ? c->latch >> 8 : c->latch & 0xFF;
		if (c->rw == RW_BOTH && !c->latch_msb_next)
			c->latch_msb_next = true;
		else
			c->latched = false;
		return b;
	}
	v = visible_count(c, now);
	if (c->rw == RW_LSB)
		return v & 0xFF;
	if (c->rw == RW_MSB)
		return v >> 8;
	b = c->rd_msb_next ? v >> 8 : v & 0xFF;
	c->rd_msb_next = !c->rd_msb_next;
	return b;
}

static void pit_write8(struct vdev *d, uint64_t off, uint8_t val)
{
	uint64_t now = vdev_now_ns();

	if (off == PIT_CONTROL)
		control(val, now);
	else
		data_write(&chans[off], val, now);
}

static uint8_t pit_read8(struct vdev *d, uint64_t off)
{
	/* The control word register cannot be read (82C54: no operation). */
	if (off == PIT_CONTROL)
		return 0xFF;
	return data_read(&chans[off], vdev_now_ns());
}

static void set_gate(struct pit_chan *c, bool g, uint64_t now)
{
	if (g == c->gate)
		return;
	if (!g) {
		c->frozen = elapsed(c, now);
	} else if (periodic(c)) {
		c->start_ns = now;
		c->edges = 0;
	} else {
		c->start_ns = now - MIN(now, ticks_to_ns(c->frozen));
	}
	c->gate = g;
}

static uint8_t portb_read8(struct vdev *d, uint64_t off)
{
	uint64_t now = vdev_now_ns();

	return portb | ((now / REFRESH_NS) & 1 ? PB_REFRESH : 0) |
	       (out_at(&chans[2], now) ? PB_OUT2 : 0);
}

static void portb_write8(struct vdev *d, uint64_t off, uint8_t val)
{
	portb = val & PB_WRITABLE;
	set_gate(&chans[2], portb & PB_GATE2, vdev_now_ns());
}

/* Channel 0's rising OUT edges since the last poll -> IRQ 0. */
static uint64_t pit_poll(struct vdev *d, uint64_t now)
{
	struct pit_chan *c = &chans[0];
	uint64_t n = n_of(c), e, due;

	if (!c->counting)
		return VDEV_NEVER;
	e = elapsed(c, now);
	due = periodic(c) ? e / n : e >= n;
	if (due > c->edges) {
		c->missed += due - c->edges - 1;
		c->edges = due;
		vdev_irq_pulse(PIT_IRQ);
	}
	if (!periodic(c) && c->edges)
		return VDEV_NEVER;
	return c->start_ns + ticks_to_ns((c->edges + 1) * n);
}

static uint64_t pit_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, pit_read8);
}

static void pit_write(struct vdev *d, uint64_t off, unsigned size,
		      uint64_t val)
{
	vdev_write_bytes(d, off, size, val, pit_write8);
}

static uint64_t portb_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, portb_read8);
}

static void portb_write(struct vdev *d, uint64_t off, unsigned size,
			uint64_t val)
{
	vdev_write_bytes(d, off, size, val, portb_write8);
}

static struct vdev pit_dev VDEV_SHARED = {
	.name = "pit", .space = VDEV_PIO, .base = PIT_PORT, .len = PIT_PORTS,
	.read = pit_read, .write = pit_write, .poll = pit_poll,
};

static struct vdev portb_dev VDEV_SHARED = {
	.name = "portb", .space = VDEV_PIO, .base = PORTB_PORT, .len = 1,
	.read = portb_read, .write = portb_write,
};

int pit_init(void)
{
	unsigned i;
	int r;

	memset(chans, 0, sizeof(chans));
	for (i = 0; i < PIT_CHANNELS; i++) {
		chans[i].rw = RW_BOTH;
		chans[i].gate = i != 2;
	}
	portb = 0;
	if ((r = vdev_register(&pit_dev)) < 0)
		return r;
	return vdev_register(&portb_dev);
}
