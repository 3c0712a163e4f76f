/*
 * VT-x names: capability MSRs, VMCS field encodings, control bits, exit
 * reasons. Numbers from the Intel SDM, Vol. 3C chapters 24-27 and
 * Vol. 3D Appendix A (capability MSRs), B (field encodings) and C (exit
 * reasons). Host-kernel only; vmm/vtx/ alone includes it (the
 * vendor-neutral hypercall ABI, with a confusable name, is inc/vmx.h).
 */
#ifndef JOS_VMM_VTX_VMCS_H
#define JOS_VMM_VTX_VMCS_H

/* ---- MSRs (SDM Vol. 4, Table 2-2; Vol. 3D Appendix A) ------------------ */
#define MSR_IA32_FEATURE_CONTROL 0x03A
#define FEATURE_CONTROL_LOCK 0x1
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX 0x4
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
/* IA32_VMX_MISC bits 4:0: the VMX-preemption timer counts down by one
 * each time this bit of the TSC changes (A.6). */
#define VMX_MISC_PREEMPT_RATE_MASK 0x1F
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490

/* IA32_VMX_BASIC (Vol. 3D A.1). */
#define VMX_BASIC_REVISION(b) ((uint32_t)(b) & 0x7FFFFFFF)
#define VMX_BASIC_TRUE_CTLS (1UL << 55) /* the TRUE_* MSRs exist */

/* IA32_VMX_EPT_VPID_CAP (Vol. 3D A.10). */
#define EPT_CAP_WALK4 (1UL << 6)
#define EPT_CAP_WB (1UL << 14)
#define EPT_CAP_INVEPT (1UL << 20)
#define EPT_CAP_INVEPT_ALL (1UL << 26)

/* ---- VMCS field encodings (Vol. 3D Appendix B) ------------------------- */
/* The one field vtx/entry.S writes. */
#define VMCS_HOST_RSP_ENCODING 0x6C14

