/*
 * The I/O APIC at guest-physical 0xFEC00000: 24 input pins, each routed
 * by its redirection-table entry to the local APICs as an interrupt
 * message.
 *
 * Reference: Intel 82093AA I/O Advanced Programmable Interrupt Controller
 * (IOAPIC) datasheet (order no. 290566), section 3.0 "Register
 * Description": 3.1 (IOREGSEL, IOWIN), 3.2.1 IOAPICID, 3.2.2 IOAPICVER,
 * 3.2.3 IOAPICARB, 3.2.4 IOREDTBL[23:0] (vector, delivery mode,
 * destination mode, delivery status, polarity, remote IRR, trigger mode,
 * mask, destination). EOI of level-triggered interrupts: 82093AA section
 * 2.4 and Intel SDM vol. 3A 11.8.5 (the local APIC's EOI broadcast).
 *
 * Invariants:
 * - A pin is asserted when its input level differs from the entry's
 *   polarity bit (1: active low). An edge entry sends one message per
 *   rising edge of "asserted" while unmasked (edges while masked are
 *   lost, as on the chip). A level entry sends a message whenever it is
 *   asserted, unmasked and its remote IRR is clear, and sets remote IRR;
 *   an EOI of its vector (ioapic_eoi) clears it.
 * - Delivery status is always 0: a message is delivered at once.
 * - Read-only bits (version, arbitration, delivery status, remote IRR)
 *   never change by a guest write.
 */
#include <inc/string.h>
#include "dev.h"
#include "devices.h"
#include "irqchip.h"

#define IOAPIC_BASE 0xFEC00000ULL
#define IOAPIC_MMIO_LEN 0x1000
/* Memory-mapped registers. */
#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_BYTES 4
/* Indirect registers (IOREGSEL values). */
#define IOAPICID 0x00
#define IOAPICVER 0x01
#define IOAPICARB 0x02
#define IOREDTBL 0x10
/* IOAPICID and IOAPICARB: the 4-bit ID in bits 27:24. */
#define ID_MASK 0x0F000000U
#define ID_SHIFT 24
/* IOAPICVER: version 0x11, maximum redirection entry in bits 23:16. */
#define IOAPIC_VERSION 0x11
#define VER_MAXREDIR_SHIFT 16
/* Redirection entry fields. */
#define RTE_VECTOR_MASK 0xFFULL
#define RTE_DM_SHIFT 8
#define RTE_DM_MASK 0x7ULL
#define RTE_DESTMODE (1ULL << 11)
#define RTE_DELIVS (1ULL << 12)
#define RTE_POLARITY_LOW (1ULL << 13)
#define RTE_REMOTE_IRR (1ULL << 14)
#define RTE_LEVEL (1ULL << 15)
#define RTE_MASKED (1ULL << 16)
#define RTE_DEST_SHIFT 56
#define RTE_WRITABLE (RTE_VECTOR_MASK | (RTE_DM_MASK << RTE_DM_SHIFT) | \
		      RTE_DESTMODE | RTE_POLARITY_LOW | RTE_LEVEL | \
		      RTE_MASKED | (0xFFULL << RTE_DEST_SHIFT))

static struct ioapic {
	uint32_t regsel;
	uint32_t id;
	uint64_t rte[IOAPIC_PINS];
	bool input[IOAPIC_PINS];    /* line levels, as the devices set them */
	bool asserted[IOAPIC_PINS];
} io VDEV_SHARED;

static bool pin_asserted(unsigned pin)
{
	return io.input[pin] != !!(io.rte[pin] & RTE_POLARITY_LOW);
}

static void send(unsigned pin)
{
	uint64_t e = io.rte[pin];

	irq_deliver(e >> RTE_DEST_SHIFT, (e & RTE_DESTMODE) != 0,
		    (e >> RTE_DM_SHIFT) & RTE_DM_MASK, e & RTE_VECTOR_MASK,
		    (e & RTE_LEVEL) != 0);
}

/* Send pin's message if its entry and input say so (see invariants). */
static void service(unsigned pin, bool rising)
{
	uint64_t e = io.rte[pin];

	if (e & RTE_MASKED)
		return;
	if (!(e & RTE_LEVEL)) {
		if (rising)
			send(pin);
		return;
	}
	if (!io.asserted[pin] || (e & RTE_REMOTE_IRR))
		return;
	if (((e >> RTE_DM_SHIFT) & RTE_DM_MASK) <= DM_LOWEST)
		io.rte[pin] |= RTE_REMOTE_IRR;
	send(pin);
}

