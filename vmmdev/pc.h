/*
 * The vmm program's PC machine, as its own files see each other (the
 * device interface every model uses is vmmdev/dev.h): the bus's
 * dispatch, the run loop, guest memory staging, the multiboot loader.
 *
 * Invariants:
 * - One guest per vmm program: these files keep its state in statics,
 *   the machine's VDEV_SHARED (dev.h): with -c N, one process per vCPU
 *   (smp.c) sees them all.
 * - Guest memory is staged (gmem_ptr) only before gmem_handover; after
 *   it the guest owns its pages and the VMM touches them no more.
 */
#ifndef JOS_VMMDEV_PC_H
#define JOS_VMMDEV_PC_H

#include <inc/types.h>
#include <inc/vmmctl.h>

/* -M MODULE: at most this many. */
#define PC_MODS_MAX 8
/* -i IMAGE: the IDE primary channel's master, then its slave. */
#define PC_IMAGES_MAX 2

/* run.c's run pages, vCPU i's at VRUN_VA + i pages (away from the text,
 * KFILE_VA of user/vmm.c and gmem.c's GMEM_VA); bus.c's device report
 * page after them. */
#define VRUN_VA 0x0F000000UL
#define VSTATS_VA (VRUN_VA + VM_MAX_VCPUS * PGSIZE)

/* What user/vmm.c parsed for a PC-kind guest. */
struct pc_opts {
	const char *kernel;            /* -k: a multiboot kernel file */
	const char *cmdline;           /* -a: its command line, or NULL */
	const char *mods[PC_MODS_MAX]; /* -M: module files */
	int nmods;
	const char *images[PC_IMAGES_MAX]; /* -i: IDE master, slave */
	int nimages;
	uint64_t gphysz;
	unsigned ncpus;                /* -c: vCPUs; 0 until given (1) */
	bool background;               /* -b */
	struct vmm_setup setup;        /* -n NAME (no disk) */
};

/* pc.c: make, load, run and follow the guest; never returns. */
void pc_main(struct pc_opts *o) __attribute__((noreturn));
/* pc.c: wait while guest owns the console: 0 when it ended, else its
 * state (VMM_STATE_*) when it left the foreground. */
int vmm_follow(envid_t guest);
/* pc.c: take option c with value val (-k, -a, -M, -i, -c) into o: false
 * when c is none of them, or one too many, or -c is not 1 to
 * VM_MAX_VCPUS. */
bool pc_option(struct pc_opts *o, int c, const char *val);
/* pc.c: o names a PC guest (-k or -i) and nothing it cannot take. */
bool pc_wanted(const struct pc_opts *o);
/* pc.c: guest's env is still there, not dying. */
bool vmm_guest_alive(envid_t guest);

/* bus.c: one access, split at device boundaries; unclaimed: all ones. */
uint64_t vbus_read(int space, uint64_t addr, unsigned size);
void vbus_write(int space, uint64_t addr, unsigned size, uint64_t val);
/* Call each device's poll whose deadline passed; the next deadline. */
uint64_t vbus_poll(uint64_t now_ns);
/* One "vmm: N accesses no device claimed" line, if there were any. */
void vbus_report(void);
/* The device report page (inc/devstats.h): make it, before the devices
 * register; name it to the kernel for the guest (VMMCTL_DEVSTATS). */
int vbus_stats_init(void);
int vbus_stats_register(int32_t guest);

/* run.c: the run pages of vCPUs 0 .. ncpus - 1 (shared, PTE_SHARE). */
int vrun_init(unsigned ncpus);
/* This process runs vCPU cpu: its run page, its LAPIC. */
void vrun_select(unsigned cpu);
int vrun_start_clock(void);
/* Run this process's vCPU (env id vcpu, vrun_select's) until the guest
 * ends: its exit status ((v << 1) | 1 after a write of v to the
 * debug-exit port), or < 0 when it stopped otherwise (the kernel said
 * why). */
int vrun_loop(int32_t vcpu);
/* The LAPIC reads the kernel answered for vCPUs 0 .. ncpus - 1: one
 * line, if any. */
void vrun_report(unsigned ncpus);
/* The debug-exit port ends the guest with this status. */
void vrun_exit_request(int status);
/* The guest's console (the UART): output bytes, with room left; input,
 * given to `rx` at each exit, at most `room()` bytes at a time. */
size_t vrun_cons_room(void);
bool vrun_cons_put(uint8_t c);
void vrun_set_console(void (*rx)(const uint8_t *buf, size_t n),
		      size_t (*room)(void));
/* vCPU cpu's run page (inc/vmrun.h), for VMMCTL_PC. */
struct vmrun *vrun_page(unsigned cpu);

/* smp.c: after VMMCTL_PC on vCPU 0 (guest, of kind): its ncpus - 1
 * other vCPUs, each with its run page. 0, or < 0. */
int vsmp_add(envid_t guest, unsigned ncpus, int kind);
/* smp.c: share the machine's pages, fork a process per other vCPU:
 * which vCPU this process runs (0: the caller), or < 0. */
int vsmp_start(void);
/* smp.c: vCPU cpu's env id. */
envid_t vsmp_vcpu(unsigned cpu);
/* smp.c: the caller (vCPU 0's) waits until every other vCPU's process
 * has exited. */
void vsmp_wait(void);
/* smp.c: the machine lock: true once held; false (not held) when the
 * VM is gone, so that no process waits forever on one that died. */
bool vsmp_lock(void);
void vsmp_unlock(void);
/* After vsmp_unlock: kick the vCPUs the models asked for (smp.c). */
void vsmp_kick_flush(void);

/* gmem.c */
int gmem_init(uint64_t gphysz);
int gmem_handover(int32_t guest);
uint64_t gmem_size(void);

/* mboot.c: the multiboot kernel, modules, information and boot stub. */
int mboot_load(const struct pc_opts *o);

/* Device models of this file set (each registers its vdev). */
int uart_init(uint16_t base, unsigned irq);
int dbgexit_init(uint16_t port);

#endif /* !JOS_VMMDEV_PC_H */
