/*
 * A virtual CPU: what one processor of a virtual machine (struct Vm,
 * vmm/vm.h) is to the host. An env of type ENV_TYPE_GUEST runs each vCPU
 * (env_vcpu; the scheduler's unit, as a thread is one of a process) and
 * vc->vm is the machine it belongs to. The common part is vendor-neutral;
 * the vendor part is a union of the VT-x state (vmm/vtx/vmcs.h) and the
 * AMD-V state (vmm/amdv/vmcb.h), opaque to the core: only one vendor
 * runs on a machine (vmm_ops), so only that member is ever live.
 *
 * Invariants:
 * - vc->vm is set for the vCPU's whole life and outlives it (the VM
 *   holds a reference per vCPU: vm.h). vc->index is its place in
 *   vm->vcpu[] and its APIC id; 0 is the vCPU made with the VM.
 * - Only the CPU running the vCPU writes its fields while it runs (the
 *   fast path relies on it, vmm/vmm.c); otherwise the big kernel lock
 *   protects them.
 * - The guest's general registers, RIP, RSP and RFLAGS live in the env's
 *   trapframe (env_tf) whenever the host runs; the vendor code copies
 *   what its hardware keeps in the control structure (VMCS: RIP, RSP,
 *   RFLAGS; VMCB: also RAX) to and from it around each entry.
 */
#ifndef JOS_VMM_VCPU_H
#define JOS_VMM_VCPU_H

#include <inc/types.h>
#include <inc/memlayout.h>
#include <vmm/vtx/vmcs.h>
#include <vmm/amdv/vmcb.h>
#include <vmm/xstate.h>
#include <vmm/guestpc.h>

struct Vm;
struct Env;

/* Kinds of event delivered to the guest (vmm/events.h), vendor-neutral;
 * each backend maps them to its encoding. */
enum vmm_event_type {
	VMM_EVENT_NONE = 0,
	VMM_EVENT_EXTINT,        /* external (or virtual) interrupt */
	VMM_EVENT_NMI,
	VMM_EVENT_EXCEPTION,     /* a hardware exception */
	VMM_EVENT_SOFT_INT,      /* INT n */
	VMM_EVENT_PRIV_SOFT_EXC, /* INT1 (ICEBP) */
	VMM_EVENT_SOFT_EXC,      /* INT3, INTO */
};

/* One event for the guest. */
struct vmm_event {
	uint8_t type;        /* enum vmm_event_type */
	uint8_t vector;
	bool has_error;      /* error is pushed (exceptions only) */
	uint32_t error;
	uint32_t insn_len;   /* software events: the instruction's length */
};

/* What the last VM exit said, in vendor-neutral terms. */
struct GuestExit {
	uint32_t reason;      /* basic exit reason (VT-x) / exit code (AMD-V) */
	uint64_t qual;        /* qualification (VT-x), EXITINFO1 (AMD-V) */
	uint64_t info2;       /* EXITINFO2 (AMD-V); VT-x: the fast path's EPT
				 * violation address (vmx_fast_ept) */
	uint32_t inst_len;    /* length of the exiting instruction */
	/* An event whose delivery the exit interrupted (IDT-vectoring
	 * information on VT-x, EXITINTINFO on AMD-V, decoded), to deliver
	 * again at the next entry (vmm/events.h). */
	struct vmm_event redeliver;
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

struct Vcpu {
	struct Vm *vm;          /* the machine this vCPU belongs to */
	struct Env *env;        /* the env that runs it */
	int index;              /* its number in vm->vcpu[] */

	/* The vendor's part: vmx on VT-x, svm on AMD-V. */
	union {
		struct vmx_state vmx;
		struct svm_state svm;
	};

	struct GuestExit exit;
	/* A virtual timer interrupt waits for the guest (inc/vmx.h). */
	bool timer_pending;
	/* An exception the next entry delivers (vmexit_inject_exception),
	 * or type VMM_EVENT_NONE. */
	struct vmm_event inject;
	/* The last exit left the guest's RSP in the control structure only
	 * (fast-path exits: their handlers never read it); env_tf.tf_rsp
	 * is stale until vmm_rsp_fetch (vmm/fastpath.h). */
	bool rsp_stale;
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

	struct GuestExitStat exitstat[GUEST_EXIT_KINDS];
	uint8_t exitstat_hint[GUEST_EXIT_HINTS]; /* each < GUEST_EXIT_KINDS */
	/* The slot the last lookup found: the fast path tries it first. */
	struct GuestExitStat *exitstat_last;
	/* PC-kind VMs: this vCPU's VMM process, run page, wait for SIPI
	 * and exit in the hand-off (devexit, vcpuctl). */
	struct VcpuPC pc;
};

#endif /* !JOS_VMM_VCPU_H */