/* Recompute pin's asserted state; a rising edge may send a message. */
static void reevaluate(unsigned pin)
{
	bool was = io.asserted[pin];

	io.asserted[pin] = pin_asserted(pin);
	service(pin, io.asserted[pin] && !was);
}

void ioapic_set_pin(unsigned pin, bool level)
{
	if (pin >= IOAPIC_PINS)
		return;
	io.input[pin] = level;
	reevaluate(pin);
}

void ioapic_eoi(uint8_t vec)
{
	unsigned pin;

	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t e = io.rte[pin];
		if ((e & RTE_LEVEL) && (e & RTE_REMOTE_IRR) &&
		    (e & RTE_VECTOR_MASK) == vec) {
			io.rte[pin] &= ~RTE_REMOTE_IRR;
			service(pin, false);
		}
	}
}

static uint32_t reg_read(uint32_t sel)
{
	unsigned pin = (sel - IOREDTBL) / 2;

	switch (sel) {
	case IOAPICID:
	case IOAPICARB:
		return io.id;
	case IOAPICVER:
		return IOAPIC_VERSION |
		       ((IOAPIC_PINS - 1) << VER_MAXREDIR_SHIFT);
	}
	if (sel < IOREDTBL || pin >= IOAPIC_PINS)
		return 0;
	return (uint32_t)(io.rte[pin] >> ((sel & 1) ? 32 : 0));
}

static void rte_write(unsigned pin, bool high, uint32_t val)
{
	uint64_t old = io.rte[pin], e;
	uint64_t half = high ? 0xFFFFFFFF00000000ULL : 0xFFFFFFFFULL;
	uint64_t v = high ? (uint64_t)val << 32 : val;

	e = (old & ~(half & RTE_WRITABLE)) | (v & half & RTE_WRITABLE);
	e &= ~RTE_DELIVS;
	if (!(e & RTE_LEVEL))
		e &= ~RTE_REMOTE_IRR;
	io.rte[pin] = e;
	reevaluate(pin);
}

static void reg_write(uint32_t sel, uint32_t val)
{
	unsigned pin = (sel - IOREDTBL) / 2;

	if (sel == IOAPICID)
		io.id = val & ID_MASK;
	else if (sel >= IOREDTBL && pin < IOAPIC_PINS)
		rte_write(pin, sel & 1, val);
}

/* The 32-bit register at a dword-aligned offset of the page. */
static uint32_t mmio_read32(uint64_t off)
{
	if (off == IOREGSEL)
		return io.regsel;
	if (off == IOWIN)
		return reg_read(io.regsel);
	return 0;
}

static void mmio_write32(uint64_t off, uint32_t val)
{
	if (off == IOREGSEL)
		io.regsel = val & 0xFF;
	else if (off == IOWIN)
		reg_write(io.regsel, val);
}

/* Any size and alignment: the bytes of the dwords it covers. */
static uint64_t ioapic_read(struct vdev *d, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++) {
		uint64_t a = off + i;
		uint32_t dw = mmio_read32(a & ~(uint64_t)(REG_BYTES - 1));
		uint64_t byte = (dw >> (8 * (a % REG_BYTES))) & 0xFF;
		v |= byte << (8 * i);
	}
	return v;
}

/* A write replaces the bytes it covers of each dword it touches (read,
 * merge, write: the registers read back without side effects). */
static void ioapic_write(struct vdev *d, uint64_t off, unsigned size,
			 uint64_t val)
{
	uint64_t a = off & ~(uint64_t)(REG_BYTES - 1);

	for (; a < off + size; a += REG_BYTES) {
		uint32_t dw = mmio_read32(a);
		unsigned i;
		for (i = 0; i < REG_BYTES; i++) {
			uint64_t b = a + i;
			if (b < off || b >= off + size)
				continue;
			dw &= ~(0xFFU << (8 * i));
			dw |= (uint32_t)((val >> (8 * (b - off))) & 0xFF)
			      << (8 * i);
		}
		mmio_write32(a, dw);
	}
}

static struct vdev ioapic_dev VDEV_SHARED = {
	.name = "ioapic", .space = VDEV_MMIO, .base = IOAPIC_BASE,
	.len = IOAPIC_MMIO_LEN, .read = ioapic_read, .write = ioapic_write,
};

int ioapic_init(unsigned id)
{
	unsigned pin;

	memset(&io, 0, sizeof(io));
	io.id = (id << ID_SHIFT) & ID_MASK;
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		io.rte[pin] = RTE_MASKED;
	return vdev_register(&ioapic_dev);
}
