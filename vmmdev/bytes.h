/*
 * Byte-wide registers behind wider accesses: an ISA device decodes each
 * byte of a 16- or 32-bit port access on its own (the bus cycle is split
 * into byte cycles), so a device of 8-bit registers serves an access of
 * size n at off as n byte accesses at off, off + 1, ... (dev.h promises
 * off + size <= len; the bus splits the rest).
 *
 * Invariants: bytes are combined little-endian, as the x86 bus does.
 */
#ifndef JOS_VMMDEV_BYTES_H
#define JOS_VMMDEV_BYTES_H

#include "dev.h"

typedef uint8_t (*vdev_rd8)(struct vdev *d, uint64_t off);
typedef void (*vdev_wr8)(struct vdev *d, uint64_t off, uint8_t val);

static inline uint64_t vdev_read_bytes(struct vdev *d, uint64_t off,
				       unsigned size, vdev_rd8 rd)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)rd(d, off + i) << (8 * i);
	return v;
}

static inline void vdev_write_bytes(struct vdev *d, uint64_t off,
				    unsigned size, uint64_t val, vdev_wr8 wr)
{
	unsigned i;

	for (i = 0; i < size; i++)
		wr(d, off + i, (uint8_t)(val >> (8 * i)));
}

#endif /* !JOS_VMMDEV_BYTES_H */
