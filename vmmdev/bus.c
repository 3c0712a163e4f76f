/*
 * The device bus of the vmm program: devices register ranges of ports or
 * guest-physical addresses (vmmdev/dev.h); each exit the kernel hands us
 * is dispatched here to the device that claims it, and counted in the
 * device report page (inc/devstats.h) that the kernel monitor's
 * `devices ID` reads: one increment per access, no system call.
 *
 * Invariants:
 * - devs[0..ndevs) are registered devices whose ranges never overlap
 *   (vdev_register refuses); devs[i]->slot == i, and stats->dev[i]
 *   describes it and counts its accesses.
 * - stats is the report page at VSTATS_VA (pc.h) once vbus_stats_init
 *   made it (before then a static copy, carried over), PTE_SHARE: every
 *   vCPU's process counts in the one page the kernel reads; only this
 *   file writes it.
 * - A device's read/write sees off < len and a size it takes (1, 2, 4;
 *   MMIO also 8): an access that runs past the end of a range is split
 *   into single bytes, each dispatched on its own.
 * - An address no device claims reads as all ones and drops writes; it
 *   is counted in stats->unclaimed (per distinct address, the first
 *   DEVSTATS_UNCLAIMED_MAX; the rest in other_*), and the first
 *   UNCLAIMED_SHOWN distinct ones are reported once each, as they happen.
 * - vbus_poll calls a device's poll when its deadline has passed, or
 *   when an access reached it since the last vbus_poll (it may have
 *   armed it: a deadline changes only by the device's own accesses and
 *   polls), and every device's at the first call: not every device at
 *   every exit, which cost an emulated inb about 700 instructions.
 */
#include <inc/lib.h>
#include <inc/devstats.h>
#include <vmmdev/dev.h>
#include <vmmdev/pc.h>

#define DEVS_MAX DEVSTATS_DEVS_MAX
#define UNCLAIMED_SHOWN 16
/* Addresses named in the one-line summary at the guest's end. */
#define UNCLAIMED_SUMMED 4
/* Room for that line: its start and UNCLAIMED_SUMMED addresses. */
#define REPORT_LINE 320
#define BYTE_BITS 8
#define STATS_VA ((struct devstats *)VSTATS_VA)
#define PERM_SHARED (PTE_P | PTE_U | PTE_W | PTE_SHARE)

static_assert((int)VDEV_PIO == (int)DEVSTATS_PIO &&
	      (int)VDEV_MMIO == (int)DEVSTATS_MMIO);

static struct vdev *devs[DEVS_MAX] VDEV_SHARED;
static int ndevs VDEV_SHARED;
static struct devstats early_stats VDEV_SHARED = {
	.version = DEVSTATS_ABI_VERSION
};
static struct devstats *stats VDEV_SHARED = &early_stats;
/* The device accessed since the last vbus_poll; several: poll_all. */
static struct vdev *touched VDEV_SHARED;
static bool poll_all VDEV_SHARED = true;
/* vbus_poll's last answer: the earliest deadline of all devices. */
static uint64_t next_all VDEV_SHARED = VDEV_NEVER;


static const char *const space_name[] = { "port", "mmio" };

int vbus_stats_init(void)
{
	int r;

	if ((r = sys_page_alloc(0, STATS_VA, PERM_SHARED)) < 0)
		return r;
	memcpy(STATS_VA, stats, sizeof(*stats));
	stats = STATS_VA;
	return 0;
}

int vbus_stats_register(int32_t guest)
{
	return sys_vmm_ctl(VMMCTL_DEVSTATS, guest, stats, sizeof(*stats));
}

int vdev_register(struct vdev *d)
{
	struct devstats_dev *row;
	int i;

	if (ndevs == DEVS_MAX || d->len == 0 || d->base + d->len < d->base)
		return -E_INVAL;
	for (i = 0; i < ndevs; i++)
		if (devs[i]->space == d->space &&
		    d->base < devs[i]->base + devs[i]->len &&
		    devs[i]->base < d->base + d->len)
			return -E_INVAL;
	row = &stats->dev[ndevs];
	memset(row, 0, sizeof(*row));
	strncpy(row->name, d->name, DEVSTATS_NAME_MAX - 1);
	row->space = d->space;
	row->base = d->base;
	row->len = d->len;
	d->slot = ndevs;
	d->deadline = VDEV_NEVER;
	devs[ndevs++] = d;
	stats->ndevs = ndevs;
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

/* The report's row for addr, made (and said) the first time; NULL when
 * the table is full. */
static struct devstats_unclaimed *unclaimed_row(int space, uint64_t addr,
						bool write)
{
	struct devstats_unclaimed *u;
	uint32_t i;

	for (i = 0; i < stats->nunclaimed; i++)
		if (stats->unclaimed[i].space == (uint32_t)space &&
		    stats->unclaimed[i].addr == addr)
			return &stats->unclaimed[i];
	if (stats->nunclaimed == DEVSTATS_UNCLAIMED_MAX)
		return NULL;
	u = &stats->unclaimed[stats->nunclaimed++];
	u->space = space;
	u->addr = addr;
	u->nreads = u->nwrites = 0;
	if (stats->nunclaimed <= UNCLAIMED_SHOWN)
		printf("vmm: %s %s 0x%lx: no device (reads as all ones)\n",
		       write ? "write to" : "read from", space_name[space],
		       (unsigned long)addr);
	return u;
}

/* Count an access nobody claims. */
static void note_unclaimed(int space, uint64_t addr, bool write)
{
	struct devstats_unclaimed *u = unclaimed_row(space, addr, write);

	if (u && write)
		u->nwrites++;
	else if (u)
		u->nreads++;
	else if (write)
		stats->other_writes++;
	else
		stats->other_reads++;
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
		stats->dev[d->slot].nreads++;
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
		stats->dev[d->slot].nwrites++;
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

/* One line, written whole (a line printed in pieces may be cut by the
 * shell's prompt): the accesses no device claimed, the first few
 * addresses. */
void vbus_report(void)
{
	char line[REPORT_LINE];
	uint64_t n = stats->other_reads + stats->other_writes;
	uint32_t i;
	int len;

	for (i = 0; i < stats->nunclaimed; i++)
		n += stats->unclaimed[i].nreads + stats->unclaimed[i].nwrites;
	if (!n)
		return;
	len = snprintf(line, sizeof(line),
		       "vmm: %lu accesses no device claimed, at %u%s addresses:",
		       (unsigned long)n, stats->nunclaimed,
		       stats->other_reads + stats->other_writes ? "+" : "");
	for (i = 0; i < stats->nunclaimed && i < UNCLAIMED_SUMMED; i++)
		len += snprintf(line + len, sizeof(line) - len, " %s 0x%lx (%lu)",
				space_name[stats->unclaimed[i].space],
				(unsigned long)stats->unclaimed[i].addr,
				(unsigned long)(stats->unclaimed[i].nreads +
						stats->unclaimed[i].nwrites));
	printf("%s%s\n", line, i < stats->nunclaimed ? " ..." : "");
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