#ifndef __ASSEMBLER__
enum vmcs_field {
	/* 16-bit guest state (B.1.2) */
	GUEST_ES_SELECTOR = 0x0800,
	GUEST_CS_SELECTOR = 0x0802,
	GUEST_SS_SELECTOR = 0x0804,
	GUEST_DS_SELECTOR = 0x0806,
	GUEST_FS_SELECTOR = 0x0808,
	GUEST_GS_SELECTOR = 0x080A,
	GUEST_LDTR_SELECTOR = 0x080C,
	GUEST_TR_SELECTOR = 0x080E,
	/* 16-bit host state (B.1.3) */
	HOST_ES_SELECTOR = 0x0C00,
	HOST_CS_SELECTOR = 0x0C02,
	HOST_SS_SELECTOR = 0x0C04,
	HOST_DS_SELECTOR = 0x0C06,
	HOST_FS_SELECTOR = 0x0C08,
	HOST_GS_SELECTOR = 0x0C0A,
	HOST_TR_SELECTOR = 0x0C0C,
	/* 64-bit controls (B.2.1) */
	IO_BITMAP_A = 0x2000,
	IO_BITMAP_B = 0x2002,
	MSR_BITMAP = 0x2004,
	VM_EXIT_MSR_STORE_ADDR = 0x2006,
	VM_EXIT_MSR_LOAD_ADDR = 0x2008,
	VM_ENTRY_MSR_LOAD_ADDR = 0x200A,
	TSC_OFFSET = 0x2010,
	EPT_POINTER = 0x201A,
	/* 64-bit read-only data (B.2.2) */
	GUEST_PHYSICAL_ADDRESS = 0x2400,
	/* 64-bit guest state (B.2.3) */
	VMCS_LINK_POINTER = 0x2800,
	GUEST_IA32_DEBUGCTL = 0x2802,
	GUEST_IA32_PAT = 0x2804,
	GUEST_IA32_EFER = 0x2806,
	/* 64-bit host state (B.2.4) */
	HOST_IA32_PAT = 0x2C00,
	HOST_IA32_EFER = 0x2C02,
	/* 32-bit controls (B.3.1) */
	PIN_BASED_VM_EXEC_CONTROL = 0x4000,
	CPU_BASED_VM_EXEC_CONTROL = 0x4002,
	EXCEPTION_BITMAP = 0x4004,
	PAGE_FAULT_ERROR_CODE_MASK = 0x4006,
	PAGE_FAULT_ERROR_CODE_MATCH = 0x4008,
	CR3_TARGET_COUNT = 0x400A,
	VM_EXIT_CONTROLS = 0x400C,
	VM_EXIT_MSR_STORE_COUNT = 0x400E,
	VM_EXIT_MSR_LOAD_COUNT = 0x4010,
	VM_ENTRY_CONTROLS = 0x4012,
	VM_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VM_ENTRY_INTR_INFO_FIELD = 0x4016,
	VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
	VM_ENTRY_INSTRUCTION_LEN = 0x401A,
	SECONDARY_VM_EXEC_CONTROL = 0x401E,
	/* 32-bit read-only data (B.3.2) */
	VM_INSTRUCTION_ERROR = 0x4400,
	VM_EXIT_REASON = 0x4402,
	VM_EXIT_INTR_INFO = 0x4404,
	VM_EXIT_INTR_ERROR_CODE = 0x4406,
	IDT_VECTORING_INFO_FIELD = 0x4408,
	IDT_VECTORING_ERROR_CODE = 0x440A,
	VM_EXIT_INSTRUCTION_LEN = 0x440C,
	/* 32-bit guest state (B.3.3) */
	GUEST_ES_LIMIT = 0x4800,
	GUEST_CS_LIMIT = 0x4802,
	GUEST_SS_LIMIT = 0x4804,
	GUEST_DS_LIMIT = 0x4806,
	GUEST_FS_LIMIT = 0x4808,
	GUEST_GS_LIMIT = 0x480A,
	GUEST_LDTR_LIMIT = 0x480C,
	GUEST_TR_LIMIT = 0x480E,
	GUEST_GDTR_LIMIT = 0x4810,
	GUEST_IDTR_LIMIT = 0x4812,
	GUEST_ES_AR_BYTES = 0x4814,
	GUEST_CS_AR_BYTES = 0x4816,
	GUEST_SS_AR_BYTES = 0x4818,
	GUEST_DS_AR_BYTES = 0x481A,
	GUEST_FS_AR_BYTES = 0x481C,
	GUEST_GS_AR_BYTES = 0x481E,
	GUEST_LDTR_AR_BYTES = 0x4820,
	GUEST_TR_AR_BYTES = 0x4822,
	GUEST_INTERRUPTIBILITY_INFO = 0x4824,
	GUEST_ACTIVITY_STATE = 0x4826,
	GUEST_SYSENTER_CS = 0x482A,
	VMX_PREEMPTION_TIMER_VALUE = 0x482E,
	/* 32-bit host state (B.3.4) */
	HOST_IA32_SYSENTER_CS = 0x4C00,
	/* natural-width controls (B.4.1) */
	CR0_GUEST_HOST_MASK = 0x6000,
	CR4_GUEST_HOST_MASK = 0x6002,
	CR0_READ_SHADOW = 0x6004,
	CR4_READ_SHADOW = 0x6006,
	/* natural-width read-only data (B.4.2) */
	EXIT_QUALIFICATION = 0x6400,
	GUEST_LINEAR_ADDRESS = 0x640A,
	/* natural-width guest state (B.4.3) */
	GUEST_CR0 = 0x6800,
	GUEST_CR3 = 0x6802,
	GUEST_CR4 = 0x6804,
	GUEST_ES_BASE = 0x6806,
	GUEST_CS_BASE = 0x6808,
	GUEST_SS_BASE = 0x680A,
	GUEST_DS_BASE = 0x680C,
	GUEST_FS_BASE = 0x680E,
	GUEST_GS_BASE = 0x6810,
	GUEST_LDTR_BASE = 0x6812,
	GUEST_TR_BASE = 0x6814,
	GUEST_GDTR_BASE = 0x6816,
	GUEST_IDTR_BASE = 0x6818,
	GUEST_DR7 = 0x681A,
	GUEST_RSP = 0x681C,
	GUEST_RIP = 0x681E,
	GUEST_RFLAGS = 0x6820,
	GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
	GUEST_SYSENTER_ESP = 0x6824,
	GUEST_SYSENTER_EIP = 0x6826,
	/* natural-width host state (B.4.4) */
	HOST_CR0 = 0x6C00,
	HOST_CR3 = 0x6C02,
	HOST_CR4 = 0x6C04,
	HOST_FS_BASE = 0x6C06,
	HOST_GS_BASE = 0x6C08,
	HOST_TR_BASE = 0x6C0A,
	HOST_GDTR_BASE = 0x6C0C,
	HOST_IDTR_BASE = 0x6C0E,
	HOST_IA32_SYSENTER_ESP = 0x6C10,
	HOST_IA32_SYSENTER_EIP = 0x6C12,
	HOST_RSP = VMCS_HOST_RSP_ENCODING,
	HOST_RIP = 0x6C16,
};
#endif

