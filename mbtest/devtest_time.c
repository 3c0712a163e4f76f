/*
 * Timing for the device tests: when did an event happen, as far as the
 * guest can know. A guest only sees the TSC between its own exits and
 * interrupts, and the host may stop it for milliseconds anywhere (an
 * emulator beside other work): so an event is a window [lo, hi] of TSC
 * ticks that surely holds it, and a rate is taken only from events
 * whose windows are narrow for the span between them.
 *
 * An interrupt raised at a device deadline: the VMM program checks its
 * deadlines at every exit it handles, and dt_wait_ms makes one exit per
 * poll, marking the TSC before each. The deadline had not passed when
 * the poll before the last was handled (it would have been raised
 * then), and had when the handler runs: so lo is the mark before that
 * earlier poll and hi the handler's TSC (dt_stamp).
 *
 * Invariants:
 * - poll_prev and poll_cur are 0 outside dt_wait_ms's loop and before
 *   its second poll: a stamp then has lo 0, never narrow.
 * - dt_period uses only estimates whose windows bound their error; it
 *   fails the test when fewer than MIN_ESTIMATES are left, rather than
 *   guess.
 */
#include "devtest.h"

/* dt_period: estimates known within 1/WINDOW_DIV (5%); at least
 * MIN_ESTIMATES of them. */
#define WINDOW_DIV 20
#define MIN_ESTIMATES 3
static volatile u64 poll_prev, poll_cur;

void dt_poll_reset(void)
{
	poll_prev = poll_cur = 0;
}

void dt_poll_mark(void)
{
	poll_prev = poll_cur;
	poll_cur = rdtsc();
}

/* In a handler run from dt_wait_ms: the window of its interrupt. */
void dt_stamp(struct dt_when *w)
{
	w->lo = poll_prev;
	w->hi = rdtsc();
}

int dt_tight(const struct dt_when *w, u32 width)
{
	return w->lo && w->hi >= w->lo && w->hi - w->lo <= width;
}

u64 dt_mid(const struct dt_when *w)
{
	return w->lo + ((w->hi - w->lo) >> 1);
}

static u64 width(const struct dt_when *w)
{
	return w->hi - w->lo;
}

/* The period of the events w[0 .. n], meant to be evenly spaced about
 * want apart: from each known event i to the nearest j whose windows
 * together leave the estimate (mid j - mid i) / (j - i) within
 * 1/WINDOW_DIV of want, that estimate; the median of those. A tick the
 * device skipped while the host stopped the guest makes the estimates
 * across it too long, which the median ignores. */
u32 dt_period(const char *dev, const struct dt_when *w, u32 n, u32 want)
{
	u32 est[DT_MAX_ESTIMATES], k = 0, i, j;

	for (i = 0; i < n && k < DT_MAX_ESTIMATES; i++) {
		if (!dt_tight(&w[i], want))
			continue;
		for (j = i + 1; j <= n; j++) {
			if (!dt_tight(&w[j], want) ||
			    (width(&w[i]) + width(&w[j])) * WINDOW_DIV >
			    2ULL * want * (j - i))
				continue;
			est[k++] = div64_32(dt_mid(&w[j]) - dt_mid(&w[i]),
					    j - i);
			break;
		}
	}
	if (k < MIN_ESTIMATES)
		dt_fail(dev, "period estimates within 5% (events too late)",
			k, MIN_ESTIMATES);
	return dt_median(est, k);
}

/* The median of v[0 .. n) (sorts v; n >= 1). */
u32 dt_median(u32 *v, u32 n)
{
	u32 i, j, x;

	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[n / 2];
}
