/*
 * Calendar arithmetic for the proleptic Gregorian calendar, shared by the
 * kernel (reading its RTC, kern/hostclock.c) and the VMM's CMOS model
 * (vmmdev/rtc.c). Dates are UTC; a day count is days since 1970-01-01.
 *
 * Invariants: years DATE_YEAR_MIN .. DATE_YEAR_MAX only (the CMOS range:
 * two digits and a century); every function clamps to them, so no input
 * makes a loop run longer than that span.
 */
#ifndef JOS_INC_DATE_H
#define JOS_INC_DATE_H

#include <inc/types.h>

#define DATE_YEAR_MIN 1970
#define DATE_YEAR_MAX 2199
#define DATE_SECS_PER_DAY 86400
/* 1970-01-01 was a Thursday (0 = Sunday). */
#define DATE_EPOCH_WEEKDAY 4

struct date {
	int year;          /* DATE_YEAR_MIN .. DATE_YEAR_MAX */
	unsigned month;    /* 1-12 */
	unsigned day;      /* 1-31 */
	unsigned hour, min, sec;
	unsigned weekday;  /* 0 = Sunday .. 6 */
};

static inline bool date_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static inline unsigned date_month_days(int y, unsigned m)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 31;
	return days[m - 1] + (m == 2 && date_leap(y));
}

/* Seconds since 1970-01-01 00:00:00 of d (fields out of range clamp). */
static inline int64_t date_to_unix(const struct date *d)
{
	int y = d->year < DATE_YEAR_MIN ? DATE_YEAR_MIN
		: d->year > DATE_YEAR_MAX ? DATE_YEAR_MAX : d->year;
	unsigned m = d->month < 1 ? 1 : d->month > 12 ? 12 : d->month;
	int64_t days = 0;
	int yy;
	unsigned mm;

	for (yy = DATE_YEAR_MIN; yy < y; yy++)
		days += date_leap(yy) ? 366 : 365;
	for (mm = 1; mm < m; mm++)
		days += date_month_days(y, mm);
	days += d->day ? d->day - 1 : 0;
	return days * DATE_SECS_PER_DAY + d->hour * 3600 + d->min * 60 +
	       d->sec;
}

static inline void date_from_unix(int64_t t, struct date *d)
{
	int64_t days, secs;

	if (t < 0)
		t = 0;
	days = t / DATE_SECS_PER_DAY;
	secs = t % DATE_SECS_PER_DAY;
	d->weekday = (days + DATE_EPOCH_WEEKDAY) % 7;
	d->year = DATE_YEAR_MIN;
	while (d->year < DATE_YEAR_MAX &&
	       days >= (date_leap(d->year) ? 366 : 365))
		days -= date_leap(d->year++) ? 366 : 365;
	d->month = 1;
	while (d->month < 12 && days >= date_month_days(d->year, d->month))
		days -= date_month_days(d->year, d->month++);
	d->day = days + 1;
	d->hour = secs / 3600;
	d->min = secs / 60 % 60;
	d->sec = secs % 60;
}

#endif /* !JOS_INC_DATE_H */
