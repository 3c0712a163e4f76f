/*
 * The device bus of the vmm program: devices register ranges of ports or
 * guest-physical addresses (vmmdev/dev.h); each exit the kernel hands us
 * is dispatched here to the device that claims it.
 *
 * Invariants:
 * - devs[0..ndevs) are registered devices whose ranges never overlap
 *   (vdev_register refuses).
 * - A device's read/write sees off < len and a size it takes (1, 2, 4;
 *   MMIO also 8): an access that runs past the end of a range is split
 *   into single bytes, each dispatched on its own.
 * - An address no device claims reads as all ones and drops writes; it
 *   is counted, and the first UNCLAIMED_SHOWN distinct ones are
 *   reported once each, as they happen.
 * - vbus_poll calls a device's poll when its deadline has passed, or
 *   when an access reached it since the last vbus_poll (it may have
 *   armed it: a deadline changes only by the device's own accesses and
 *   polls), and every device's at the first call: not every device at
 *   every exit, which cost an emulated inb about 700 instructions.
 */
#include <inc/lib.h>
#include <vmmdev/dev.h>
#include <vmmdev/pc.h>

#define DEVS_MAX 32
#define UNCLAIMED_SHOWN 16
#define BYTE_BITS 8

static struct vdev *devs[DEVS_MAX];
static int ndevs;
/* The device accessed since the last vbus_poll; several: poll_all. */
static struct vdev *touched;
static bool poll_all = true;
/* vbus_poll's last answer: the earliest deadline of all devices. */
static uint64_t next_all = VDEV_NEVER;

static struct {
	int space;
	uint64_t addr;
} unclaimed[UNCLAIMED_SHOWN];
static int nunclaimed_shown;
static uint64_t nunclaimed;

static const char *const space_name[] = { "port", "mmio" };

int vdev_register(struct vdev *d)
{
	int i;

	if (ndevs == DEVS_MAX || d->len == 0 || d->base + d->len < d->base)
		return -E_INVAL;
	for (i = 0; i < ndevs; i++)
		if (devs[i]->space == d->space &&
		    d->base < devs[i]->base + devs[i]->len &&
		    devs[i]->base < d->base + d->len)
			return -E_INVAL;
	d->nreads = d->nwrites = 0;
	d->deadline = VDEV_NEVER;
	devs[ndevs++] = d;
	poll_all = true;
	return 0;
}

static struct vdev *find(int space, uint64_t addr)
{
	int i;

	for (i = 0; i < ndevs; i++)
		if (devs[i]->space == (enum vdev_space)space &&
		    addr - devs[i]->base < devs[i]->len)
			return devs[i];
	return NULL;
}

/* Count an access nobody claims; say so the first time for addr. */
static void note_unclaimed(int space, uint64_t addr, bool write)
{
	int i;

	nunclaimed++;
	for (i = 0; i < nunclaimed_shown; i++)
		if (unclaimed[i].space == space && unclaimed[i].addr == addr)
			return;
	if (nunclaimed_shown == UNCLAIMED_SHOWN)
		return;
	unclaimed[nunclaimed_shown].space = space;
	unclaimed[nunclaimed_shown++].addr = addr;
	printf("vmm: %s %s 0x%lx: no device (reads as all ones)\n",
	       write ? "write to" : "read from", space_name[space],
	       (unsigned long)addr);
}

static uint64_t ones(unsigned size)
{
	return size >= sizeof(uint64_t) ? ~0ULL
					: (1ULL << (size * BYTE_BITS)) - 1;
}

/* d must be polled at the next vbus_poll. */
static void note_touched(struct vdev *d)
{
	if (touched && touched != d)
		poll_all = true;
	touched = d;
}

/* The device for [addr, addr + size), or NULL when it must be split. */
static struct vdev *whole(int space, uint64_t addr, unsigned size,
			  bool *split)
{
	struct vdev *d = find(space, addr);

	*split = d && addr + size - d->base > d->len;
	return *split ? NULL : d;
}

uint64_t vbus_read(int space, uint64_t addr, unsigned size)
{
	uint64_t v = 0;
	struct vdev *d;
	bool split;
	unsigned i;

	if ((d = whole(space, addr, size, &split))) {
		d->nreads++;
		note_touched(d);
		return d->read(d, addr - d->base, size) & ones(size);
	}
	if (!split) {
		note_unclaimed(space, addr, false);
		return ones(size);
	}
	for (i = 0; i < size; i++)
		v |= vbus_read(space, addr + i, 1) << (i * BYTE_BITS);
	return v;
}

void vbus_write(int space, uint64_t addr, unsigned size, uint64_t val)
{
	struct vdev *d;
	bool split;
	unsigned i;

	if ((d = whole(space, addr, size, &split))) {
		d->nwrites++;
		note_touched(d);
		d->write(d, addr - d->base, size, val & ones(size));
		return;
	}
	if (!split) {
		note_unclaimed(space, addr, true);
		return;
	}
	for (i = 0; i < size; i++)
		vbus_write(space, addr + i, 1, (val >> (i * BYTE_BITS)) & 0xff);
}

uint64_t vbus_poll(uint64_t now_ns)
{
	uint64_t next = VDEV_NEVER;
	int i;

	/* Nothing to poll (the loop below would call none): the answer
	 * stands. */
	if (!poll_all && (!touched || !touched->poll) && now_ns < next_all) {
		touched = NULL;
		return next_all;
	}
	for (i = 0; i < ndevs; i++) {
		struct vdev *d = devs[i];

		/* A device an access has just armed says its deadline at
		 * once; the others only when theirs came. */
		if (d->poll && (poll_all || d == touched ||
				now_ns >= d->deadline))
			d->deadline = d->poll(d, now_ns);
		next = MIN(next, d->deadline);
	}
	touched = NULL;
	poll_all = false;
	next_all = next;
	return next;
}

void vbus_report(void)
{
	int i;

	for (i = 0; i < ndevs; i++)
		if (devs[i]->nreads || devs[i]->nwrites)
			printf("vmm: device %s (%s 0x%lx+0x%lx): %lu reads, "
			       "%lu writes\n", devs[i]->name,
			       space_name[devs[i]->space],
			       (unsigned long)devs[i]->base,
			       (unsigned long)devs[i]->len,
			       (unsigned long)devs[i]->nreads,
			       (unsigned long)devs[i]->nwrites);
	if (nunclaimed)
		printf("vmm: %lu accesses to %d+ addresses no device "
		       "claims\n", (unsigned long)nunclaimed,
		       nunclaimed_shown);
}

/* ---- Interrupt lines: replaced by irq.c (H5's PIC/IOAPIC/LAPIC) ------- */

__attribute__((weak)) void vdev_irq_set(unsigned line, bool level)
{
}

__attribute__((weak)) void vdev_irq_pulse(unsigned line)
{
	vdev_irq_set(line, true);
	vdev_irq_set(line, false);
}

__attribute__((weak)) int vintr_next(void)
{
	return -1;
}

__attribute__((weak)) void vintr_ack(int vec)
{
}
