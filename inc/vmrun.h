/*
 * The run page: how the kernel hands a PC-kind guest's device exits to
 * the VMM program that made the guest, and how that program answers
 * (vmm/devexit.c in the kernel, vmmdev/run.c in the vmm program).
 *
 * One page of the VMM program's memory, registered with VMMCTL_PC before
 * the guest first runs; the kernel holds a reference to it for the
 * guest's life. The VMM program blocks in sys_vcpu_run(guest): the kernel
 * completes the exit it handed over last (from `value` and `data`), then
 * switches straight to the guest; at the guest's next device exit it
 * fills the exit fields and switches straight back, and sys_vcpu_run
 * returns 0. It returns < 0 when the guest is gone (it stopped, or was
 * killed) or the call was bad.
 *
 * A VM with several vCPUs (inc/vmmctl.h, VMMCTL_VCPU_ADD) has one run
 * page per vCPU, each registered with VMMCTL_PC on that vCPU, and one
 * VMM process per vCPU blocking in sys_vcpu_run(that vCPU): everything
 * below is per vCPU (its exits, its interrupt request, its deadline, its
 * LAPIC shadow). sys_vcpu_run on a vCPU waiting for SIPI sleeps until
 * VMMCTL_VCPU_START and that vCPU's first hand-off.
 *
 * Invariants:
 * - Fields marked "kernel" are written by the kernel before each return
 *   of sys_vcpu_run and only read by the VMM; fields marked "vmm" are
 *   written by the VMM and read (and bounded) by the kernel at the next
 *   sys_vcpu_run. The kernel keeps its own copy of every size, count
 *   and address of the exit it handed over: what the VMM writes into the
 *   kernel fields changes nothing.
 * - data[] holds count * size bytes of a string transfer (OUTS: the
 *   guest's bytes; INS: the VMM's answer), never more than
 *   VMRUN_DATA_MAX.
 * - lapic is the read shadow of this vCPU's local APIC (the VMM's model
 *   writes it, the kernel only reads it): when bit i of lapic.mask is
 *   set, an aligned 4-byte load of guest-physical VMRUN_LAPIC_BASE +
 *   i * VMRUN_LAPIC_STRIDE reads lapic.reg[i], and the kernel completes
 *   it without a hand-off. The model publishes only registers whose
 *   value changes when the guest writes the LAPIC or the model itself
 *   acts (both happen while the VMM holds the exit), never one that
 *   changes with time or at an interrupt's delivery (current count,
 *   IRR, ISR, PPR), and brings the shadow up to date before it answers
 *   the exit that changed it. The kernel reads each field once per
 *   exit and acts on no other LAPIC access: a wrong shadow can only
 *   show the VMM's own guest wrong values.
 */
#ifndef JOS_INC_VMRUN_H
#define JOS_INC_VMRUN_H

#include <inc/types.h>

/* Bumped when a field changes meaning or place. */
#define VMRUN_ABI_VERSION 2

/* What the guest did (vmrun.exit). */
enum {
	VMRUN_EXIT_NONE = 0,  /* nothing to emulate: the guest ran past
			       * the VMM's device deadline (hlt_until_tsc)
			       * without a device exit, or another VMM
			       * process of the VM kicked it
			       * (VMMCTL_VCPU_KICK) */
	VMRUN_EXIT_PIO,   /* IN, OUT, INS, OUTS: pio.* */
	VMRUN_EXIT_MMIO,  /* a load or store outside RAM: mmio.* */
	VMRUN_EXIT_HLT,   /* HLT with interrupts on and none pending: the
			   * VMM resumes it when one is due */
};

/* A string transfer moves at most this many bytes per exit (two
 * 512-byte sectors). */
#define VMRUN_DATA_MAX 1024
/* Console bytes per hand-off, each way. */
#define VMRUN_CONS_OUT_MAX 2048
#define VMRUN_CONS_IN_MAX 256
/* vmrun.intr_vector: nothing to inject. */
#define VMRUN_NO_INTR (-1)

