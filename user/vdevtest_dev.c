/*
 * vdevtest: the 8254 PIT and port B (vmmdev/pit.c), the CMOS/RTC
 * (rtc.c), the keyboard controller (kbc.c), the VGA ports (vga.c) and
 * port 0x80 (post.c), against their datasheets, with the fake clock.
 *
 * Invariants: the PIC is left fully masked; requests it latches are read
 * from its IRR (OCW3), never taken by the vCPU here.
 */
#include <inc/date.h>
#include "vdevtest.h"

#define PIT_HZ 1193182ULL
#define NS_PER_SEC 1000000000ULL
#define MS 1000000ULL

/* ns of the fake clock for ticks of the PIT since t (rounded up). */
static uint64_t pit_ns(uint64_t t, uint64_t ticks)
{
	return t + (ticks * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ;
}

static uint16_t pit_latch(unsigned ch)
{
	uint16_t v;

	outb8(0x43, ch << 6);
	v = inb8(0x40 + ch);
	return v | inb8(0x40 + ch) << 8;
}

/* Clear the master PIC's latched requests: re-initialise it, masked. */
static void pic_quiet(void)
{
	pic_setup(0x01);
	outb8(0x21, 0xFF);
	outb8(0xA1, 0xFF);
}

void test_pit(void)
{
	uint64_t t0;

	pic_quiet();
	/* Channel 0, mode 2, 1193 ticks (1 ms). */
	outb8(0x43, 0x34);
	t0 = now_ns();
	outb8(0x40, 1193 & 0xFF);
	outb8(0x40, 1193 >> 8);
	CHECK_EQ(pit_latch(0), 1193);
	advance_to(pit_ns(t0, 596));
	CHECK_EQ(pit_latch(0), 1193 - 596);
	/* Read-back of the status: OUT high, lobyte/hibyte, mode 2. */
	outb8(0x43, 0xE2);
	CHECK_EQ(inb8(0x40), 0x80 | 0x34);
	poll_all();
	CHECK_EQ(pic_reg(0x20, 0x0A) & 1, 0);
	advance_to(pit_ns(t0, 1193));
	poll_all();
	CHECK_EQ(pic_reg(0x20, 0x0A) & 1, 1);       /* IRQ 0 */
	advance_to(pit_ns(t0, 1193 + 5));
	CHECK_EQ(pit_latch(0), 1193 - 5);           /* reloaded */
	outb8(0x43, 0x30);                          /* mode 0: stop IRQs */

	/* Channel 2 calibration: gate on, mode 0, wait for OUT2. */
	outb8(0x61, 0x01);
	outb8(0x43, 0xB0);
	t0 = now_ns();
	outb8(0x42, 11932 & 0xFF);
	outb8(0x42, 11932 >> 8);
	CHECK_EQ(inb8(0x61) & 0x20, 0);
	advance_to(pit_ns(t0, 11931));
	CHECK_EQ(inb8(0x61) & 0x20, 0);
	CHECK_EQ(pit_latch(2), 1);
	advance_to(pit_ns(t0, 11932));
	CHECK_EQ(inb8(0x61) & 0x20, 0x20);
	CHECK_EQ(inb8(0x61) & 0x0F, 0x01);
	/* Gate low holds the count. */
	outb8(0x43, 0xB0);
	t0 = now_ns();
	outb8(0x42, 100);
	outb8(0x42, 0);
	advance_to(pit_ns(t0, 40));
	outb8(0x61, 0x00);
	advance_to(pit_ns(t0, 400));
	CHECK_EQ(pit_latch(2), 60);
	/* Lobyte-only access, mode 3, BCD. */
	outb8(0x43, 0x97);                          /* ch 2, lsb, mode 3, BCD */
	outb8(0x42, 0x50);
	CHECK_EQ(inb8(0x42), 0x50);
	cprintf("vdevtest: pit ok\n");
}

static uint8_t cmos(uint8_t i)
{
	outb8(0x70, i);
	return inb8(0x71);
}

static void cmos_wr(uint8_t i, uint8_t v)
{
	outb8(0x70, i);
	outb8(0x71, v);
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xF);
}

