/*
 * Device models of the user-space VMM (the vmm program): each device claims
 * a range of ports or of guest-physical addresses; vmmdev/bus.c finds the
 * device of each port-I/O or MMIO exit the kernel hands us and calls it.
 *
 * Invariants:
 * - Ranges of registered devices never overlap (vdev_register refuses).
 * - read/write get off < len and size 1, 2, 4 (ports) or 1, 2, 4, 8 (MMIO);
 *   an access that crosses the end of the range is split by the bus.
 * - An address no device claims reads as all ones and drops writes; the bus
 *   counts it and reports it once per guest.
 * - The bus counts each device's reads and writes in the device report
 *   page (inc/devstats.h), the row d->slot, which the kernel monitor's
 *   `devices ID` shows.
 */
#ifndef JOS_VMMDEV_DEV_H
#define JOS_VMMDEV_DEV_H

#include <inc/types.h>

enum vdev_space { VDEV_PIO, VDEV_MMIO };

#define VDEV_NEVER (~0ULL)

/*
 * Machine state: one copy that every vCPU's process of the vmm program
 * sees (user/user.ld's .vmshared pages, shared before the fork:
 * vmmdev/smp.c). Every global a device model keeps (registers, queues,
 * its struct vdev) carries it; what belongs to one process (its vCPU,
 * its run page) does not. Never on a const object (a section holds one
 * kind).
 */
#define VDEV_SHARED __attribute__((section(".vmshared")))

struct vdev {
	const char *name;
	enum vdev_space space;
	uint64_t base;   /* first port, or first guest-physical byte */
	uint64_t len;    /* ports, or bytes, claimed */
	uint64_t (*read)(struct vdev *d, uint64_t off, unsigned size);
	void (*write)(struct vdev *d, uint64_t off, unsigned size, uint64_t val);
	/* Optional: called when vdev_now_ns() reaches the deadline it last
	 * returned (or at any exit); returns the next deadline or VDEV_NEVER. */
	uint64_t (*poll)(struct vdev *d, uint64_t now_ns);
	void *state;
	/* Kept by the bus: its row in the device report; its deadline. */
	int slot;
	uint64_t deadline;
};

/* bus.c: 0, or < 0 when the range overlaps another device's. */
int vdev_register(struct vdev *d);

/* irq.c: a device's interrupt line (ISA IRQ 0-15, IOAPIC pins 0-23) goes
 * high or low; the PIC and IOAPIC models route it. pulse = high then low
 * (edge-triggered devices). */
void vdev_irq_set(unsigned line, bool level);
void vdev_irq_pulse(unsigned line);

/* irq.c: the run loop's questions before each resume. vintr_next: the
 * vector the vCPU should take next, or -1 (LAPIC first, else the PIC's
 * INTR when LAPIC LINT0 is ExtINT or there is no enabled LAPIC).
 * vintr_ack: the kernel delivered vec (IRR -> ISR in the model that
 * offered it). */
int vintr_next(void);
void vintr_ack(int vec);

/* smp.c (lapic.c's weak defaults refuse, in vdevtest): an INIT (level
 * assert) IPI reached vCPU cpu: back to wait-for-SIPI; a STARTUP IPI
 * with vector vec: start it at vec << 12. 0, or < 0: the kernel refused
 * (-E_BUSY: the vCPU runs, or no longer waits for a SIPI). */
int vdev_cpu_init(unsigned cpu);
int vdev_cpu_startup(unsigned cpu, uint8_t vec);
/* smp.c (lapic.c's weak default does nothing): vCPU cpu, not this
 * process's, can take an interrupt it could not before; its process
 * should look soon (VMMCTL_VCPU_KICK after this exit: vsmp_kick_flush). */
void vdev_cpu_kick(unsigned cpu);

/* The guest's clock: nanoseconds since the guest started, monotonic. */
uint64_t vdev_now_ns(void);

/* Before the guest starts only: a pointer to n bytes of guest-physical
 * memory at gpa, staged in the VMM and handed to the guest at start
 * (firmware tables, boot sector, kernel image). NULL when
 * [gpa, gpa + n) is not guest RAM the loader stages. */
void *gmem_ptr(uint64_t gpa, size_t n);

#endif /* !JOS_VMMDEV_DEV_H */
