/*
 * vdevtest: the PC device models of vmmdev/ driven through their
 * register read/write functions, without a guest: this program is their
 * bus (vdev_register records each device; accesses go to the device that
 * claims the address) and their clock (vdev_now_ns is a counter the test
 * advances, so every timer check is exact). Each device's datasheet
 * behaviour is asserted; a failure panics with the line that failed.
 * Prints "vdevtest: NAME ok" per device, then "vdevtest: all devices ok".
 *
 * Invariants: the scratch disk image (SCRATCH) is made here and removed
 * at the end; nothing else on the host's disk changes.
 */
#include <inc/lib.h>
#include <inc/date.h>
#include <vmmdev/dev.h>
#include <vmmdev/devices.h>
#include "vdevtest.h"

#define MAX_DEVS 32
#define RAM_BYTES (64ULL << 20)

static struct vdev *devs[MAX_DEVS];
static unsigned ndevs;
static uint64_t fake_now;
int resets;

int vdev_register(struct vdev *d)
{
	unsigned i;

	for (i = 0; i < ndevs; i++)
		if (devs[i]->space == d->space && d->base < devs[i]->base +
		    devs[i]->len && devs[i]->base < d->base + d->len)
			return -E_INVAL;
	if (ndevs == MAX_DEVS)
		return -E_NO_MEM;
	devs[ndevs++] = d;
	return 0;
}

uint64_t vdev_now_ns(void)
{
	return fake_now;
}

void *gmem_ptr(uint64_t gpa, size_t n)
{
	return NULL;
}

void vdev_guest_reset(const char *why)
{
	resets++;
}

void advance_to(uint64_t ns)
{
	CHECK(ns >= fake_now);
	fake_now = ns;
}

uint64_t now_ns(void)
{
	return fake_now;
}

static struct vdev *find(enum vdev_space sp, uint64_t a)
{
	unsigned i;

	for (i = 0; i < ndevs; i++)
		if (devs[i]->space == sp && a >= devs[i]->base &&
		    a < devs[i]->base + devs[i]->len)
			return devs[i];
	panic("vdevtest: no device at %s 0x%lx",
	      sp == VDEV_PIO ? "port" : "gpa", (unsigned long)a);
}

uint64_t io_in(uint64_t port, unsigned size)
{
	struct vdev *d = find(VDEV_PIO, port);

	return d->read(d, port - d->base, size);
}

void io_out(uint64_t port, unsigned size, uint64_t v)
{
	struct vdev *d = find(VDEV_PIO, port);

	d->write(d, port - d->base, size, v);
}

uint32_t mmio_rd(uint64_t gpa)
{
	struct vdev *d = find(VDEV_MMIO, gpa);

	return d->read(d, gpa - d->base, 4);
}

void mmio_wr(uint64_t gpa, uint32_t v)
{
	struct vdev *d = find(VDEV_MMIO, gpa);

	d->write(d, gpa - d->base, 4, v);
}

/*
 * A hostile guest: FUZZ_ACCESSES accesses of random size, offset and
 * value to every device's range, time moving on, with polls and
 * interrupt acknowledgements between. Nothing may crash or hang, and the
 * IDE image (ide.c) may not change size: test_ide checks after.
 */
#define FUZZ_SEED 0x9E3779B97F4A7C15ULL

static uint64_t fuzz_state = FUZZ_SEED;

static uint64_t fuzz_rand(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return fuzz_state;
}

void fuzz_devices(void)
{
	static const unsigned pio_sizes[] = { 1, 2, 4 };
	static const unsigned mmio_sizes[] = { 1, 2, 4, 8 };
	unsigned i, size;
	struct vdev *d;
	uint64_t off;
	int vec;

	for (i = 0; i < FUZZ_ACCESSES; i++) {
		d = devs[fuzz_rand() % ndevs];
		off = fuzz_rand() % d->len;
		size = d->space == VDEV_PIO ? pio_sizes[fuzz_rand() % 3]
					    : mmio_sizes[fuzz_rand() % 4];
		/* The bus splits what crosses the end (dev.h). */
		while (off + size > d->len)
			size /= 2;
		if (fuzz_rand() & 1)
			d->read(d, off, size);
		else
			d->write(d, off, size, fuzz_rand());
		fake_now += fuzz_rand() % 100000;
		poll_all();
		if ((vec = vintr_next()) >= 0)
			vintr_ack(vec);
	}
}

/* Every device's poll at the fake clock's now. */
void poll_all(void)
{
	unsigned i;

	for (i = 0; i < ndevs; i++)
		if (devs[i]->poll)
			devs[i]->poll(devs[i], fake_now);
}

/* ---- PIC ---------------------------------------------------------------- */

void pic_setup(uint8_t master_icw4)
{
	outb8(0x20, 0x11);
	outb8(0x21, 0x20);
	outb8(0x21, 0x04);
	outb8(0x21, master_icw4);
	outb8(0xA0, 0x11);
	outb8(0xA1, 0x28);
	outb8(0xA1, 0x02);
	outb8(0xA1, 0x01);
}

uint8_t pic_reg(uint16_t port, uint8_t ocw3)
{
	outb8(port, ocw3);
	return inb8(port);
}