void test_rtc(uint64_t ram_bytes)
{
	struct date host, after;
	uint8_t sec0, b;
	int64_t t = sys_time_unix();
	unsigned y, m, d, h;

	CHECK(t > 0);
	date_from_unix(t, &host);
	CHECK_EQ(cmos(0x0B), 0x02);                 /* BCD, 24 hours */
	CHECK_EQ(cmos(0x0D), 0x80);
	y = bcd(cmos(0x32)) * 100 + bcd(cmos(0x09));
	m = bcd(cmos(0x08));
	d = bcd(cmos(0x07));
	date_from_unix(sys_time_unix(), &after);
	CHECK((y == (unsigned)host.year && m == host.month && d == host.day) ||
	      (y == (unsigned)after.year && m == after.month &&
	       d == after.day));
	cprintf("vdevtest: rtc date %04d-%02d-%02d\n", y, m, d);
	/* Binary mode gives the same date. */
	cmos_wr(0x0B, 0x06);
	CHECK_EQ(cmos(0x09), y % 100);
	CHECK_EQ(cmos(0x08), m);
	CHECK_EQ(cmos(0x07), d);
	/* 12-hour mode: 1-12 and the PM bit. */
	h = cmos(0x04);
	cmos_wr(0x0B, 0x04);
	b = cmos(0x04);
	CHECK_EQ(b & 0x7F, h % 12 ? h % 12 : 12);
	CHECK_EQ(!!(b & 0x80), h >= 12);
	cmos_wr(0x0B, 0x06);
	/* The clock runs on the guest's clock; UIP just before an update. */
	advance_to((now_ns() / NS_PER_SEC + 1) * NS_PER_SEC + NS_PER_SEC / 2);
	sec0 = cmos(0x00);
	CHECK_EQ(cmos(0x0A) & 0x80, 0);
	advance_to(now_ns() + NS_PER_SEC / 2 - 100000);
	CHECK_EQ(cmos(0x0A) & 0x80, 0x80);
	advance_to(now_ns() + 200000);
	CHECK_EQ(cmos(0x00), (sec0 + 1) % 60);
	/* Setting the time (SET) sticks and runs on from there. */
	cmos_wr(0x0B, 0x86);
	cmos_wr(0x00, 10);
	cmos_wr(0x02, 20);
	cmos_wr(0x04, 5);
	cmos_wr(0x0B, 0x06);
	CHECK_EQ(cmos(0x04), 5);
	CHECK_EQ(cmos(0x02), 20);
	advance_to(now_ns() + 2 * NS_PER_SEC);
	CHECK_EQ(cmos(0x00), 12);
	/* Update-ended interrupt: IRQ 8; C reads IRQF|UF (and PF, which
	 * the periodic rate sets whether or not PIE is on), then 0. */
	pic_quiet();
	cmos(0x0C);
	cmos_wr(0x0B, 0x16);
	advance_to(now_ns() + NS_PER_SEC);
	poll_all();
	CHECK_EQ(pic_reg(0xA0, 0x0A) & 1, 1);
	CHECK_EQ(cmos(0x0C) & ~0x40, 0x90);
	CHECK_EQ(cmos(0x0C), 0);
	cmos_wr(0x0B, 0x02);
	/* Memory sizes (KiB; 64 KiB units above 16 MiB), shutdown byte. */
	CHECK_EQ(cmos(0x15) | cmos(0x16) << 8, 640);
	CHECK_EQ(cmos(0x17) | cmos(0x18) << 8, (ram_bytes >> 10) - 1024);
	CHECK_EQ(cmos(0x30) | cmos(0x31) << 8, (ram_bytes >> 10) - 1024);
	CHECK_EQ(cmos(0x34) | cmos(0x35) << 8, (ram_bytes - (16 << 20)) >> 16);
	cmos_wr(0x0F, 0x0A);
	CHECK_EQ(cmos(0x0F), 0x0A);
	/* Bit 7 of the index is the NMI mask, not part of the index. */
	outb8(0x70, 0x80 | 0x0F);
	CHECK_EQ(inb8(0x71), 0x0A);
	cprintf("vdevtest: rtc ok\n");
}

void test_kbc_vga(void)
{
	CHECK_EQ(inb8(0x64) & 0x07, 0x04);          /* SYS, buffers empty */
	outb8(0x64, 0xAA);
	CHECK_EQ(inb8(0x64) & 0x01, 0x01);
	CHECK_EQ(inb8(0x60), 0x55);
	CHECK_EQ(inb8(0x64) & 0x01, 0);
	/* A20 through the output port, as xv6's boot sector does it. */
	outb8(0x64, 0xD1);
	outb8(0x60, 0xDF);
	outb8(0x64, 0xD0);
	CHECK_EQ(inb8(0x60), 0xDF);
	/* The keyboard: reset -> ACK, BAT ok; a queued byte raises IRQ 1. */
	outb8(0x60, 0xFF);
	CHECK_EQ(inb8(0x60), 0xFA);
	CHECK_EQ(inb8(0x60), 0xAA);
	pic_quiet();
	kbc_queue(0x1E);
	CHECK_EQ(pic_reg(0x20, 0x0A) & 0x02, 0x02);
	CHECK_EQ(inb8(0x60), 0x1E);
	/* Reset pulse: the run loop is told, once. */
	CHECK_EQ(resets, 0);
	outb8(0x64, 0xFE);
	CHECK_EQ(resets, 1);
	/* Port 0x92: the output port's A20 gate; bit 0 resets. */
	CHECK_EQ(inb8(0x92), 0x02);
	outb8(0x92, 0x00);
	outb8(0x64, 0xD0);
	CHECK_EQ(inb8(0x60) & 0x02, 0);
	outb8(0x92, 0x02);
	CHECK_EQ(inb8(0x92), 0x02);
	CHECK_EQ(resets, 1);
	outb8(0x92, 0x03);
	CHECK_EQ(resets, 2);
	cprintf("vdevtest: kbc ok\n");

	outb8(0x3D4, 0x0E);
	outb8(0x3D5, 0x12);
	outb8(0x3D4, 0x0F);
	outb8(0x3D5, 0x34);
	outb8(0x3D4, 0x0E);
	CHECK_EQ(inb8(0x3D5), 0x12);
	outb8(0x3D4, 0x0F);
	CHECK_EQ(inb8(0x3D5), 0x34);
	CHECK(inb8(0x3DA) != inb8(0x3DA));          /* retrace toggles */
	outb8(0x80, 0x42);
	CHECK_EQ(inb8(0x80), 0x42);
	cprintf("vdevtest: vga ok\n");
}
