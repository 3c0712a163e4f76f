/*
 * sys_vmm_ctl: how host user programs (user/vmm.c, user/vms.c) name,
 * list and steer guests. The kernel side is vmm/vmctl.c.
 *
 * Invariants:
 * - Every operation names a guest by its env id; VMMCTL_FIND turns a
 *   name into one. Any host env may steer any guest: the host's users
 *   own all guests (there is one console and one person at it).
 * - Names are unique among live guests, 1 to VMM_NAME_MAX - 1 bytes of
 *   [A-Za-z0-9_-]. Disk paths are unique among live guests too: that is
 *   how two guests are kept from opening one disk image read-write.
 * - At most one guest is in the foreground (owns the console) at a time.
 * - A PC-kind VM has 1 to VM_MAX_VCPUS vCPUs, each an env: vCPU i (APIC
 *   id i) is run by its own VMM process (the creator for vCPU 0; the
 *   creator or a child of it for the others), each with its own run
 *   page. The VM is named by vCPU 0's id; ops that act on one vCPU
 *   (VMMCTL_PC, VMMCTL_VCPU_START, VMMCTL_VCPU_INIT) take its env id.
 */
#ifndef JOS_INC_VMMCTL_H
#define JOS_INC_VMMCTL_H

#include <inc/types.h>

#define VMM_NAME_MAX 16
#define VMM_DISK_MAX 128
#define VMM_VENDOR_MAX 8

enum {
	VMMCTL_SETUP = 1, /* (guest, struct vmm_setup *) before it runs */
	VMMCTL_INFO,      /* (guest, struct vmm_info *) */
	VMMCTL_FIND,      /* (0, name, len) -> env id */
	VMMCTL_ATTACH,    /* (guest) bring to the foreground (and resume) */
	VMMCTL_DETACH,    /* (guest) send to the background */
	VMMCTL_PAUSE,     /* (guest) stop scheduling it */
	VMMCTL_RESUME,    /* (guest) schedule it again */
	VMMCTL_KILL,      /* (guest) end it */
	VMMCTL_STATE,     /* (guest) -> VMM_STATE_* */
	VMMCTL_CHECK,     /* (0, struct vmm_setup *): would SETUP take it?
			   * 0, or SETUP's error; creates nothing */
	VMMCTL_PC,        /* (guest, struct vmm_pc *) before it runs: a
			   * PC-kind guest, its device exits handed to the
			   * caller through the run page (inc/vmrun.h) */
	VMMCTL_DEVSTATS,  /* (guest, struct devstats *, its size): the
			   * guest's VMM program names its device report
			   * page (inc/devstats.h), once */
	VMMCTL_VCPU_ADD,  /* (guest0) -> env id of a new vCPU of vCPU 0's
			   * PC-kind VM, in wait-for-SIPI; by its creator,
			   * after VMMCTL_PC, before vCPU 0 first runs */
	VMMCTL_VCPU_START, /* (vcpu, uint32_t *vector, 4): INIT + SIPI: a
			   * vCPU waiting for SIPI starts in real mode at
			   * vector << 8 : 0; -E_BUSY if it is not waiting */
	VMMCTL_VCPU_INIT, /* (vcpu): back to wait-for-SIPI; 0 if it waits
			   * already, -E_BUSY once it has run (not yet) */
	VMMCTL_VCPU_KICK, /* (vcpu): hand it to its VMM process soon (an
			   * interrupt for it is pending); 0 */
};

/* vCPUs a VM may have (VMMCTL_VCPU_ADD adds up to this many in all). */
#define VM_MAX_VCPUS 8
/* The SIPI vector's bits (VMMCTL_VCPU_START's argument). */
#define VMM_SIPI_VECTOR_MAX 255

/*
 * What a guest is (vmm_info.kind): the paravirtual JOS guest (hypercalls;
 * its port I/O stops it), a PC booted from a disk image, or a multiboot
 * kernel (vmm -k). The last two are PC kinds: their device exits go to
 * the VMM program that made them.
 */
enum {
	VMM_KIND_JOS = 0,
	VMM_KIND_PC,
	VMM_KIND_MULTIBOOT,
	VMM_NKINDS,
};

