/*
 * Port 0x80, where firmware and kernels write POST codes (and which some
 * use as a short I/O delay): writes are kept only as the last code, reads
 * return it. The bus counts the accesses like any device's.
 *
 * Reference: IBM PC/AT Technical Reference, "System Board I/O Address
 * Map" (80h-9Fh: DMA page registers; 80h is unused by DMA and taken for
 * manufacturing/POST checkpoints by PC BIOSes).
 *
 * Invariants: nothing but last changes; no access has any other effect.
 */
#include "dev.h"
#include "devices.h"

#define POST_PORT 0x80

static uint8_t last VDEV_SHARED;

static uint64_t post_read(struct vdev *d, uint64_t off, unsigned size)
{
	return last;
}

static void post_write(struct vdev *d, uint64_t off, unsigned size,
		       uint64_t val)
{
	last = (uint8_t)val;
}

static struct vdev post_dev VDEV_SHARED = {
	.name = "post", .space = VDEV_PIO, .base = POST_PORT, .len = 1,
	.read = post_read, .write = post_write,
};

int post_init(void)
{
	last = 0;
	return vdev_register(&post_dev);
}
