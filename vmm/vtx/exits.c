/*
 * Intel VT-x, exits: the exit-reason table (each reason to a core
 * handler in vmm/vmexits.c, or to one here that decodes what only VT-x
 * reports: control-register accesses, port I/O, EPT violations), and the
 * names of exit reasons and VM-instruction errors for reports. Section
 * numbers: Intel SDM Vol. 3C; Appendix C for the reasons.
 *
 * Invariant: handlers run on the slow path (the big kernel lock held),
 * with the VMCS current on this CPU and vc->exit.qual and vc->vmx.exit_intr_info read
 * (vmx_handle_exit).
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/assert.h>

#include <kern/env.h>
#include <vmm/gpr.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/vtx/vtx.h>
#include <vmm/vtx/insn.h>
#include <vmm/vtx/preempt.h>

/* VM-instruction error numbers (30.4). */
static const char *const vm_instruction_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in "
	       "executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vm_instruction_error_name(uint64_t err)
{
	if (err < ARRAY_SIZE(vm_instruction_errors) &&
	    vm_instruction_errors[err])
		return vm_instruction_errors[err];
	return "unknown VM-instruction error";
}

/* ---- Handlers that decode VMX-specific exit information ---------------------- */

/*
 * MOV to and from CR8 (CR8-load and -store exiting, 25.6.2): the guest's
 * task priority lives in vc->vmx.vtpr and never reaches the host's local APIC.
 * The guest has no APIC to prioritise, so the value only reads back.
 * Bits above 3 are reserved: #GP (SDM Vol. 3A 10.8.6.1).
 */
#define CR8_TPR_MASK 0xFUL

static enum vmexit_action vmx_exit_cr8(struct Env *e, uint64_t q)
{
	struct Vcpu *vc = e->env_vcpu;

	if (CRQ_TYPE(q) == CRQ_TYPE_MOV_FROM_CR) {
		guest_gpr_set(&e->env_tf, CRQ_GPR(q), vc->vmx.vtpr);
	} else {
		uint64_t val = guest_gpr(&e->env_tf, CRQ_GPR(q));
		if (val & ~CR8_TPR_MASK)
			return vmexit_inject_exception(e, T_GPFLT, 0);
		vc->vmx.vtpr = val;
	}
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

/*
 * MOV to CR0/CR4 that touched a bit we own (25.6.6): the guest's value
 * goes to the read shadow, the real register keeps NE / VMXE. A change of
 * CR0.PE/PG here would need mode-switch emulation, which we do not do.
 */
static enum vmexit_action vmx_exit_cr_access(struct Env *e)
{
	uint64_t q = e->env_vcpu->exit.qual, val;

	if (CRQ_CR(q) == 8)
		return vmx_exit_cr8(e, q);
	if (CRQ_TYPE(q) != CRQ_TYPE_MOV_TO_CR ||
	    (CRQ_CR(q) != 0 && CRQ_CR(q) != 4))
		return vmexit_unhandled(e, "CR access");
	val = guest_gpr(&e->env_tf, CRQ_GPR(q));
	if (CRQ_CR(q) == 0) {
		if ((val ^ vmcs_read(GUEST_CR0)) & (CR0_PE | CR0_PG)) {
			vmm_guest_stop(e, "CR0 write 0x%lx clears NE while "
				       "switching modes (not emulated)", val);
			return VMEXIT_STOP;
		}
		vmcs_write(CR0_READ_SHADOW, val);
		vmcs_write(GUEST_CR0, val | CR0_NE);
	} else {
		if (val & CR4_VMXE) {
			vmm_guest_stop(e, "the guest set CR4.VMXE, but VMX "
				       "is not offered to it");
			return VMEXIT_STOP;
		}
		vmcs_write(CR4_READ_SHADOW, val);
		vmcs_write(GUEST_CR4, val | CR4_VMXE);
	}
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

static enum vmexit_action vmx_exit_extint(struct Env *e)
{
	uint32_t info = e->env_vcpu->vmx.exit_intr_info;

	if (!(info & INTR_INFO_VALID))
		return VMEXIT_RESUME;
	return vmexit_interrupt(e, INTR_INFO_VECTOR(info));
}

/*
 * Port I/O (Table 28-5), decoded for the core's vmexit_io. A string's
 * linear address is the VMCS's (27.2.1); its address size is taken from
 * the code segment (an 0x67 prefix is not seen).
 */
static enum vmexit_action vmx_exit_io(struct Env *e)
{
	uint64_t q = e->env_vcpu->exit.qual;
	uint32_t cs_ar;
	struct vmm_io io = {
		.port = IOQ_PORT(q),
		.size = IOQ_SIZE(q),
		.in = IOQ_IN(q),
		.string = q & IOQ_STRING,
		.rep = q & IOQ_REP,
	};

