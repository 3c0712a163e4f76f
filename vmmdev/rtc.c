/*
 * The CMOS real-time clock and its RAM at ports 0x70 (index, NMI mask)
 * and 0x71 (data): the time and date from the host's clock, status
 * registers A-D, periodic/alarm/update interrupts on ISA IRQ 8, and the
 * CMOS bytes a BIOS leaves (shutdown status, memory sizes).
 *
 * Reference: Motorola MC146818A datasheet: "Address Map" (figure 3),
 * "Time, Calendar and Alarm Locations" (table 3: binary/BCD, 12/24-hour
 * formats), "Register A" (UIP, DV2-0, RS3-0; table 5 periodic rates),
 * "Register B" (SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE), "Register C"
 * (IRQF, PF, AF, UF; cleared by reading), "Register D" (VRT), "Update
 * Cycle" (UIP set 244 us before the update). The PC's CMOS RAM map: IBM
 * PC/AT Technical Reference, "CMOS RAM Address Map" (0x0F shutdown
 * status, 0x10-0x2D configuration and checksum at 0x2E/0x2F, 0x15-0x18
 * base and extended memory in KiB, 0x30/0x31 extended memory, 0x32
 * century); bytes 0x34/0x35 (memory above 16 MiB in 64 KiB units) as
 * the Bochs/QEMU BIOS reads them. Port 0x70 bit 7: the NMI mask (IBM
 * PC/AT Technical Reference, "NMI").
 *
 * Invariants:
 * - The guest's time is the host's time at rtc_init (sys_time_unix) plus
 *   the guest's clock since (vdev_now_ns), plus offset, which only the
 *   guest changes (by setting the time with SET). Seconds tick on whole
 *   seconds of vdev_now_ns() since rtc_init.
 * - While SET is on, the time bytes are the guest's (ram[]), frozen;
 *   otherwise they are computed on each read in the format B says.
 * - Flags in C are brought up to date before C is read and at each
 *   poll; IRQ 8 is high exactly while IRQF is set.
 * - Indexes wrap into the 128 bytes of CMOS: no access leaves ram[].
 */
#include <inc/string.h>
#include <inc/lib.h>
#include <inc/date.h>
#include "dev.h"
#include "bytes.h"
#include "devices.h"

#define RTC_PORT 0x70
#define RTC_PORTS 2
#define RTC_IRQ 8
#define CMOS_BYTES 128
#define INDEX_MASK 0x7F
#define NMI_DISABLE 0x80
/* Registers. */
enum {
	R_SEC = 0x00, R_SEC_ALARM = 0x01, R_MIN = 0x02, R_MIN_ALARM = 0x03,
	R_HOUR = 0x04, R_HOUR_ALARM = 0x05, R_WEEKDAY = 0x06, R_DAY = 0x07,
	R_MONTH = 0x08, R_YEAR = 0x09, R_A = 0x0A, R_B = 0x0B, R_C = 0x0C,
	R_D = 0x0D, R_SHUTDOWN = 0x0F, R_CONFIG_FIRST = 0x10,
	R_CONFIG_LAST = 0x2D, R_CHECKSUM_HI = 0x2E, R_CHECKSUM_LO = 0x2F,
	R_BASE_LO = 0x15, R_BASE_HI = 0x16, R_EXT_LO = 0x17, R_EXT_HI = 0x18,
	R_EXT2_LO = 0x30, R_EXT2_HI = 0x31, R_CENTURY = 0x32,
	R_HIGH_LO = 0x34, R_HIGH_HI = 0x35,
};
#define A_UIP 0x80
#define A_WRITABLE 0x7F
#define A_RATE_MASK 0x0F
#define A_DIV_SHIFT 4
#define A_DIV_MASK 0x7
#define A_DIV_NORMAL 0x2  /* 32.768 kHz time base, counting */
#define A_RESET 0x26      /* normal divider, 1024 Hz periodic rate */
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_BINARY 0x04
#define B_24H 0x02
#define B_RESET B_24H
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80
#define HOUR_PM 0x80
/* An alarm byte of 0xC0-0xFF matches any value ("don't care"). */
#define ALARM_ANY 0xC0
/* UIP is set this long before each update (datasheet: 244 us). */
#define UIP_NS 244000ULL
#define NS_PER_SEC 1000000000ULL
#define RTC_BASE_HZ 32768ULL
/* Memory sizes the CMOS reports. */
#define KIB 1024ULL
#define BASE_MEM_KIB 640
#define EXT_START (1024 * KIB)
#define HIGH_START (16 * 1024 * KIB)
#define HIGH_UNIT (64 * KIB)
#define CMOS_WORD_MAX 0xFFFFULL
#define FOUR_GIB (4ULL << 30)

static struct rtc {
	uint8_t ram[CMOS_BYTES];
	uint8_t index;
	bool nmi_disabled;
	int64_t host_base;    /* host's Unix time at rtc_init */
	uint64_t base_ns;     /* vdev_now_ns() at rtc_init */
	int64_t offset;       /* the guest's setting of the time */
	uint64_t last_sec, last_period;
} rtc VDEV_SHARED;

