/*
 * The host's record of one virtual machine: an env of type ENV_TYPE_GUEST
 * points to one (env_guest). The common part is vendor-neutral; the
 * vendor part is a union of the VT-x state (vmm/vmx.h, used by vmx.c) and
 * the AMD-V state (vmm/svm.h, used by svm.c): only one vendor runs on a
 * machine (vmm_ops), so only that member is ever live.
 *
 * Invariants:
 * - Guest-physical memory is [0, gphysz); the nested page tables (EPT on
 *   VT-x, NPT on AMD-V; "EPT" in the course's names) map nothing at or
 *   above gphysz and nothing in the legacy hole [GUEST_LOWMEM_END,
 *   GUEST_HIGHMEM_START) but a PC guest's VGA text memory (inc/vmx.h).
 * - Every leaf holds one reference to the page it maps; ept_free() drops
 *   them all when the guest dies.
 * - The guest's general registers, RIP, RSP and RFLAGS live in the env's
 *   trapframe (env_tf) whenever the host runs; the vendor code copies
 *   what its hardware keeps in the control structure (VMCS: RIP, RSP,
 *   RFLAGS; VMCB: also RAX) to and from it around each entry.
 */
#ifndef JOS_VMM_GUEST_H
#define JOS_VMM_GUEST_H

#include <inc/types.h>
#include <inc/memlayout.h>
#include <vmm/vmx.h>
#include <vmm/svm.h>
#include <vmm/xstate.h>
#include <vmm/vmcons.h>
#include <vmm/guestpc.h>

typedef uint64_t epte_t;

/* What the last VM exit said, in vendor-neutral terms. */
struct GuestExit {
	uint32_t reason;      /* vendor exit reason / exit code */
	uint64_t qual;        /* qualification (VT-x), EXITINFO1 (AMD-V) */
	uint64_t info2;       /* EXITINFO2 (AMD-V); 0 on VT-x */
	uint32_t inst_len;    /* length of the exiting instruction */
	uint32_t intr_info;   /* VM-exit interruption information (VT-x) */
	/* An event whose delivery the exit interrupted (IDT-vectoring
	 * information on VT-x, EXITINTINFO on AMD-V; valid bit 31), to
	 * deliver again at the next entry. */
	uint32_t redeliver;
	uint32_t redeliver_err;
	uint32_t redeliver_len;
};

/* The gdb stub's business with one guest (vmm/gdbstub.c). */
struct GuestDebug {
	bool active;    /* the run loop calls gdbstub_before_entry() */
	bool stop_req;  /* stop before the next entry */
	bool stopped;   /* held by the debugger: the env is not runnable */
	bool bp;        /* intercept #BP (breakpoints are in guest memory) */
	bool step;      /* run one instruction, then stop */
	bool tf_added;  /* the stub set RFLAGS.TF for the step: clear it */
	int signal;     /* why it stopped, as a gdb signal number */
};

/* Exits of one reason: how many, and host TSC spent handling them. */
struct GuestExitStat {
	uint32_t reason;
	/* count: exits of this reason; tsc: host TSC ticks spent on the
	 * `timed` of them that took the slow path (fast-path exits are
	 * counted, not timed: vmm/fastpath.h). */
	uint64_t count, timed, tsc;
};
/* Distinct exit reasons counted per guest; later ones share the last. */
#define GUEST_EXIT_KINDS 24
/* Hints from exit reason (modulo this) to its slot (vmm_exit_account). */
#define GUEST_EXIT_HINTS 32

struct Guest {
	uint64_t gphysz;        /* bytes of guest-physical memory */
	epte_t *ept_root;       /* kernel address of the EPT PML4 */
	struct PageInfo *self;  /* the page holding this struct */
	/* Host pages this guest holds beyond its RAM: this struct's page,
	 * the nested tables, the VMCS/VMCB and MSR bitmap, the console
	 * rings. Counted where each is allocated; freed only with the
	 * guest (vmm_print_overhead reports it). */
	uint64_t overhead_pages;

	/* The vendor's part: vmx on VT-x, svm on AMD-V. */
	union {
		struct vmx_state vmx;
		struct svm_state svm;
	};

	struct GuestExit exit;
	/* A virtual timer interrupt waits for the guest (inc/vmx.h). */
	bool timer_pending;
	/* An exception the next entry delivers (vmexit_inject_exception):
	 * its vector or -1, and its error code or -1 for none. */
	int inject_vector;
	int inject_error;
	/* The guest's task priority (CR8) where the hardware does not keep
	 * a virtual one (VT-x without a TPR shadow). */
	uint64_t vtpr;
	/* Exits handled in a row without the scheduler getting a turn. */
	uint64_t streak;
	/* The TSC when the host last took its own interrupts on a CPU
	 * running this guest (vmexit_host_irqs). */
	uint64_t irq_tsc;
	/* Registers switched by software (vmm/xstate.c) and the CPU that
	 * holds them now, or -1. */
	struct xstate xstate;
	int xstate_cpu;
	/* Statistics, printed when the guest ends. */
	uint64_t nexits;
	uint64_t nmigrations;   /* times the guest moved to another CPU */
	uint64_t ntimer;        /* timer interrupts injected */
	int last_cpu;

	/* Name, disk, console and scheduling state (vmm/vmcons.h). */
	struct GuestCon con;
	struct GuestDebug dbg;
	struct GuestExitStat exitstat[GUEST_EXIT_KINDS];
	uint8_t exitstat_hint[GUEST_EXIT_HINTS]; /* each < GUEST_EXIT_KINDS */
	/* The slot the last lookup found: the fast path tries it first. */
	struct GuestExitStat *exitstat_last;
	/* PC-kind guests: device exits go to the VMM program (devexit). */
	struct GuestPC pc;
};

#endif /* !JOS_VMM_GUEST_H */