	if (io.string) {
		cs_ar = vmcs_read(GUEST_CS_AR_BYTES);
		io.lin = vmcs_read(GUEST_LINEAR_ADDRESS);
		io.addr_bytes = (cs_ar & AR_L) ? 8 : (cs_ar & AR_DB) ? 4 : 2;
	}
	return vmexit_io(e, &io);
}

/* An EPT violation (Table 28-7), decoded for the core's vmexit_npf. */
static enum vmexit_action vmx_exit_ept_violation(struct Env *e)
{
	uint64_t q = e->env_vcpu->exit.qual;
	struct vmm_npf f = {
		/* Valid only for EPT exits (27.2.1): read here, not on
		 * every exit. */
		.gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS),
		.read = q & EPTQ_READ,
		.write = q & EPTQ_WRITE,
		.fetch = q & EPTQ_FETCH,
	};

	return vmexit_npf(e, &f);
}

/* The guest can take the waiting timer interrupt: the entry injects it. */
static enum vmexit_action vmx_exit_intr_window(struct Env *e)
{
	return VMEXIT_RESUME;
}

/* Exit reason -> handler (vendor-neutral ones from vmm/vmexits.c). */
static enum vmexit_action (*const vmx_exit_handlers[VMX_NEXIT_REASONS])(
	struct Env *) = {
	[EXIT_REASON_EXCEPTION_NMI] = vmx_exit_exception,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = vmx_exit_extint,
	[EXIT_REASON_TRIPLE_FAULT] = vmexit_triple_fault,
	[EXIT_REASON_CPUID] = vmexit_cpuid,
	[EXIT_REASON_HLT] = vmexit_hlt,
	[EXIT_REASON_VMCALL] = vmexit_hypercall,
	[EXIT_REASON_CR_ACCESS] = vmx_exit_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = vmx_exit_io,
	[EXIT_REASON_MSR_READ] = vmexit_bad_msr,
	[EXIT_REASON_MSR_WRITE] = vmexit_bad_msr,
	[EXIT_REASON_INVD] = vmexit_invd,
	/* What CPUID hides: VMX, SMX, MONITOR/MWAIT, XSAVE. */
	[EXIT_REASON_VMCLEAR] = vmexit_undefined,
	[EXIT_REASON_VMLAUNCH] = vmexit_undefined,
	[EXIT_REASON_VMPTRLD] = vmexit_undefined,
	[EXIT_REASON_VMPTRST] = vmexit_undefined,
	[EXIT_REASON_VMREAD] = vmexit_undefined,
	[EXIT_REASON_VMRESUME] = vmexit_undefined,
	[EXIT_REASON_VMWRITE] = vmexit_undefined,
	[EXIT_REASON_VMXOFF] = vmexit_undefined,
	[EXIT_REASON_VMXON] = vmexit_undefined,
	[EXIT_REASON_INVEPT] = vmexit_undefined,
	[EXIT_REASON_INVVPID] = vmexit_undefined,
	[EXIT_REASON_VMFUNC] = vmexit_undefined,
	[EXIT_REASON_GETSEC] = vmexit_undefined,
	[EXIT_REASON_MWAIT] = vmexit_undefined,
	[EXIT_REASON_MONITOR] = vmexit_undefined,
	[EXIT_REASON_XSETBV] = vmexit_undefined,
	[EXIT_REASON_EPT_VIOLATION] = vmx_exit_ept_violation,
	[EXIT_REASON_INTERRUPT_WINDOW] = vmx_exit_intr_window,
	[EXIT_REASON_PREEMPTION_TIMER] = vmx_exit_preempt,
};

enum vmexit_action vmx_handle_exit(struct Env *e)
{
	uint32_t reason = e->env_vcpu->exit.reason;

