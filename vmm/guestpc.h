/*
 * What a PC-kind VM uses beyond a JOS guest's (vmm/devexit.c): the VM's
 * part (struct VmPC in struct Vm: its kind, the VMM program its device
 * exits go to, the run page shared with it, inc/vmrun.h) and each
 * vCPU's (struct VcpuPC in struct Vcpu: the exit handed over and its
 * state in the hand-off).
 *
 * Invariants:
 * - kind is VMM_KIND_JOS (all else unused) until VMMCTL_PC sets it,
 *   once, before the VM's first vCPU first runs; then run_pg holds one
 *   reference to the run page, dropped when the VM goes (vm_put). Once
 *   set, kind never changes: the fast path reads it without the lock.
 * - waiting: an exit is handed to the VMM program and not answered yet;
 *   the vCPU is not runnable (resume and attach leave it so).
 * - vmm_blocked: the VMM program sleeps in sys_vcpu_run (not runnable);
 *   whoever ends that (the vCPU's next device exit, or the VM's death)
 *   clears it and makes the VMM program runnable.
 * - halted: a HLT sleeps in the kernel (waiting holds too); the host
 *   timer tick (devexit_tick) hands it over when hlt_until passed or
 *   console input waits.
 * - intr_vec is the vector the vCPU's timer_pending stands for (the
 *   VMM asked for it at its last sys_vcpu_run; 8-255); delivered is the
 *   vector injected since the last hand-off, or -1 (events.h's interrupt
 *   source sets both).
 */
#ifndef JOS_VMM_GUESTPC_H
#define JOS_VMM_GUESTPC_H

#include <inc/types.h>
#include <vmm/insn.h>
#include <vmm/exitinfo.h>

struct PageInfo;
struct vmrun;

/* Paging state at the exit, for a string transfer's guest addresses
 * (the fields vmm/gva.c reads from struct guest_dbgstate). */
struct devexit_mmu {
	uint64_t cr0, cr3, cr4, efer;
};

/* The VM's part (struct Vm's pc). */
struct VmPC {
	int kind;                 /* VMM_KIND_* (inc/vmmctl.h) */
	int32_t vmm;              /* env id of the VMM program */
	struct PageInfo *run_pg;  /* the run page, one reference held */
	struct vmrun *run;        /* its kernel address */
};

/* A vCPU's part (struct Vcpu's pc). */
struct VcpuPC {
	bool waiting;
	bool vmm_blocked;
	int exit;                 /* VMRUN_EXIT_* of the exit handed over */
	struct vmm_io io;         /* a port-I/O exit handed over */
	struct mmio_insn mmio;    /* an MMIO exit handed over */
	int intr_vec;
	int delivered;
	bool halted;              /* a HLT sleeps (waiting too) until */
	uint64_t hlt_until;       /* this host TSC, or console input */
	uint32_t io_count;        /* its elements handed over this time */
	struct devexit_mmu mmu;   /* string transfers: paging at the exit */
	uint64_t nhandoffs;       /* exits handed to the VMM program */
	uint64_t lapic_fast_reads; /* LAPIC loads answered from the shadow */
	struct insn_fetch fetch;  /* the MMIO decoder's (vmm/insn.c) */
};

#endif /* !JOS_VMM_GUESTPC_H */
