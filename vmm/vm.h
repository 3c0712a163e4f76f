/*
 * A virtual machine: what its vCPUs (struct Vcpu, vmm/vcpu.h) share.
 * Guest-physical memory and the nested page tables that map it, the
 * console, the disk, the debugger's hold on it, its name and its id.
 * Users and the rest of the kernel find a VM by its id (vm_find, vms,
 * vmm kill ID, the gdb stub's target, the host file server's checks),
 * never by "the env that is the guest": each vCPU is an env of its own.
 * A VM has 1 to VM_MAX_VCPUS vCPUs (inc/vmmctl.h): vCPU 0 is made with
 * it (vm_create), a PC-kind VM's others by VMMCTL_VCPU_ADD (vm_add_vcpu)
 * before vCPU 0 first runs. vCPU i is vcpu[i], its APIC id is i.
 *
 * Invariants:
 * - Guest-physical memory is [0, gphysz); the nested page tables (EPT on
 *   VT-x, NPT on AMD-V; "EPT" in the course's names) map nothing at or
 *   above gphysz and nothing in the legacy hole [GUEST_LOWMEM_END,
 *   GUEST_HIGHMEM_START).
 * - Every leaf holds one reference to the page it maps; ept_free() drops
 *   them all when the VM goes.
 * - refs counts the vCPUs that use the VM (each holds one from vm_create
 *   or vm_add_vcpu to vm_put); the nested tables, the guest RAM, the
 *   console rings and the struct go when it drops to 0, and not before.
 *   vCPU 0 lives in the VM's page; each other vCPU in a page of its own
 *   (counted in overhead_pages), freed by vm_put.
 * - vcpu[0..nvcpus) are set while the VM is live; nvcpus only grows
 *   (but for an add that failed: vm_unadd_vcpu).
 * - dying: the VM is being torn down (one vCPU went, vm_destroy, or a
 *   VMM program died); set once, never cleared; the VM is not live
 *   (vm_find, vm_next skip it) and every vCPU left is being destroyed.
 * - id is unique among live VMs: the env id of the VM's first vCPU, so
 *   the ids users see are the env ids they always saw.
 * - ept_gen changes each time a present leaf of the nested tables is
 *   replaced or freed (vmm/ept.c); making an absent leaf present leaves
 *   it as it is. The MMIO decoder's fetch cache (vmm/insn.c) is valid
 *   only under the ept_gen it was filled with.
 * - Everything here is written under the big kernel lock. The fast path
 *   reads paused, kill_requested and dbg.active without it (VMM_PEEK,
 *   vmm/fastpath.h), and ept_gen (the fetch cache's check), which only
 *   changes while none of the VM's vCPUs runs.
 */
#ifndef JOS_VMM_VM_H
#define JOS_VMM_VM_H

#include <inc/types.h>
#include <inc/env.h>
#include <inc/vmmctl.h>
#include <vmm/vmcons.h>
#include <vmm/guestpc.h>

typedef uint64_t epte_t;

struct Env;
struct Vcpu;

/* The gdb stub's business with one VM (vmm/gdbstub.c). */
struct GuestDebug {
	bool active;    /* the run loop calls gdbstub_before_entry() */
	bool stop_req;  /* stop before the next entry */
	bool stopped;   /* held by the debugger: its vCPUs are not runnable */
	bool bp;        /* intercept #BP (breakpoints are in guest memory) */
	bool step;      /* run one instruction, then stop */
	bool tf_added;  /* the stub set RFLAGS.TF for the step: clear it */
	int signal;     /* why it stopped, as a gdb signal number */
};

struct Vm {
	envid_t id;             /* its first vCPU's env id (see above) */
	struct Vm *next;        /* the list of live VMs (vm.c) */
	int refs;               /* vCPUs using it */
	struct PageInfo *page;  /* the page holding this struct (vm.c) */

	uint64_t gphysz;        /* bytes of guest-physical memory */
	epte_t *ept_root;       /* kernel address of the nested PML4 */
	uint64_t ept_gen;       /* bumped when a mapped leaf changes */
	/* Host pages this VM holds beyond its RAM: the page of this struct
	 * and its first vCPU, the nested tables, each vCPU's VMCS/VMCB and
	 * MSR bitmap, the console rings. Counted where each is allocated;
	 * freed only with the VM (vmm_print_overhead reports it). */
	uint64_t overhead_pages;

	char name[VMM_NAME_MAX];
	char disk[VMM_DISK_MAX];  /* the only host file it may open */
	bool paused;              /* not scheduled until resumed */
	bool kill_requested;      /* end it at its next exit (Ctrl-] q) */
	uint64_t cpu_ticks;       /* host timer ticks that found it running */

	struct GuestCon con;      /* console rings and state (vmcons.h) */
	struct GuestDebug dbg;    /* the gdb stub's hold on it */
	/* Its kind: PC kinds hand device exits to each vCPU's VMM process
	 * (devexit; the process and run page are per vCPU: Vcpu's pc). */
	struct VmPC pc;
	/* Their device report page, or NULL (vmm/devstats.c). */
	struct PageInfo *devstats_pg;

	bool dying;               /* being torn down (above) */
	int nvcpus;
	struct Vcpu *vcpu[VM_MAX_VCPUS];
};

int vm_create(struct Env *e, uint64_t gphysz);
int vm_add_vcpu(struct Vm *vm, struct Env *e);
void vm_unadd_vcpu(struct Env *e);
void vm_put(struct Env *e);
int vm_doom(struct Vm *vm, const struct Env *except,
	    struct Env *out[VM_MAX_VCPUS]);
struct Vm *vm_find(int64_t id);
struct Vm *vm_next(struct Vm *vm);
struct Env *vm_boot_env(struct Vm *vm);
bool vm_runs_here(struct Vm *vm);
void vm_destroy(struct Vm *vm);

#endif /* !JOS_VMM_VM_H */