static bool binary(void)
{
	return rtc.ram[R_B] & B_BINARY;
}

static uint8_t enc(unsigned v)
{
	return binary() ? v : (v / 10) << 4 | (v % 10);
}

static unsigned dec(uint8_t v)
{
	return binary() ? v : (v >> 4) * 10 + (v & 0xF);
}

static uint8_t enc_hour(unsigned h)
{
	if (rtc.ram[R_B] & B_24H)
		return enc(h);
	return enc(h % 12 ? h % 12 : 12) | (h >= 12 ? HOUR_PM : 0);
}

static unsigned dec_hour(uint8_t v)
{
	unsigned h;

	if (rtc.ram[R_B] & B_24H)
		return dec(v);
	h = dec(v & ~HOUR_PM) % 12;
	return h + ((v & HOUR_PM) ? 12 : 0);
}

static uint64_t secs_since_init(uint64_t now)
{
	return (now - MIN(now, rtc.base_ns)) / NS_PER_SEC;
}

static void date_now(uint64_t now, struct date *d)
{
	date_from_unix(rtc.host_base + (int64_t)secs_since_init(now) +
		       rtc.offset, d);
}

/* The time bytes for date d, in the format B says. */
static void store_time(const struct date *d)
{
	rtc.ram[R_SEC] = enc(d->sec);
	rtc.ram[R_MIN] = enc(d->min);
	rtc.ram[R_HOUR] = enc_hour(d->hour);
	rtc.ram[R_WEEKDAY] = enc(d->weekday + 1);
	rtc.ram[R_DAY] = enc(d->day);
	rtc.ram[R_MONTH] = enc(d->month);
	rtc.ram[R_YEAR] = enc(d->year % 100);
	rtc.ram[R_CENTURY] = enc(d->year / 100);
}

/* SET went off: the guest's time bytes become the clock's time. */
static void take_guest_time(uint64_t now)
{
	struct date d = {
		.year = dec(rtc.ram[R_CENTURY]) * 100 +
			dec(rtc.ram[R_YEAR]) % 100,
		.month = dec(rtc.ram[R_MONTH]), .day = dec(rtc.ram[R_DAY]),
		.hour = dec_hour(rtc.ram[R_HOUR]), .min = dec(rtc.ram[R_MIN]),
		.sec = dec(rtc.ram[R_SEC]),
	};

	rtc.offset = date_to_unix(&d) - rtc.host_base -
		     (int64_t)secs_since_init(now);
}

static bool alarm_hits(const struct date *d)
{
	const uint8_t *r = rtc.ram;

	return (r[R_SEC_ALARM] >= ALARM_ANY || dec(r[R_SEC_ALARM]) == d->sec) &&
	       (r[R_MIN_ALARM] >= ALARM_ANY || dec(r[R_MIN_ALARM]) == d->min) &&
	       (r[R_HOUR_ALARM] >= ALARM_ANY ||
		dec_hour(r[R_HOUR_ALARM]) == d->hour);
}

/* The periodic interrupt's period (table 5), or 0 when off. */
static uint64_t period_ns(void)
{
	unsigned rs = rtc.ram[R_A] & A_RATE_MASK;

	if (!rs)
		return 0;
	if (rs <= 2)
		rs += 7;
	return NS_PER_SEC * (1ULL << (rs - 1)) / RTC_BASE_HZ;
}

static bool running(void)
{
	return !(rtc.ram[R_B] & B_SET) &&
	       ((rtc.ram[R_A] >> A_DIV_SHIFT) & A_DIV_MASK) == A_DIV_NORMAL;
}

/* Bring the flags in C up to now, and IRQ 8 with them. */
static void update_flags(uint64_t now)
{
	uint64_t s = secs_since_init(now), p = period_ns();
	uint8_t c = rtc.ram[R_C], b = rtc.ram[R_B];
	struct date d;

	if (running() && s > rtc.last_sec) {
		c |= C_UF;
		date_now(now, &d);
		if (alarm_hits(&d))
			c |= C_AF;
	}
	rtc.last_sec = s;
	if (p && (now - MIN(now, rtc.base_ns)) / p > rtc.last_period)
		c |= C_PF;
	if (p)
		rtc.last_period = (now - MIN(now, rtc.base_ns)) / p;
	c &= ~C_IRQF;
	if (((c & C_PF) && (b & B_PIE)) || ((c & C_AF) && (b & B_AIE)) ||
	    ((c & C_UF) && (b & B_UIE)))
		c |= C_IRQF;
	rtc.ram[R_C] = c;
	vdev_irq_set(RTC_IRQ, c & C_IRQF);
}

