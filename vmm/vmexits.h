/*
 * Vendor-neutral VM-exit handlers (vmm/vmexits.c). Each backend's exit
 * table (vmm/vtx/exits.c, vmm/amdv/exits.c) decodes its exit information
 * (into struct GuestExit and vmm/exitinfo.h's struct vmm_io and struct
 * vmm_npf) and calls these.
 */
#ifndef JOS_VMM_VMEXITS_H
#define JOS_VMM_VMEXITS_H

#include <inc/types.h>
#include <inc/trap.h>
#include <inc/vmx.h>
#include <inc/x86.h>
#include <inc/cpuid.h>
#include <inc/assert.h>
#include <vmm/vmm.h>
#include <vmm/exitinfo.h>
#include <vmm/vm.h>

struct Env;

void vmexit_skip_instruction(struct Env *e);
enum vmexit_action vmexit_inject_exception(struct Env *e, int vector,
					   int error);
enum vmexit_action vmexit_undefined(struct Env *e);
enum vmexit_action vmexit_bad_msr(struct Env *e);
enum vmexit_action vmexit_invd(struct Env *e);
enum vmexit_action vmexit_cpuid(struct Env *e);
enum vmexit_action vmexit_hypercall(struct Env *e);
bool vmexit_hypercall_unknown(struct PushRegs *r);
enum vmexit_action vmexit_hlt(struct Env *e);
enum vmexit_action vmexit_triple_fault(struct Env *e);
enum vmexit_action vmexit_interrupt(struct Env *e, uint32_t vector);
enum vmexit_action vmexit_host_irqs(struct Env *e);
enum vmexit_action vmexit_pause(struct Env *e);
enum vmexit_action vmexit_io(struct Env *e, const struct vmm_io *io);
enum vmexit_action vmexit_npf(struct Env *e, const struct vmm_npf *f);
enum vmexit_action vmexit_npf_outside(struct Env *e, const struct vmm_npf *f);
enum vmexit_action vmexit_unhandled(struct Env *e, const char *what);

/* ---- CPUID, as the guest sees it (here: the fast path inlines it) ---- */

/* CPUID.1:ECX features the VMM does not virtualise (inc/cpuid.h). */
#define CPUID1_ECX_HIDDEN                                                 \
	(CPUID1_ECX_MONITOR | CPUID1_ECX_VMX | CPUID1_ECX_SMX |            \
	 CPUID1_ECX_PCID | CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE |   \
	 CPUID1_ECX_XSAVE | CPUID1_ECX_OSXSAVE | CPUID1_ECX_AVX)
/* The guest has no local APIC (CPUID1_EDX_APIC clear), and no nested
 * AMD-V either: CPUID.80000001H:ECX.SVM and the SVM feature leaf
 * 8000000AH are hidden. */
/* The hypervisor leaf (CPUID_HYPERVISOR) names the VMM. */
#define VMM_SIGNATURE "JOSinJOS-VMM"

/* Bytes i..i+3 of the signature as CPUID returns them (little-endian);
 * a constant at compile time, where memcpy into a register's variable
 * would keep all four in memory on every CPUID exit. */
static inline uint32_t signature_word(int i)
{
	const char *s = VMM_SIGNATURE;

	return (uint32_t)(uint8_t)s[i] | (uint32_t)(uint8_t)s[i + 1] << 8 |
	       (uint32_t)(uint8_t)s[i + 2] << 16 |
	       (uint32_t)(uint8_t)s[i + 3] << 24;
}

/* CPUID as vm's guest sees it, into its registers r (the instruction
 * is not skipped: the caller does that). Lock-free (the fast path): the
 * VM's kind is fixed before it first runs. A PC guest sees the APIC its
 * VMM program emulates (xv6 and the host kernel look for it); the JOS
 * guest has none. */
static inline void vmexit_cpuid_regs(const struct Vm *vm, struct PushRegs *r)
{
	uint32_t leaf = r->reg_rax, eax, ebx, ecx, edx;

	cpuid(leaf, r->reg_rcx, &eax, &ebx, &ecx, &edx);
	switch (leaf) {
	case 1:
		ecx = (ecx & ~CPUID1_ECX_HIDDEN) | CPUID1_ECX_HYPERVISOR;
		if (vm->pc.kind == VMM_KIND_JOS)
			edx &= ~CPUID1_EDX_APIC;
		break;
	case CPUID_EXT_FEATURES:
		ecx &= ~CPUIDX_ECX_SVM;
		break;
	case CPUID_SVM_FEATURES:
		eax = ebx = ecx = edx = 0;
		break;
	case CPUID_HYPERVISOR:
		static_assert(sizeof(VMM_SIGNATURE) == 13);
		eax = CPUID_HYPERVISOR;
		ebx = signature_word(0);
		ecx = signature_word(4);
		edx = signature_word(8);
		break;
	}
	r->reg_rax = eax;
	r->reg_rbx = ebx;
	r->reg_rcx = ecx;
	r->reg_rdx = edx;
}

/*
 * The hypercalls of the fast path (vmm/vmm.c, no big kernel lock): those
 * that read and write only the caller's registers r: VERSION (inline
 * here, the one guests time) and every number without a handler
 * (-E_NO_SYS). True if this is one: answered (the caller skips the
 * instruction). Anything else is left untouched, for vmexit_hypercall.
 */
static inline bool vmexit_hypercall_fast(struct PushRegs *r)
{
	if (r->reg_rax == VMCALL_VERSION) {
		r->reg_rax = VMM_ABI_VERSION;
		return true;
	}
	return vmexit_hypercall_unknown(r);
}

#endif /* !JOS_VMM_VMEXITS_H */
