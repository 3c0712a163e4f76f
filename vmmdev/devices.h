/*
 * The PC devices of the user-space VMM (vmmdev/): one init function per
 * device file, which registers its vdev(s) with the bus (dev.h). The vmm
 * program calls them once, before the guest starts, in any order; each
 * returns 0, or < 0 when a range is taken (vdev_register refused it).
 *
 * Invariants:
 * - Every device here is a pure function of the guest's accesses, the
 *   lines raised by other devices and vdev_now_ns(): none keeps host
 *   resources besides the disk images ide.c holds open.
 * - vdev_guest_reset is the one way a device ends the guest; the run loop
 *   defines it (kbc.c has a weak default that only prints the reason).
 */
#ifndef JOS_VMMDEV_DEVICES_H
#define JOS_VMMDEV_DEVICES_H

#include <inc/types.h>

/* pic.c: the 8259A pair at 0x20/0xA0 and the ELCR at 0x4D0. */
int pic_init(void);
/* ioapic.c: the IOAPIC at 0xFEC00000 with APIC ID id, as a BIOS leaves
 * it: the ID the firmware tables give it (fwtables.c: ncpus, after the
 * CPUs' IDs). */
int ioapic_init(unsigned id);
/* lapic.c: the xAPIC page at 0xFEE00000, for ncpus vCPUs (APIC IDs
 * 0 .. ncpus - 1). */
int lapic_init(unsigned ncpus);
/* lapic.c: this process handles vCPU cpu's exits: its accesses to the
 * LAPIC page are cpu's (0 until called; per process). */
void lapic_select(unsigned cpu);
/* lapic.c: keep the kernel's read shadow (inc/vmrun.h) of the selected
 * vCPU's registers at s from now on (its run page's, before it runs). */
struct vmrun_lapic;
void lapic_publish(struct vmrun_lapic *s);
/* pit.c: the 8254 at 0x40-0x43 and port B (0x61). */
int pit_init(void);
/* rtc.c: the CMOS/RTC at 0x70/0x71; ram_bytes fills the memory-size
 * bytes. The date comes from the host's clock (sys_time_unix). */
int rtc_init(uint64_t ram_bytes);
/* kbc.c: the i8042 at 0x60/0x64. */
int kbc_init(void);
/* vga.c: the CRTC and the other VGA register ports. */
int vga_init(void);
/* post.c: port 0x80 (POST codes), accepted and ignored. */
int post_init(void);

/* kbc.c: a byte (a scan code) for the guest's keyboard; raises IRQ 1
 * when the guest enabled it. Dropped, counted, when the queue is full. */
void kbc_queue(uint8_t byte);

/* The guest asked for a reset (keyboard controller pulse, ...): the run
 * loop ends the guest with a line naming why. */
void vdev_guest_reset(const char *why);

#endif /* !JOS_VMMDEV_DEVICES_H */
