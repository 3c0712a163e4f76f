/*
 * The word "unclaimed" (unclaimed.c): accesses to a port and an MMIO
 * address no device of the VMM claims, a known number of times each, so
 * that the monitor's `devices ID` can be checked against them.
 */
#ifndef MBTEST_UNCLAIMED_H
#define MBTEST_UNCLAIMED_H

/* The counts the grade expects (grade/pc.py, multiboot-background). */
#define UNCLAIMED_PORT 0x2F8            /* COM2's base: our PC has none */
#define UNCLAIMED_PORT_READS 5
#define UNCLAIMED_PORT_WRITES 2
#define UNCLAIMED_MMIO 0xFED00000u      /* an HPET's base: not emulated */
#define UNCLAIMED_MMIO_READS 3
#define UNCLAIMED_MMIO_WRITES 1

/* Make them; each read must give all ones. Fails the test kernel
 * (FAIL_VALUE) when one does not. */
void unclaimed(void);

#endif /* !MBTEST_UNCLAIMED_H */