/* ---- Execution controls (Vol. 3C 25.6) ---------------------------------- */
/* Pin-based (25.6.1, Table 25-5) */
#define PIN_EXTINT_EXITING (1U << 0)
#define PIN_NMI_EXITING (1U << 3)
#define PIN_PREEMPT_TIMER (1U << 6)
/* Primary processor-based (25.6.2, Table 25-6) */
#define CPU_INTR_WINDOW_EXITING (1U << 2)
#define CPU_HLT_EXITING (1U << 7)
#define CPU_MWAIT_EXITING (1U << 10)
#define CPU_CR8_LOAD_EXITING (1U << 19)
#define CPU_CR8_STORE_EXITING (1U << 20)
#define CPU_UNCOND_IO_EXITING (1U << 24)
#define CPU_MONITOR_EXITING (1U << 29)
#define CPU_USE_MSR_BITMAPS (1U << 28)
#define CPU_ACTIVATE_SECONDARY (1U << 31)
/* Secondary processor-based (25.6.2, Table 25-7) */
#define CPU2_ENABLE_EPT (1U << 1)
#define CPU2_UNRESTRICTED_GUEST (1U << 7)
/* VM-exit controls (25.7.1, Table 25-13) */
#define EXIT_SAVE_DEBUG_CONTROLS (1U << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE (1U << 9)
#define EXIT_ACK_INTR_ON_EXIT (1U << 15)
#define EXIT_SAVE_IA32_PAT (1U << 18)
#define EXIT_LOAD_IA32_PAT (1U << 19)
#define EXIT_SAVE_IA32_EFER (1U << 20)
#define EXIT_LOAD_IA32_EFER (1U << 21)
/* VM-entry controls (25.8.1, Table 25-15) */
#define ENTRY_LOAD_DEBUG_CONTROLS (1U << 2)
#define ENTRY_IA32E_MODE_GUEST (1U << 9)
#define ENTRY_LOAD_IA32_PAT (1U << 14)
#define ENTRY_LOAD_IA32_EFER (1U << 15)

/* EPT pointer (25.6.11, Table 25-9): memory type WB, 4-level walk. */
#define EPTP_MT_WB 6UL
#define EPTP_WALK_LENGTH(n) ((uint64_t)((n) - 1) << 3)

/* INVEPT types (Vol. 3C 30.3, INVEPT). */
#define INVEPT_ALL_CONTEXT 2