static inline const char *vmm_kind_name(int kind)
{
	switch (kind) {
	case VMM_KIND_JOS:
		return "jos";
	case VMM_KIND_PC:
		return "pc";
	case VMM_KIND_MULTIBOOT:
		return "multiboot";
	default:
		return "?";
	}
}

/* VMMCTL_PC's argument: the kind (not VMM_KIND_JOS) and the run page, a
 * page-aligned, writable page of the caller's. */
struct vmm_pc {
	int kind;
	void *run;
};

/*
 * Where a guest stands (VMMCTL_STATE, vmm_info.state), the first that
 * holds: paused (vmm pause), foreground (owns the console), stopped
 * (by the gdb stub: a breakpoint, a step, Ctrl-C in gdb), background.
 * vmm_state_name is the one word for each, in `vms` and in the kernel
 * monitor's `vms` and `vmstate` alike.
 */
enum {
	VMM_STATE_BACKGROUND = 1,
	VMM_STATE_FOREGROUND,
	VMM_STATE_PAUSED,
	VMM_STATE_STOPPED,
};

static inline const char *vmm_state_name(int state)
{
	switch (state) {
	case VMM_STATE_BACKGROUND:
		return "background";
	case VMM_STATE_FOREGROUND:
		return "foreground";
	case VMM_STATE_PAUSED:
		return "paused";
	case VMM_STATE_STOPPED:
		return "stopped";
	default:
		return "?";
	}
}

/*
 * Where one vCPU stands (vmm_info.vcpu_state; vmm_vcpu_state in
 * vmm/vmctl.c decides it, the first that holds): waiting for INIT-SIPI
 * (an AP not started yet), parked (cli; hlt on a VM of several vCPUs:
 * waits for an INIT or NMI), running on a host CPU now, halted (a HLT
 * sleeps in the kernel), waiting for its VMM process (an exit handed
 * over, not answered yet), runnable, blocked (none of those: its VM is
 * paused or stopped by the debugger, or it waits for IPC). One word
 * each, for `vms` and the kernel monitor alike.
 */
enum {
	VMM_VCPU_SIPI_WAIT = 1,
	VMM_VCPU_PARKED,
	VMM_VCPU_RUNNING,
	VMM_VCPU_HALTED,
	VMM_VCPU_VMM_WAIT,
	VMM_VCPU_RUNNABLE,
	VMM_VCPU_BLOCKED,
	VMM_VCPU_DYING,
};

static inline const char *vmm_vcpu_state_name(int state)
{
	switch (state) {
	case VMM_VCPU_SIPI_WAIT:
		return "sipi-wait";
	case VMM_VCPU_PARKED:
		return "parked";
	case VMM_VCPU_RUNNING:
		return "running";
	case VMM_VCPU_HALTED:
		return "halted";
	case VMM_VCPU_VMM_WAIT:
		return "vmm-wait";
	case VMM_VCPU_RUNNABLE:
		return "runnable";
	case VMM_VCPU_BLOCKED:
		return "blocked";
	case VMM_VCPU_DYING:
		return "dying";
	default:
		return "?";
	}
}

struct vmm_setup {
	char name[VMM_NAME_MAX];  /* empty: the kernel makes one up */
	char disk[VMM_DISK_MAX];  /* absolute path in the host FS */
};

struct vmm_info {
	char name[VMM_NAME_MAX];
	char disk[VMM_DISK_MAX];
	char vendor[VMM_VENDOR_MAX];
	uint64_t mem_bytes;
	uint64_t nexits;
	uint64_t cpu_ms;  /* CPU time in ms: host timer ticks (10 ms each)
			   * that found the guest running */
	int state;
	int kind;         /* VMM_KIND_* */
	int nvcpus;       /* vCPUs the VM has (1 to VM_MAX_VCPUS) */
	/* Appended after nvcpus (older fields keep their places): */
	int32_t id;       /* the VM's id (vCPU 0's env id): the env id asked
			   * about may be any of its vCPUs' */
	/* vCPU i's env id, VMM_VCPU_* state and exits; [nvcpus, max) 0. */
	int32_t vcpu_env[VM_MAX_VCPUS];
	int vcpu_state[VM_MAX_VCPUS];
	uint64_t vcpu_exits[VM_MAX_VCPUS];
};

#endif /* !JOS_INC_VMMCTL_H */
