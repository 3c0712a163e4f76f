/*
 * The device report page: what a PC-kind guest's devices saw, counted by
 * the VMM program that emulates them (vmmdev/bus.c) and shown by the
 * kernel monitor's `devices ID` (and `kmon devices ID`; vmm/devstats.c).
 *
 * One page of the VMM program's memory, registered with VMMCTL_DEVSTATS
 * (inc/vmmctl.h) by the guest's VMM program; the kernel holds a reference
 * to it for the guest's life and only ever reads it. The VMM program
 * writes it at will, with no system call: each emulated access is one
 * counter increment.
 *
 * Invariants:
 * - Everything here is written by the VMM program alone and is
 *   untrusted: the kernel copies the page before it looks, then bounds
 *   every count (ndevs, nunclaimed) by its array and prints only
 *   printable bytes of each name, up to DEVSTATS_NAME_MAX - 1. A VMM
 *   program that writes garbage garbles only its own guest's report.
 * - dev[0 .. ndevs) are the registered devices, in registration order;
 *   unclaimed[0 .. nunclaimed) the distinct addresses no device claims,
 *   in the order first seen; accesses to further such addresses, past
 *   the table, are summed in other_reads / other_writes.
 */
#ifndef JOS_INC_DEVSTATS_H
#define JOS_INC_DEVSTATS_H

#include <inc/types.h>

/* Bumped when a field changes meaning or place. */
#define DEVSTATS_ABI_VERSION 1

#define DEVSTATS_NAME_MAX 16
#define DEVSTATS_DEVS_MAX 32
#define DEVSTATS_UNCLAIMED_MAX 32

/* Address spaces (vmmdev/dev.h's enum vdev_space has the same values). */
enum { DEVSTATS_PIO = 0, DEVSTATS_MMIO = 1 };

/* One device: its range and the accesses it emulated. */
struct devstats_dev {
	char name[DEVSTATS_NAME_MAX];
	uint32_t space;       /* DEVSTATS_PIO or DEVSTATS_MMIO */
	uint32_t pad;
	uint64_t base, len;   /* first port or guest-physical byte; how many */
	uint64_t nreads, nwrites;
};

/* One address no device claims: reads gave all ones, writes dropped. */
struct devstats_unclaimed {
	uint32_t space;
	uint32_t pad;
	uint64_t addr;
	uint64_t nreads, nwrites;
};

struct devstats {
	uint32_t version;     /* DEVSTATS_ABI_VERSION */
	uint32_t ndevs;
	uint32_t nunclaimed;
	uint32_t pad;
	uint64_t other_reads, other_writes;
	struct devstats_dev dev[DEVSTATS_DEVS_MAX];
	struct devstats_unclaimed unclaimed[DEVSTATS_UNCLAIMED_MAX];
};

#endif /* !JOS_INC_DEVSTATS_H */