static uint8_t data_read(uint64_t now)
{
	uint8_t i = rtc.index, v;
	struct date d;
	uint64_t frac = (now - MIN(now, rtc.base_ns)) % NS_PER_SEC;

	switch (i) {
	case R_A:
		v = rtc.ram[R_A];
		if (running() && frac >= NS_PER_SEC - UIP_NS)
			v |= A_UIP;
		return v;
	case R_C:
		update_flags(now);
		v = rtc.ram[R_C];
		rtc.ram[R_C] = 0;
		vdev_irq_set(RTC_IRQ, false);
		return v;
	case R_D:
		return D_VRT;
	case R_SEC: case R_MIN: case R_HOUR: case R_WEEKDAY: case R_DAY:
	case R_MONTH: case R_YEAR: case R_CENTURY:
		if (!(rtc.ram[R_B] & B_SET)) {
			date_now(now, &d);
			store_time(&d);
		}
		return rtc.ram[i];
	}
	return rtc.ram[i];
}

static void data_write(uint8_t v, uint64_t now)
{
	uint8_t i = rtc.index;
	struct date d;

	switch (i) {
	case R_A:
		rtc.ram[R_A] = v & A_WRITABLE;
		break;
	case R_B:
		if ((v & B_SET) && !(rtc.ram[R_B] & B_SET)) {
			/* Freeze the time bytes as they are now. */
			date_now(now, &d);
			store_time(&d);
			v &= ~B_UIE;
		}
		if (!(v & B_SET) && (rtc.ram[R_B] & B_SET)) {
			rtc.ram[R_B] = v;
			take_guest_time(now);
		}
		rtc.ram[R_B] = v;
		update_flags(now);
		break;
	case R_C:
	case R_D:
		break; /* read-only */
	default:
		rtc.ram[i] = v;
		break;
	}
}

static uint8_t rtc_read8(struct vdev *d, uint64_t off)
{
	/* The index register is write-only. */
	if (off == 0)
		return 0xFF;
	return data_read(vdev_now_ns());
}

static void rtc_write8(struct vdev *d, uint64_t off, uint8_t val)
{
	if (off == 0) {
		rtc.index = val & INDEX_MASK;
		rtc.nmi_disabled = val & NMI_DISABLE;
	} else {
		data_write(val, vdev_now_ns());
	}
}

static uint64_t rtc_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, rtc_read8);
}

static void rtc_write(struct vdev *d, uint64_t off, unsigned size,
		      uint64_t val)
{
	vdev_write_bytes(d, off, size, val, rtc_write8);
}

/* The next moment a flag whose interrupt is enabled can rise. */
static uint64_t rtc_poll(struct vdev *d, uint64_t now)
{
	uint64_t next = VDEV_NEVER, p = period_ns();
	uint64_t t = now - MIN(now, rtc.base_ns);
	uint8_t b = rtc.ram[R_B];

	update_flags(now);
	if ((b & (B_UIE | B_AIE)) && running())
		next = rtc.base_ns + (t / NS_PER_SEC + 1) * NS_PER_SEC;
	if ((b & B_PIE) && p)
		next = MIN(next, rtc.base_ns + (t / p + 1) * p);
	return next;
}

static struct vdev rtc_dev VDEV_SHARED = {
	.name = "rtc", .space = VDEV_PIO, .base = RTC_PORT, .len = RTC_PORTS,
	.read = rtc_read, .write = rtc_write, .poll = rtc_poll,
};

static void put_word(uint8_t lo, uint8_t hi, uint64_t v)
{
	v = MIN(v, CMOS_WORD_MAX);
	rtc.ram[lo] = v & 0xFF;
	rtc.ram[hi] = v >> 8;
}

/* The memory-size bytes and the configuration checksum. */
static void fill_memory(uint64_t ram_bytes)
{
	uint64_t below4g = MIN(ram_bytes, FOUR_GIB), ext, sum = 0;
	unsigned i;

	ext = below4g > EXT_START ? (below4g - EXT_START) / KIB : 0;
	put_word(R_BASE_LO, R_BASE_HI, BASE_MEM_KIB);
	put_word(R_EXT_LO, R_EXT_HI, ext);
	put_word(R_EXT2_LO, R_EXT2_HI, ext);
	put_word(R_HIGH_LO, R_HIGH_HI, below4g > HIGH_START
		 ? (below4g - HIGH_START) / HIGH_UNIT : 0);
	for (i = R_CONFIG_FIRST; i <= R_CONFIG_LAST; i++)
		sum += rtc.ram[i];
	rtc.ram[R_CHECKSUM_HI] = (sum >> 8) & 0xFF;
	rtc.ram[R_CHECKSUM_LO] = sum & 0xFF;
}

int rtc_init(uint64_t ram_bytes)
{
	int64_t t = sys_time_unix();

	memset(&rtc, 0, sizeof(rtc));
	rtc.host_base = t < 0 ? 0 : t;
	rtc.base_ns = vdev_now_ns();
	rtc.ram[R_A] = A_RESET;
	rtc.ram[R_B] = B_RESET;
	rtc.ram[R_D] = D_VRT;
	fill_memory(ram_bytes);
	return vdev_register(&rtc_dev);
}
