/*
 * Accesses no device claims (the word "unclaimed"): the VMM must read
 * them as all ones, drop the writes and count each, per address; the
 * grade then compares the monitor's `devices ID` with the counts in
 * unclaimed.h.
 *
 * Invariants:
 * - Exactly the counts of unclaimed.h, nothing else at those addresses
 *   (paging is off: the MMIO address is guest-physical as written).
 */
#include "mb.h"
#include "unclaimed.h"

#define ALL_ONES_8 0xFFu
#define ALL_ONES_32 0xFFFFFFFFu
#define JUNK_8 0x5A
#define JUNK_32 0xA5A5A5A5u

static void bad(const char *what)
{
	puts("mbtest: unclaimed ");
	puts(what);
	puts(" did not read as all ones\n");
	finish(FAIL_VALUE);
}

void unclaimed(void)
{
	volatile u32 *mmio = (volatile u32 *)UNCLAIMED_MMIO;
	int i;

	for (i = 0; i < UNCLAIMED_PORT_WRITES; i++)
		outb(UNCLAIMED_PORT, JUNK_8);
	for (i = 0; i < UNCLAIMED_PORT_READS; i++)
		if (inb(UNCLAIMED_PORT) != ALL_ONES_8)
			bad("port");
	for (i = 0; i < UNCLAIMED_MMIO_WRITES; i++)
		*mmio = JUNK_32;
	for (i = 0; i < UNCLAIMED_MMIO_READS; i++)
		if (*mmio != ALL_ONES_32)
			bad("MMIO");
	puts("mbtest: unclaimed port and MMIO read as all ones\n");
}