	vmx_read_exit_details(e->env_vcpu);
	if (reason < VMX_NEXIT_REASONS && vmx_exit_handlers[reason])
		return vmx_exit_handlers[reason](e);
	return vmexit_unhandled(e, vmx_exit_name(reason));
}

/* Names for reports (Appendix C). */
static const char *const vmx_exit_names[VMX_NEXIT_REASONS] = {
	[EXIT_REASON_EXCEPTION_NMI] = "exception or NMI",
	[EXIT_REASON_EXTERNAL_INTERRUPT] = "external interrupt",
	[EXIT_REASON_TRIPLE_FAULT] = "triple fault",
	[EXIT_REASON_INIT] = "INIT signal",
	[EXIT_REASON_SIPI] = "start-up IPI",
	[EXIT_REASON_INTERRUPT_WINDOW] = "interrupt window",
	[EXIT_REASON_NMI_WINDOW] = "NMI window",
	[EXIT_REASON_TASK_SWITCH] = "task switch",
	[EXIT_REASON_CPUID] = "CPUID",
	[EXIT_REASON_GETSEC] = "GETSEC",
	[EXIT_REASON_HLT] = "HLT",
	[EXIT_REASON_INVD] = "INVD",
	[EXIT_REASON_INVLPG] = "INVLPG",
	[EXIT_REASON_RDPMC] = "RDPMC",
	[EXIT_REASON_RDTSC] = "RDTSC",
	[EXIT_REASON_RSM] = "RSM",
	[EXIT_REASON_VMCALL] = "VMCALL",
	[EXIT_REASON_VMCLEAR] = "VMCLEAR",
	[EXIT_REASON_VMLAUNCH] = "VMLAUNCH",
	[EXIT_REASON_VMPTRLD] = "VMPTRLD",
	[EXIT_REASON_VMPTRST] = "VMPTRST",
	[EXIT_REASON_VMREAD] = "VMREAD",
	[EXIT_REASON_VMRESUME] = "VMRESUME",
	[EXIT_REASON_VMWRITE] = "VMWRITE",
	[EXIT_REASON_VMXOFF] = "VMXOFF",
	[EXIT_REASON_VMXON] = "VMXON",
	[EXIT_REASON_CR_ACCESS] = "control-register access",
	[EXIT_REASON_DR_ACCESS] = "debug-register access",
	[EXIT_REASON_IO_INSTRUCTION] = "I/O instruction",
	[EXIT_REASON_MSR_READ] = "RDMSR",
	[EXIT_REASON_MSR_WRITE] = "WRMSR",
	[EXIT_REASON_INVALID_STATE] = "invalid guest state",
	[EXIT_REASON_MSR_LOADING] = "MSR loading",
	[EXIT_REASON_MWAIT] = "MWAIT",
	[EXIT_REASON_MONITOR_TRAP_FLAG] = "monitor trap flag",
	[EXIT_REASON_MONITOR] = "MONITOR",
	[EXIT_REASON_PAUSE] = "PAUSE",
	[EXIT_REASON_MACHINE_CHECK] = "machine-check event",
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = "TPR below threshold",
	[EXIT_REASON_APIC_ACCESS] = "APIC access",
	[EXIT_REASON_EOI_INDUCED] = "virtualized EOI",
	[EXIT_REASON_GDTR_IDTR] = "GDTR or IDTR access",
	[EXIT_REASON_LDTR_TR] = "LDTR or TR access",
	[EXIT_REASON_EPT_VIOLATION] = "EPT violation",
	[EXIT_REASON_EPT_MISCONFIG] = "EPT misconfiguration",
	[EXIT_REASON_INVEPT] = "INVEPT",
	[EXIT_REASON_RDTSCP] = "RDTSCP",
	[EXIT_REASON_PREEMPTION_TIMER] = "VMX-preemption timer expired",
	[EXIT_REASON_INVVPID] = "INVVPID",
	[EXIT_REASON_WBINVD] = "WBINVD",
	[EXIT_REASON_XSETBV] = "XSETBV",
	[EXIT_REASON_APIC_WRITE] = "APIC write",
	[EXIT_REASON_RDRAND] = "RDRAND",
	[EXIT_REASON_INVPCID] = "INVPCID",
	[EXIT_REASON_VMFUNC] = "VMFUNC",
	[EXIT_REASON_RDSEED] = "RDSEED",
	[EXIT_REASON_XSAVES] = "XSAVES",
	[EXIT_REASON_XRSTORS] = "XRSTORS",
};

const char *vmx_exit_name(uint32_t reason)
{
	if (reason < VMX_NEXIT_REASONS && vmx_exit_names[reason])
		return vmx_exit_names[reason];
	return "unknown exit reason";
}
