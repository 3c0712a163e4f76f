/*
 * What a PC-kind VM uses beyond a JOS guest's (vmm/devexit.c): the VM's
 * part (struct VmPC in struct Vm: its kind) and each vCPU's (struct
 * VcpuPC in struct Vcpu: its VMM process, the run page shared with it,
 * inc/vmrun.h, the exit handed over and its state in the hand-off).
 *
 * Invariants:
 * - kind is VMM_KIND_JOS (all else unused) until VMMCTL_PC on vCPU 0
 *   sets it, once, before vCPU 0 first runs. Once set, kind never
 *   changes: the fast path reads it without the lock.
 * - A vCPU's run_pg, once VMMCTL_PC named it, holds one reference to
 *   its run page, dropped when the vCPU goes (devexit_guest_free).
 *   vmm is the env id of the one process that runs the vCPU's loop:
 *   vCPU 0's creator (set by VMMCTL_PC), another vCPU's first caller
 *   of sys_vcpu_run (the creator or a child of it); 0 until then; then
 *   fixed for the vCPU's life.
 * - sipi_wait: the vCPU (never vCPU 0) waits for INIT-SIPI
 *   (vmm/vcpuctl.c); it is not runnable and never entered until
 *   VMMCTL_VCPU_START clears it; it has never run.
 * - waiting: an exit is handed to the VMM program and not answered yet;
 *   the vCPU is not runnable (resume and attach leave it so).
 * - vmm_blocked: the VMM program sleeps in sys_vcpu_run (not runnable);
 *   whoever ends that (the vCPU's next device exit, or the VM's death)
 *   clears it and makes the VMM program runnable.
 * - halted: a HLT sleeps in the kernel (waiting holds too); the host
 *   timer tick (devexit_tick) hands it over when hlt_until passed or
 *   console input waits.
 * - kicked: a VMM process of the VM asked (VMMCTL_VCPU_KICK) for a
 *   hand-off while the vCPU ran or was runnable (vmm_blocked, not
 *   waiting); set only then, cleared by every hand-over. Its next exit,
 *   or its next entry, hands over (VMRUN_EXIT_NONE) if nothing else did.
 * - parked: HLT with interrupts off on a VM of several vCPUs; not
 *   runnable for good (no NMI or INIT of a running vCPU is emulated),
 *   its VMM process sleeps on; resume, kicks and ticks leave it so.
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
};

/* A vCPU's part (struct Vcpu's pc). */
struct VcpuPC {
	int32_t vmm;              /* env id of its VMM process, or 0 */
	struct PageInfo *run_pg;  /* its run page, one reference held */
	struct vmrun *run;        /* its kernel address */
	bool sipi_wait;           /* waits for INIT-SIPI (never ran) */
	bool waiting;
	bool vmm_blocked;
	int exit;                 /* VMRUN_EXIT_* of the exit handed over */
	struct vmm_io io;         /* a port-I/O exit handed over */
	struct mmio_insn mmio;    /* an MMIO exit handed over */
	int intr_vec;
	int delivered;
	bool kicked;              /* hand over at the next exit/entry */
	bool parked;              /* cli; hlt: never runs again */
	bool halted;              /* a HLT sleeps (waiting too) until */
	uint64_t hlt_until;       /* this host TSC, or console input */
	uint32_t io_count;        /* its elements handed over this time */
	struct devexit_mmu mmu;   /* string transfers: paging at the exit */
	uint64_t nhandoffs;       /* exits handed to the VMM program */
	uint64_t nkicks;          /* VMMCTL_VCPU_KICKs that asked for one */
	uint64_t lapic_fast_reads; /* LAPIC loads answered from the shadow */
	struct insn_fetch fetch;  /* the MMIO decoder's (vmm/insn.c) */
};

#endif /* !JOS_VMM_GUESTPC_H */