static void take(int vec)
{
	CHECK_EQ(vintr_next(), vec);
	vintr_ack(vec);
}

static void test_pic(void)
{
	/* As a BIOS leaves it: vectors 0x08/0x70, all masked but IR2. */
	CHECK_EQ(inb8(0x21), 0xFB);
	CHECK_EQ(inb8(0xA1), 0xFF);
	vdev_irq_pulse(1);
	CHECK_EQ(vintr_next(), -1);
	outb8(0x21, 0xF9);
	CHECK_EQ(vintr_next(), 0x09);

	pic_setup(0x01);
	CHECK_EQ(inb8(0x21), 0);
	outb8(0x21, 0xFB);
	outb8(0xA1, 0xFF);
	CHECK_EQ(inb8(0x21), 0xFB);
	CHECK_EQ(inb8(0xA1), 0xFF);

	/* A masked line is requested (IRR) but not offered. */
	vdev_irq_pulse(1);
	CHECK_EQ(pic_reg(0x20, 0x0A), 0x02);
	CHECK_EQ(vintr_next(), -1);
	outb8(0x21, 0x00);
	/* Priority: IRQ 1 before IRQ 3; IRQ 3 waits for IRQ 1's EOI. */
	vdev_irq_pulse(3);
	take(0x21);
	CHECK_EQ(pic_reg(0x20, 0x0B), 0x02);
	CHECK_EQ(pic_reg(0x20, 0x0A), 0x08);
	CHECK_EQ(vintr_next(), -1);
	outb8(0x20, 0x20);
	take(0x23);
	outb8(0x20, 0x63);               /* specific EOI, level 3 */
	CHECK_EQ(pic_reg(0x20, 0x0B), 0);
	/* A higher request between offer and delivery: the vCPU took the
	 * vector offered, which goes in service; the new one nests. */
	vdev_irq_pulse(3);
	CHECK_EQ(vintr_next(), 0x23);
	vdev_irq_pulse(1);
	vintr_ack(0x23);
	CHECK_EQ(pic_reg(0x20, 0x0B), 0x08);
	take(0x21);
	outb8(0x20, 0x20);
	outb8(0x20, 0x20);
	CHECK_EQ(pic_reg(0x20, 0x0B), 0);

	/* The slave through the cascade: both in service until both EOIs. */
	outb8(0xA1, 0x00);
	vdev_irq_pulse(9);
	take(0x29);
	CHECK_EQ(pic_reg(0x20, 0x0B), 0x04);
	CHECK_EQ(pic_reg(0xA0, 0x0B), 0x02);
	outb8(0xA0, 0x20);
	outb8(0x20, 0x20);
	CHECK_EQ(pic_reg(0x20, 0x0B) | pic_reg(0xA0, 0x0B), 0);

	/* Level (ELCR): offered again after EOI while the line is high. */
	outb8(0x4D1, 0x04 | 0x01);       /* bit 0 (IRQ 8) is not writable */
	CHECK_EQ(inb8(0x4D1), 0x04);
	vdev_irq_set(10, true);
	take(0x2A);
	outb8(0xA0, 0x20);
	outb8(0x20, 0x20);
	CHECK_EQ(vintr_next(), 0x2A);
	vdev_irq_set(10, false);
	CHECK_EQ(vintr_next(), -1);
	/* Spurious: the request went away before INTA: no ISR bit. */
	vdev_irq_set(10, true);
	CHECK_EQ(vintr_next(), 0x2A);
	vdev_irq_set(10, false);
	vintr_ack(0x2A);
	CHECK_EQ(pic_reg(0x20, 0x0B) | pic_reg(0xA0, 0x0B), 0);
	outb8(0x4D1, 0);

	/* Edge: a pulse is latched; auto-EOI leaves no ISR bit. */
	pic_setup(0x03);
	vdev_irq_pulse(4);
	take(0x24);
	CHECK_EQ(pic_reg(0x20, 0x0B), 0);
	/* Poll mode answers the level and acknowledges it. */
	pic_setup(0x01);
	vdev_irq_pulse(5);
	outb8(0x20, 0x0C);
	CHECK_EQ(inb8(0x20), 0x85);
	CHECK_EQ(pic_reg(0x20, 0x0B), 0x20);
	outb8(0x20, 0x20);
	CHECK_EQ(vintr_next(), -1);
	cprintf("vdevtest: pic ok\n");
}

void umain(int argc, char **argv)
{
	CHECK_EQ(pic_init(), 0);
	CHECK_EQ(ioapic_init(1), 0);
	CHECK_EQ(lapic_init(2), 0);
	CHECK_EQ(pit_init(), 0);
	CHECK_EQ(rtc_init(RAM_BYTES), 0);
	CHECK_EQ(kbc_init(), 0);
	CHECK_EQ(vga_init(), 0);
	CHECK_EQ(post_init(), 0);
	/* A second registration of a taken range is refused. */
	CHECK(pic_init() < 0);
	test_pic();
	test_apic();
	test_lapic_timer();
	test_pit();
	test_rtc(RAM_BYTES);
	test_kbc_vga();
	test_ide();
	cprintf("vdevtest: all devices ok\n");
}
