/*
 * The debug-exit port, as QEMU's isa-debug-exit device defines it: a
 * write of v ends the guest with exit status (v << 1) | 1, which the vmm
 * program prints (a test waits for it). Reads return all ones.
 *
 * Invariants:
 * - One port; any write size: v is what was written, masked to it.
 */
#include <inc/lib.h>
#include <vmmdev/dev.h>
#include <vmmdev/pc.h>

static uint64_t dbgexit_read(struct vdev *d, uint64_t off, unsigned size)
{
	return ~0ULL;
}

static void dbgexit_write(struct vdev *d, uint64_t off, unsigned size,
			  uint64_t val)
{
	vrun_exit_request((int)((val << 1) | 1));
}

static struct vdev dbgexit_dev VDEV_SHARED = {
	.name = "debug-exit",
	.space = VDEV_PIO,
	.len = 1,
	.read = dbgexit_read,
	.write = dbgexit_write,
};

int dbgexit_init(uint16_t port)
{
	dbgexit_dev.base = port;
	return vdev_register(&dbgexit_dev);
}