/* ---- Guest state encodings (Vol. 3C 25.4.1) ------------------------------ */
/* Segment access rights: type 3:0, S 4, DPL 6:5, P 7, L 13, D/B 14, G 15,
 * unusable 16; the types at reset: vmm/reset.h. */
#define AR_S (1U << 4)
#define AR_P (1U << 7)
#define AR_L (1U << 13)  /* 64-bit code segment */
#define AR_DB (1U << 14) /* default operand size 32 */
#define AR_UNUSABLE (1U << 16)
#define VMCS_LINK_POINTER_NONE (~0UL)
#define GUEST_ACTIVITY_ACTIVE 0

/* ---- Exit information (Vol. 3C 27.2) -------------------------------------- */
#define EXIT_REASON_BASIC(r) ((r) & 0xFFFF)
#define EXIT_REASON_ENTRY_FAIL (1U << 31)
#define INTR_INFO_VECTOR(i) ((i) & 0xFF)
#define INTR_INFO_VALID (1U << 31)
/* Interruption information (27.2.2, 25.8.3): vector 7:0, type 10:8,
 * error code valid 11. */
#define INTR_INFO_TYPE(i) (((i) >> INTR_INFO_TYPE_SHIFT) & 0x7)
#define INTR_INFO_ERROR_VALID (1U << 11)
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_TYPE_EXT_INTR 0
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXC 3
#define INTR_TYPE_SOFT_INTR 4
#define INTR_TYPE_PRIV_SOFT_EXC 5
#define INTR_TYPE_SOFT_EXC 6
/* Guest interruptibility state (25.4.2, Table 25-3). */
#define INTERRUPTIBILITY_STI (1U << 0)
#define INTERRUPTIBILITY_MOV_SS (1U << 1)
/* Pending debug exceptions (25.4.2, Table 25-4): a single-step trap. */
#define PENDING_DBG_BS (1UL << 14)

/* Exit qualification for control-register accesses (Table 28-3). */
#define CRQ_CR(q) ((q) & 0xF)
#define CRQ_TYPE(q) (((q) >> 4) & 0x3)
#define CRQ_TYPE_MOV_TO_CR 0
#define CRQ_TYPE_MOV_FROM_CR 1
#define CRQ_GPR(q) (((q) >> 8) & 0xF)
/* For I/O instructions (Table 28-5). */
#define IOQ_SIZE(q) (((q) & 0x7) + 1)
#define IOQ_IN(q) (((q) >> 3) & 1)
#define IOQ_STRING (1UL << 4)
#define IOQ_REP (1UL << 5)
#define IOQ_PORT(q) (((q) >> 16) & 0xFFFF)
/* For EPT violations (Table 28-7). */
#define EPTQ_READ (1UL << 0)
#define EPTQ_WRITE (1UL << 1)
#define EPTQ_FETCH (1UL << 2)

