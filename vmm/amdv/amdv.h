/*
 * AMD-V (AMD's SVM with nested paging, "NPT"), the backend's own
 * interface between its files; nothing outside vmm/amdv/ includes it
 * (the rest of the kernel sees AMD-V only as svm_ops, vmm/vmm.h).
 *
 *   setup.c    detection, SVM on per CPU, permission maps, ASIDs, VMCB
 *              set-up, a guest's AMD-V lifecycle, svm_ops
 *   run.c      VMRUN and #VMEXIT: registers, event encoding, ASID
 *              flushes on arrival, the fast path
 *   exits.c    the exit-code table and the AMD-V-specific handlers
 *   debug.c    the gdb stub's and the monitor's view of a VMCB, INTn and
 *              exception intercepts
 *   entry.S    asm_svm_enter / asm_svm_vmrun / asm_svm_leave
 *
 * Invariants: those at the top of setup.c (per-CPU state, ASIDs, maps)
 * and run.c (which copy of the guest's registers is live, GIF) hold
 * across the files.
 */
#ifndef JOS_VMM_AMDV_AMDV_H
#define JOS_VMM_AMDV_AMDV_H

#include <inc/types.h>
#include <vmm/vmm.h>
#include <vmm/vcpu.h>
#include <vmm/amdv/vmcb.h>

struct Env;

/* What svm_detect() found, once (setup.c). */
struct svm_caps {
	int support;        /* 0, -E_NO_VMX or -E_NO_EPT; 1 = not yet known */
	uint32_t nasid;     /* ASIDs the CPU has (ASID 0 is the host's) */
	bool nrips;         /* next_rip is saved on #VMEXIT (15.7.1) */
	bool flush_by_asid; /* TLB_CONTROL may flush one ASID */
};
extern struct svm_caps svm;

/* Per CPU (setup.c). */
struct svm_cpu {
	bool on;                    /* EFER.SVME set, VM_HSAVE_PA written */
	struct PageInfo *hsave;     /* host state VMRUN saves (15.30.4) */
	struct PageInfo *host_vmcb; /* host's hidden state (VMSAVE/VMLOAD) */
	physaddr_t host_vmcb_pa;    /* its address, for every VMRUN */
};
extern struct svm_cpu svm_cpu[];

static inline struct vmcb *vmcb_of(struct Vcpu *vc)
{
	return vc->svm.vmcb_kva;
}

/* run.c */
int svm_guest_run(struct Env *e, uint64_t *tsc_exit);
void svm_skipped(struct Env *e);
void svm_set_vintr(struct Vcpu *vc, struct vmcb_control *c, bool on);

/* exits.c */
enum vmexit_action svm_handle_exit(struct Env *e);
const char *svm_exit_name(uint32_t code);

/* debug.c */
int svm_dbg_read(struct Env *e, struct guest_dbgstate *s);
int svm_dbg_intercepts(struct Env *e, bool bp, bool step);
enum vmexit_action svm_exit_bp(struct Env *e);
enum vmexit_action svm_exit_db(struct Env *e);
enum vmexit_action svm_exit_intn(struct Env *e);

#endif /* !JOS_VMM_AMDV_AMDV_H */
