/*
 * The host's wall clock: the date and time in the machine's MC146818
 * real-time clock (CMOS), for sys_time_unix (the VMM's CMOS model gives
 * its guests the host's date).
 *
 * Reference: Motorola MC146818A datasheet, "Address Map" (registers 0-9),
 * "Register A" (UIP), "Register B" (DM: binary/BCD, 24/12); the PC's
 * century byte at 0x32 (IBM PC/AT Technical Reference, CMOS RAM map).
 *
 * Invariants:
 * - Callers hold the kernel lock (every system call does), so no other
 *   CPU moves the CMOS index register between our index and data access.
 * - A read never waits unbounded: at most UIP_SPINS polls of UIP, and at
 *   most READ_TRIES reads until two in a row agree.
 * - A guest kernel (VMM_GUEST) has no RTC of its own to read (its port
 *   I/O stops it): it answers -E_NOT_SUPP.
 */
#include <inc/x86.h>
#include <inc/error.h>
#include <inc/date.h>
#include <inc/string.h>
#include <kern/hostclock.h>

#ifdef VMM_GUEST
int64_t hostclock_unix(void)
{
	return -E_NOT_SUPP;
}
#else

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
enum { RTC_SEC = 0x00, RTC_MIN = 0x02, RTC_HOUR = 0x04, RTC_DAY = 0x07,
       RTC_MONTH = 0x08, RTC_YEAR = 0x09, RTC_A = 0x0A, RTC_B = 0x0B,
       RTC_CENTURY = 0x32 };
#define RTC_A_UIP 0x80
#define RTC_B_24H 0x02
#define RTC_B_BINARY 0x04
#define RTC_HOUR_PM 0x80
#define UIP_SPINS 1000000
#define READ_TRIES 5
/* Two-digit years below this are 20xx when the century byte is bad. */
#define PIVOT_YEAR 70

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static unsigned bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xF);
}

/* One snapshot of the time registers (raw), once UIP is clear. */
static void snapshot(uint8_t r[6], uint8_t *century)
{
	static const uint8_t regs[6] = { RTC_SEC, RTC_MIN, RTC_HOUR,
					 RTC_DAY, RTC_MONTH, RTC_YEAR };
	int i;

	for (i = 0; i < UIP_SPINS && (cmos_read(RTC_A) & RTC_A_UIP); i++)
		;
	for (i = 0; i < 6; i++)
		r[i] = cmos_read(regs[i]);
	*century = cmos_read(RTC_CENTURY);
}

int64_t hostclock_unix(void)
{
	uint8_t a[6], b[6], ca, cb, regb;
	bool bin;
	struct date d;
	unsigned yy, cent;
	int i;

	snapshot(a, &ca);
	for (i = 0; i < READ_TRIES; i++) {
		snapshot(b, &cb);
		if (!memcmp(a, b, sizeof(a)) && ca == cb)
			break;
		memcpy(a, b, sizeof(a));
		ca = cb;
	}
	regb = cmos_read(RTC_B);
	bin = regb & RTC_B_BINARY;
	d.sec = bcd(a[0], bin);
	d.min = bcd(a[1], bin);
	d.hour = bcd(a[2] & ~RTC_HOUR_PM, bin);
	if (!(regb & RTC_B_24H))
		d.hour = d.hour % 12 + ((a[2] & RTC_HOUR_PM) ? 12 : 0);
	d.day = bcd(a[3], bin);
	d.month = bcd(a[4], bin);
	yy = bcd(a[5], bin) % 100;
	cent = bcd(ca, bin);
	if (cent < DATE_YEAR_MIN / 100 || cent > DATE_YEAR_MAX / 100)
		cent = yy < PIVOT_YEAR ? 20 : 19;
	d.year = cent * 100 + yy;
	return date_to_unix(&d);
}
#endif /* !VMM_GUEST */