#ifndef __ASSEMBLER__
/* Basic exit reasons (Vol. 3D Appendix C). */
enum vmx_exit_reason {
	EXIT_REASON_EXCEPTION_NMI = 0,
	EXIT_REASON_EXTERNAL_INTERRUPT = 1,
	EXIT_REASON_TRIPLE_FAULT = 2,
	EXIT_REASON_INIT = 3,
	EXIT_REASON_SIPI = 4,
	EXIT_REASON_INTERRUPT_WINDOW = 7,
	EXIT_REASON_NMI_WINDOW = 8,
	EXIT_REASON_TASK_SWITCH = 9,
	EXIT_REASON_CPUID = 10,
	EXIT_REASON_GETSEC = 11,
	EXIT_REASON_HLT = 12,
	EXIT_REASON_INVD = 13,
	EXIT_REASON_INVLPG = 14,
	EXIT_REASON_RDPMC = 15,
	EXIT_REASON_RDTSC = 16,
	EXIT_REASON_RSM = 17,
	EXIT_REASON_VMCALL = 18,
	EXIT_REASON_VMCLEAR = 19,
	EXIT_REASON_VMLAUNCH = 20,
	EXIT_REASON_VMPTRLD = 21,
	EXIT_REASON_VMPTRST = 22,
	EXIT_REASON_VMREAD = 23,
	EXIT_REASON_VMRESUME = 24,
	EXIT_REASON_VMWRITE = 25,
	EXIT_REASON_VMXOFF = 26,
	EXIT_REASON_VMXON = 27,
	EXIT_REASON_CR_ACCESS = 28,
	EXIT_REASON_DR_ACCESS = 29,
	EXIT_REASON_IO_INSTRUCTION = 30,
	EXIT_REASON_MSR_READ = 31,
	EXIT_REASON_MSR_WRITE = 32,
	EXIT_REASON_INVALID_STATE = 33,
	EXIT_REASON_MSR_LOADING = 34,
	EXIT_REASON_MWAIT = 36,
	EXIT_REASON_MONITOR_TRAP_FLAG = 37,
	EXIT_REASON_MONITOR = 39,
	EXIT_REASON_PAUSE = 40,
	EXIT_REASON_MACHINE_CHECK = 41,
	EXIT_REASON_TPR_BELOW_THRESHOLD = 43,
	EXIT_REASON_APIC_ACCESS = 44,
	EXIT_REASON_EOI_INDUCED = 45,
	EXIT_REASON_GDTR_IDTR = 46,
	EXIT_REASON_LDTR_TR = 47,
	EXIT_REASON_EPT_VIOLATION = 48,
	EXIT_REASON_EPT_MISCONFIG = 49,
	EXIT_REASON_INVEPT = 50,
	EXIT_REASON_RDTSCP = 51,
	EXIT_REASON_PREEMPTION_TIMER = 52,
	EXIT_REASON_INVVPID = 53,
	EXIT_REASON_WBINVD = 54,
	EXIT_REASON_XSETBV = 55,
	EXIT_REASON_APIC_WRITE = 56,
	EXIT_REASON_RDRAND = 57,
	EXIT_REASON_INVPCID = 58,
	EXIT_REASON_VMFUNC = 59,
	EXIT_REASON_RDSEED = 61,
	EXIT_REASON_XSAVES = 63,
	EXIT_REASON_XRSTORS = 64,
	VMX_NEXIT_REASONS
};
#endif

/* asm_vmrun's results (vmm/vtx/entry.S). */
#define VMRUN_EXITED 0
#define VMRUN_FAIL_INVALID 1 /* CF: no current VMCS */
#define VMRUN_FAIL_VALID 2   /* ZF: VM_INSTRUCTION_ERROR says why */

#ifndef __ASSEMBLER__
/* Per-guest VT-x state (the vendor part of struct Vcpu). */
struct vmx_state {
	struct PageInfo *vmcs;        /* the VMCS region */
	struct PageInfo *msr_bitmap;  /* MSR accesses that exit */
	int vmcs_cpu;                 /* CPU where the VMCS is active, or -1 */
	bool launched;                /* VMLAUNCH done since the last VMCLEAR */
	bool vmcs_initialized;        /* controls and first guest state written */
	uint16_t start_cs;            /* CS selector of that first state (SIPI) */
	bool intr_window;             /* interrupt-window exiting is on */
	bool preempt_on;              /* the preemption timer is (vtx/preempt.c) */
	uint64_t cr2;                 /* guest CR2 (not in the VMCS) */
	/* What the VMCS holds of env_tf while launched: read at the last
	 * exit or written since, so that an entry rewrites only what a
	 * handler changed. */
	uint64_t rsp, rflags;
	/* The guest's task priority (CR8): VT-x without a TPR shadow keeps
	 * no virtual one (vtx/exits.c). */
	uint64_t vtpr;
	/* The last exit's interruption information (27.2.2), read on the
	 * slow path only (vmx_read_exit_details). */
	uint32_t exit_intr_info;
};
#endif

#endif /* !JOS_VMM_VTX_VMCS_H */