struct vmrun_pio {
	uint16_t port;
	uint8_t size;     /* bytes per element: 1, 2 or 4 */
	uint8_t in;       /* 1: IN/INS (the VMM answers), 0: OUT/OUTS */
	uint32_t count;   /* elements: 1, or a string transfer's share */
	uint32_t string;  /* 1: INS/OUTS, the elements are in data[] */
	uint32_t value;   /* OUT: the value written (count 1, not string) */
};

struct vmrun_mmio {
	uint64_t gpa;     /* guest-physical address accessed */
	uint32_t size;    /* 1, 2, 4 or 8 */
	uint32_t write;   /* 1: a store of wval; 0: a load (answer: value) */
	uint64_t wval;
};

/* The LAPIC read shadow (see the invariants): its registers are 32 bits
 * every 16 bytes (SDM vol. 3A table 11-1); 0x000-0x3F0, one mask bit
 * each. */
#define VMRUN_LAPIC_BASE 0xFEE00000ULL
#define VMRUN_LAPIC_STRIDE 16
#define VMRUN_LAPIC_REGS 64
#define VMRUN_LAPIC_REG_BYTES 4

struct vmrun_lapic {
	uint64_t mask;            /* bit i: the kernel answers reg[i] */
	uint32_t reg[VMRUN_LAPIC_REGS];
};

struct vmrun {
	uint32_t version;         /* kernel: VMRUN_ABI_VERSION */
	uint32_t exit;            /* kernel: VMRUN_EXIT_* */
	struct vmrun_pio pio;     /* kernel: when exit is PIO */
	struct vmrun_mmio mmio;   /* kernel: when exit is MMIO */
	uint32_t cons_in_len;     /* kernel: console input bytes in cons_in */
	int32_t intr_delivered;   /* kernel: vector injected since the last
				   * hand-off (vintr_ack it), or -1 */
	uint64_t nexits;          /* kernel: the guest's exits so far */
	uint64_t tsc_per_ms;      /* kernel: the host TSC's rate (set once),
				   * for the VMM's clock without a syscall */
	uint64_t lapic_fast_reads; /* kernel: LAPIC loads it answered from
				    * the shadow, for the VMM's report */

	uint64_t value;           /* vmm: IN / MMIO load result (low bytes) */
	uint32_t cons_out_len;    /* vmm: bytes of cons_out to print on the
				   * guest's console (kernel resets to 0) */
	uint32_t cons_in_room;    /* vmm: most input bytes it takes now */
	int32_t intr_vector;      /* vmm: vector to inject (8-255) when the
				   * guest can take it, or -1; one at a time:
				   * it replaces the last one if that was not
				   * delivered yet (-1 withdraws it) */
	uint64_t hlt_until_tsc;   /* vmm: a HLT with nothing pending sleeps
				   * in the kernel until the host TSC reaches
				   * this (a device deadline; ~0: none) or
				   * console input comes, then is handed
				   * over; 0: hand it over at once. A guest
				   * that runs past a deadline (not 0) is
				   * handed over at its next exit of any
				   * kind (VMRUN_EXIT_NONE); from then on
				   * (or with console input) the kernel
				   * answers no LAPIC load from the shadow:
				   * it hands it over, and the VMM polls
				   * its devices */
	uint32_t end;             /* vmm: not 0: print cons_out, then end
				   * the guest (sys_vcpu_run returns 0 at
				   * once) */
	struct vmrun_lapic lapic; /* vmm: the LAPIC read shadow */

	uint8_t cons_in[VMRUN_CONS_IN_MAX];    /* kernel */
	uint8_t cons_out[VMRUN_CONS_OUT_MAX];  /* vmm */
	uint8_t data[VMRUN_DATA_MAX];          /* either (see above) */
};

#endif /* !JOS_INC_VMRUN_H */
