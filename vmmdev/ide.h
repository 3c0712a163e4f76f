/*
 * The IDE/ATA disk model of the user-space VMM (vmmdev/ide.c): the
 * primary channel, master and slave images.
 *
 * Invariants: the string entry points move bytes of the current PIO
 * transfer only (never past its DRQ data), and report how many they
 * moved; the bus fills the rest of a guest's `rep ins` with all ones and
 * drops the rest of a `rep outs`.
 */
#ifndef JOS_VMMDEV_IDE_H
#define JOS_VMMDEV_IDE_H

#include <inc/types.h>

/* Open master and slave (paths of the host FS; either may be NULL, not
 * both) and register the channel's ports. 0, or < 0: an image that does
 * not open or holds no whole sector, or a port range already taken. */
int ide_init(const char *master, const char *slave);

/* Up to n bytes of the current transfer, in order: a guest's
 * `rep insw/insl` (outsw/outsl) on port 0x1F0 in one call. Returns the
 * bytes moved: 0 when no data transfer is in progress. */
size_t ide_data_in(void *buf, size_t n);
size_t ide_data_out(const void *buf, size_t n);

#endif /* !JOS_VMMDEV_IDE_H */
