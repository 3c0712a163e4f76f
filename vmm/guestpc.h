/*
 * The part of struct Guest (vmm/guest.h) that a PC-kind guest uses: the
 * VMM program its device exits go to, the run page shared with it
 * (inc/vmrun.h), and the exit handed over (vmm/devexit.c).
 *
 * Invariants:
 * - kind is VMM_KIND_JOS (all else unused) until VMMCTL_PC sets it,
 *   once, before the guest first runs; then run_pg holds one reference
 *   to the run page, dropped when the guest is freed.
 * - waiting: an exit is handed to the VMM program and not answered yet;
 *   the guest is not runnable (resume and attach leave it so).
 * - vmm_blocked: the VMM program sleeps in sys_vcpu_run (not runnable);
 *   whoever ends that (the guest's next device exit, or the guest's
 *   death) clears it and makes the VMM program runnable.
 * - halted: a HLT sleeps in the kernel (waiting holds too); the host
 *   timer tick (devexit_tick) hands it over when hlt_until passed or
 *   console input waits.
 * - intr_vec is the vector the guest's timer_pending stands for (the
 *   VMM asked for it at its last sys_vcpu_run; 8-255); delivered is the vector injected since
 *   the last hand-off, or -1.
 */
#ifndef JOS_VMM_GUESTPC_H
#define JOS_VMM_GUESTPC_H

#include <inc/types.h>
#include <vmm/insn.h>

struct PageInfo;
struct vmrun;

/* One port-I/O exit, vendor-neutral (the vendor's exit handler fills
 * it from its exit information). */
struct devexit_io {
	uint16_t port;
	uint8_t size;        /* 1, 2 or 4 bytes per element */
	bool in;             /* IN/INS */
	bool string;         /* INS/OUTS */
	bool rep;            /* with a REP prefix: rCX counts */
	uint8_t addr_bytes;  /* string: address size, 2, 4 or 8 */
	uint64_t lin;        /* string: linear address of the first element */
};

/* Paging state at the exit, for a string transfer's guest addresses
 * (the fields vmm/gva.c reads from struct guest_dbgstate). */
struct devexit_mmu {
	uint64_t cr0, cr3, cr4, efer;
};

struct GuestPC {
	int kind;                 /* VMM_KIND_* (inc/vmmctl.h) */
	int32_t vmm;              /* env id of the VMM program */
	struct PageInfo *run_pg;  /* the run page, one reference held */
	struct vmrun *run;        /* its kernel address */
	bool waiting;
	bool vmm_blocked;
	int exit;                 /* VMRUN_EXIT_* of the exit handed over */
	struct devexit_io io;     /* a port-I/O exit handed over */
	struct mmio_insn mmio;    /* an MMIO exit handed over */
	int intr_vec;
	int delivered;
	bool halted;              /* a HLT sleeps (waiting too) until */
	uint64_t hlt_until;       /* this host TSC, or console input */
	uint32_t io_count;        /* its elements handed over this time */
	struct devexit_mmu mmu;   /* string transfers: paging at the exit */
	uint64_t nhandoffs;       /* exits handed to the VMM program */
};

#endif /* !JOS_VMM_GUESTPC_H */
