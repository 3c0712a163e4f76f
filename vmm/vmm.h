/*
 * The VMM as the rest of the kernel sees it: vendor-neutral entry points
 * (vmm/vmm.c), which call the vendor's backend (vmm/vtx/ for Intel VT-x,
 * vmm/amdv/ for AMD-V) through struct vmm_ops.
 */
#ifndef JOS_VMM_VMM_H
#define JOS_VMM_VMM_H

#include <inc/types.h>
#include <vmm/vcpu.h>
#include <vmm/vm.h>

struct Env;

/* What an exit handler tells the run loop to do next. */
enum vmexit_action {
	VMEXIT_RESUME,  /* enter the guest again at once */
	VMEXIT_YIELD,   /* let the scheduler run something (the guest stays
			   runnable) */
	VMEXIT_BLOCK,   /* the handler made the guest not runnable */
	VMEXIT_STOP,    /* the guest is finished (the handler reported why) */
	VMEXIT_HANDOFF, /* a PC guest's device exit: straight to its VMM
			   program (vmm/devexit.c; devexit hook) */
};

/*
 * What a debugger sees of a guest beyond env_tf (vmm/gdbstub.c, the
 * monitor's vmstate): segment selectors, control registers, EFER; and
 * what the MMIO decoder (vmm/insn.c) needs to fetch and size the code:
 * CS's base and its L and D/B attribute bits.
 */
struct guest_dbgstate {
	uint16_t cs, ss, ds, es, fs, gs;
	uint64_t fs_base, gs_base;
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint64_t cs_base;
	bool cs_l, cs_db;
};

/* What each backend (vmx_ops in vmm/vtx/, svm_ops in vmm/amdv/) supplies:
 * encodings and hardware steps only; what to do is the core's. */
struct vmm_ops {
	const char *name;
	/* For reports: what the exit information words are called, and
	 * what a fault on guest-physical memory is called. */
	const char *info1_name, *info2_name;
	const char *npf_name;
	/* Does VM entry/exit switch KERNEL_GS_BASE (AMD-V: VMLOAD/VMSAVE)?
	 * If not, vmm/xstate.c does. */
	bool switches_kernel_gs;
	/* 0, -E_NO_VMX or -E_NO_EPT (and the SVM equivalents). */
	int (*check_support)(void);
	/* Turn VMX/SVM on on this CPU if it is not yet (once per CPU; the
	 * run loop calls it with the kernel lock held, before each entry). */
	int (*cpu_enable)(void);
	/* Set up vc's control structure to start at rip in real mode. */
	int (*guest_init)(struct Env *e, uint64_t rip);
	/* INIT then start-up IPI (SDM Vol. 3A 9.4.4, 10.6.1; APM Vol. 2
	 * 16.5): the reset state of guest_init, but CS.selector = cs_sel
	 * and CS.base = cs_sel << 4. For a vCPU that runs on no CPU and
	 * has no event pending (one waiting for SIPI); RIP and the rest of
	 * env_tf are the core's. < 0 if its state is loaded somewhere. */
	int (*real_start)(struct Env *e, uint16_t cs_sel);
	/* Dispatch the exit in vc->exit to a handler. */
	enum vmexit_action (*handle_exit)(struct Env *e);
	/* Enter the guest and go on entering it while its exits are of
	 * the fast path (vmm_fast_run in vmm/fastpath.h: handled without the
	 * big kernel lock). Returns after the first exit the caller must
	 * handle (with the lock, through handle_exit), with vc->exit filled
	 * in and the registers in e->env_tf; < 0 when an entry failed
	 * (reported already). *tsc_exit is the TSC when guest_run had
	 * decided so (the start of that exit's timing). */
	int (*guest_run)(struct Env *e, uint64_t *tsc_exit);
	/* This CPU stops running e: make its state loadable elsewhere. */
	void (*guest_leave)(struct Env *e);
	/* Free the vendor's structures (copes with a half-built guest). */
	void (*guest_free)(struct Env *e);
	/* e's nested tables changed while it did not run: no CPU may use a
	 * translation cached from before at e's next entry (VT-x: INVEPT;
	 * AMD-V: an ASID flush). */
	void (*nested_changed)(struct Env *e);
	/* The guest's RIP moved past an instruction the VMM emulated: end
	 * any interrupt shadow, and deliver a single-step trap if RFLAGS.TF
	 * asks for one. */
	void (*skipped)(struct Env *e);
	/* A name for an exit reason (vc->exit.reason), for reports. */
	const char *(*exit_name)(uint32_t reason);
	/* Debugging (vmm/gdbstub.c): read e's state above; < 0 when it
	 * cannot be read now (its control structure is active on another
	 * CPU). */
	int (*dbg_read)(struct Env *e, struct guest_dbgstate *s);
	/* On the CPU about to enter e: intercept #BP when bp is set, #DB
	 * when step is (single-stepping by RFLAGS.TF, which the caller
	 * sets). < 0 when the control structure cannot be loaded here. */
	int (*dbg_intercepts)(struct Env *e, bool bp, bool step);
};

/*
 * Exits handled back to back without the scheduler running: every host
 * timer tick makes the guest yield, so a guest only gets near this when
 * host interrupts cannot reach the host (an entry/exit loop the hardware
 * never leaves for an interrupt). Stop it rather than wedge the CPU.
 */
#define VMM_MAX_STREAK 2000000UL

/*
 * While a guest runs, the host takes its own pending interrupts at least
 * once a slice of this many microseconds of host time (vmm_irqs_overdue
 * in fastpath.h). Hardware needs no such bound, host interrupts exit the
 * guest at once; Bochs 2.7's VT-x keeps them out of a guest entered with
 * IF clear (an emulator bug: vmm/vtx/preempt.c). Short enough for the
 * host to drain its UART's 16-byte receive FIFO (1.4 ms at 115200 baud).
 */
#define VMM_IRQ_SLICE_US 250
/* The slice in TSC cycles, from the TSC rate measured at boot (set before
 * the first guest is made). */
extern uint64_t vmm_irq_slice_tsc;

extern const struct vmm_ops vmx_ops, svm_ops;
/* The vendor's operations for this CPU (vmm_init chooses). */
extern const struct vmm_ops *vmm_ops;

void vmm_init(void);
int vmm_mkguest(struct Env *parent, uint64_t gphysz, uint64_t rip);
void vmm_reset_regs(struct Env *e, uint64_t rip);
void vmm_env_run(struct Env *e) __attribute__((noreturn));
void vmm_guest_leave(struct Env *e);
void vmm_guest_free(struct Env *e);
void vmm_guest_stop(struct Env *e, const char *fmt, ...);
int vmm_ipc_map(struct Env *e, struct PageInfo *pp, uint64_t gpa,
		unsigned perm);
void vmm_ipc_received(struct Env *e);
void vmm_print_overhead(const struct Vm *vm);
enum vmexit_action vmm_exit_account(struct Env *e, enum vmexit_action a,
				    uint64_t tsc_exit);
void vmm_exit_count(struct Env *e);

#endif /* !JOS_VMM_VMM_H */
