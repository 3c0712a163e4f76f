/*
 * The host's record of one virtual machine: an env of type ENV_TYPE_GUEST
 * points to one (env_guest). Vendor-neutral: vmm/vmx.c keeps its VMCS
 * here, a future vmm/svm.c its VMCB.
 *
 * Invariants:
 * - Guest-physical memory is [0, gphysz); the EPT maps nothing at or above
 *   gphysz and nothing in the legacy hole [GUEST_LOWMEM_END,
 *   GUEST_HIGHMEM_START).
 * - Every EPT leaf holds one reference to the page it maps; ept_free()
 *   drops them all when the guest dies.
 * - The guest's general registers, RIP, RSP and RFLAGS live in the env's
 *   trapframe (env_tf) whenever the host runs; the vendor code copies
 *   RIP/RSP/RFLAGS to and from its control structure around each entry.
 * - The VMCS is active (VMPTRLD) on at most one CPU: the CPU whose curenv
 *   is this guest; vmcs_cpu names it, or is -1 when the VMCS is clear.
 */
#ifndef JOS_VMM_GUEST_H
#define JOS_VMM_GUEST_H

#include <inc/types.h>
#include <inc/memlayout.h>

typedef uint64_t epte_t;

/* What the last VM exit said, in vendor-neutral terms. */
struct GuestExit {
	uint32_t reason;      /* vendor exit reason (basic part) */
	uint64_t qual;        /* exit qualification */
	uint32_t inst_len;    /* length of the exiting instruction */
	uint32_t intr_info;   /* VM-exit interruption information */
	/* An event whose delivery the exit interrupted (IDT-vectoring
	 * information, valid bit 31), to deliver again at the next entry. */
	uint32_t redeliver;
	uint32_t redeliver_err;
	uint32_t redeliver_len;
};

struct Guest {
	uint64_t gphysz;        /* bytes of guest-physical memory */
	epte_t *ept_root;       /* kernel address of the EPT PML4 */
	struct PageInfo *self;  /* the page holding this struct */

	/* VT-x state (vmm/vmx.c). */
	struct PageInfo *vmcs;        /* the VMCS region */
	struct PageInfo *msr_bitmap;  /* MSR accesses that exit */
	int vmcs_cpu;                 /* CPU where the VMCS is active, or -1 */
	bool launched;                /* VMLAUNCH done since the last VMCLEAR */
	bool vmcs_initialized;        /* controls and first guest state written */
	bool intr_window;             /* interrupt-window exiting is on */
	uint64_t cr2;                 /* guest CR2 (not in the VMCS) */

	struct GuestExit exit;
	/* A virtual timer interrupt waits for the guest (inc/vmx.h). */
	bool timer_pending;
	/* Statistics, printed when the guest ends. */
	uint64_t nexits;
	uint64_t nmigrations;   /* times the VMCS moved to another CPU */
	uint64_t ntimer;        /* timer interrupts injected */
	int last_cpu;
};

#endif /* !JOS_VMM_GUEST_H */
