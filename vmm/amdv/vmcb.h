/*
 * AMD-V names: CPUID bits, MSRs, the VMCB layout, intercept bits, exit
 * codes and event-injection fields. Numbers and section numbers are those
 * of the AMD64 Architecture Programmer's Manual, Vol. 2 (APM), chapter 15
 * "Secure Virtual Machine" and Appendix B "Layout of VMCB". Host-kernel
 * only.
 */
#ifndef JOS_VMM_AMDV_VMCB_H
#define JOS_VMM_AMDV_VMCB_H

/* ---- Detection (APM 15.4, 15.30) ---------------------------------------- */
/* The CPUID leaves themselves: inc/cpuid.h. CPUID_SVM_FEATURES EDX: */
#define SVM_FEATURE_NP (1U << 0)        /* nested paging */
#define SVM_FEATURE_NRIPS (1U << 3)     /* next RIP saved on #VMEXIT */
#define SVM_FEATURE_FLUSH_BY_ASID (1U << 6)

/* VM_CR (APM 15.30.1): firmware may disable SVM and lock that. */
#define MSR_VM_CR 0xC0010114
#define VM_CR_LOCK (1U << 3)
#define VM_CR_SVMDIS (1U << 4)
/* VM_HSAVE_PA (APM 15.30.4): where VMRUN saves host state. */
#define MSR_VM_HSAVE_PA 0xC0010117

/* The MSR permission map (APM 15.11): two bits per MSR (read, write) in
 * three 2 KiB ranges; a set bit intercepts. */
#define MSRPM_SIZE (2 * PGSIZE)
#define MSRPM_RANGE_MSRS 0x2000         /* MSRs per range */
#define MSRPM_RANGE_BYTES 0x800
/* The I/O permission map (APM 15.10.1): one bit per port, 12 KiB. */
#define IOPM_SIZE (3 * PGSIZE)

#ifndef __ASSEMBLER__
#include <inc/types.h>
#include <inc/assert.h>
#include <inc/mmu.h>

/* ---- The VMCB (APM Appendix B) ------------------------------------------ */

/* A segment in the state-save area (APM Table B-2 and 15.5.1): the
 * attribute word packs descriptor bits 47:40 (type, S, DPL, P) into 7:0
 * and bits 55:52 (AVL, L, D/B, G) into 11:8. */
struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
} __attribute__((packed));

#define SEG_ATTR_S (1U << 4)
#define SEG_ATTR_P (1U << 7)
#define SEG_ATTR_L (1U << 9)  /* 64-bit code segment */
#define SEG_ATTR_DB (1U << 10) /* default operand size 32 */

/* The control area (APM Table B-1), offsets 0x000-0x3FF. */
struct vmcb_control {
	uint32_t intercept_cr;          /* 0x000 reads 15:0, writes 31:16 */
	uint32_t intercept_dr;          /* 0x004 reads 15:0, writes 31:16 */
	uint32_t intercept_exceptions;  /* 0x008 one bit per vector */
	uint32_t intercept_misc1;       /* 0x00C INTERCEPT1_* */
	uint32_t intercept_misc2;       /* 0x010 INTERCEPT2_* */
	uint32_t intercept_misc3;       /* 0x014 */
	uint8_t reserved1[0x03C - 0x018];
	uint16_t pause_filter_thresh;   /* 0x03C */
	uint16_t pause_filter_count;    /* 0x03E */
	uint64_t iopm_base_pa;          /* 0x040 */
	uint64_t msrpm_base_pa;         /* 0x048 */
	uint64_t tsc_offset;            /* 0x050 */
	uint32_t asid;                  /* 0x058 */
	uint8_t tlb_control;            /* 0x05C TLB_CONTROL_* */
	uint8_t reserved2[3];
	uint64_t int_ctl;               /* 0x060 V_TPR, V_IRQ, ... (15.21) */
	uint64_t int_state;             /* 0x068 interrupt shadow */
	uint64_t exitcode;              /* 0x070 */
	uint64_t exitinfo1;             /* 0x078 */
	uint64_t exitinfo2;             /* 0x080 */
	uint64_t exitintinfo;           /* 0x088 event being delivered */
	uint64_t np_control;            /* 0x090 NP_ENABLE */
	uint64_t avic_apic_bar;         /* 0x098 */
	uint64_t ghcb_pa;               /* 0x0A0 */
	uint64_t eventinj;              /* 0x0A8 event to inject (15.20) */
	uint64_t n_cr3;                 /* 0x0B0 nested page-table root */
	uint64_t lbr_virt;              /* 0x0B8 */
	uint32_t clean_bits;            /* 0x0C0 */
	uint32_t reserved3;
	uint64_t next_rip;              /* 0x0C8 with NRIP save (15.7.1) */
	uint8_t insn_fetched;           /* 0x0D0 with decode assists */
	uint8_t insn_bytes[15];         /* 0x0D1 */
	uint8_t reserved4[0x400 - 0x0E0];
} __attribute__((packed));

/* The state-save area (APM Table B-2), offsets 0x400-... of the VMCB. */
struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs; /* 0x400 */
	struct vmcb_seg gdtr, ldtr, idtr, tr;   /* 0x460 */
	uint8_t reserved1[0x4CB - 0x4A0];
	uint8_t cpl;                    /* 0x4CB */
	uint32_t reserved2;
	uint64_t efer;                  /* 0x4D0 */
	uint8_t reserved3[0x548 - 0x4D8];
	uint64_t cr4;                   /* 0x548 */
	uint64_t cr3;                   /* 0x550 */
	uint64_t cr0;                   /* 0x558 */
	uint64_t dr7;                   /* 0x560 */
	uint64_t dr6;                   /* 0x568 */
	uint64_t rflags;                /* 0x570 */
	uint64_t rip;                   /* 0x578 */
	uint8_t reserved4[0x5D8 - 0x580];
	uint64_t rsp;                   /* 0x5D8 */
	uint8_t reserved5[0x5F8 - 0x5E0];
	uint64_t rax;                   /* 0x5F8 */
	uint64_t star;                  /* 0x600 */
	uint64_t lstar;                 /* 0x608 */
	uint64_t cstar;                 /* 0x610 */
	uint64_t sfmask;                /* 0x618 */
	uint64_t kernel_gs_base;        /* 0x620 */
	uint64_t sysenter_cs;           /* 0x628 */
	uint64_t sysenter_esp;          /* 0x630 */
	uint64_t sysenter_eip;          /* 0x638 */
	uint64_t cr2;                   /* 0x640 */
	uint8_t reserved6[0x668 - 0x648];
	uint64_t g_pat;                 /* 0x668 guest PAT with nested paging */
	uint64_t dbgctl;                /* 0x670 */
	uint64_t br_from;               /* 0x678 */
	uint64_t br_to;                 /* 0x680 */
	uint64_t last_excp_from;        /* 0x688 */
	uint64_t last_excp_to;          /* 0x690 */
} __attribute__((packed));

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
} __attribute__((packed));

/* The offsets above are the APM's (Appendix B). */
static_assert(offsetof(struct vmcb_control, pause_filter_thresh) == 0x03C);
static_assert(offsetof(struct vmcb_control, iopm_base_pa) == 0x040);
static_assert(offsetof(struct vmcb_control, asid) == 0x058);
static_assert(offsetof(struct vmcb_control, int_ctl) == 0x060);
static_assert(offsetof(struct vmcb_control, exitcode) == 0x070);
static_assert(offsetof(struct vmcb_control, exitintinfo) == 0x088);
static_assert(offsetof(struct vmcb_control, np_control) == 0x090);
static_assert(offsetof(struct vmcb_control, eventinj) == 0x0A8);
static_assert(offsetof(struct vmcb_control, n_cr3) == 0x0B0);
static_assert(offsetof(struct vmcb_control, next_rip) == 0x0C8);
static_assert(sizeof(struct vmcb_control) == 0x400);
static_assert(sizeof(struct vmcb_seg) == 16);
static_assert(offsetof(struct vmcb, save.cs) == 0x410);
static_assert(offsetof(struct vmcb, save.tr) == 0x490);
static_assert(offsetof(struct vmcb, save.cpl) == 0x4CB);
static_assert(offsetof(struct vmcb, save.efer) == 0x4D0);
static_assert(offsetof(struct vmcb, save.cr4) == 0x548);
static_assert(offsetof(struct vmcb, save.rip) == 0x578);
static_assert(offsetof(struct vmcb, save.rsp) == 0x5D8);
static_assert(offsetof(struct vmcb, save.rax) == 0x5F8);
static_assert(offsetof(struct vmcb, save.kernel_gs_base) == 0x620);
static_assert(offsetof(struct vmcb, save.cr2) == 0x640);
static_assert(offsetof(struct vmcb, save.g_pat) == 0x668);
static_assert(sizeof(struct vmcb) <= PGSIZE);

/* Intercept vector 3 (VMCB 0x00C, APM Table B-1). */
#define INTERCEPT1_INTR (1U << 0)
#define INTERCEPT1_NMI (1U << 1)
#define INTERCEPT1_SMI (1U << 2)
#define INTERCEPT1_INIT (1U << 3)
#define INTERCEPT1_VINTR (1U << 4)
#define INTERCEPT1_CPUID (1U << 18)
#define INTERCEPT1_INVD (1U << 22)
#define INTERCEPT1_PAUSE (1U << 23)
#define INTERCEPT1_HLT (1U << 24)
#define INTERCEPT1_INVLPGA (1U << 26)
#define INTERCEPT1_IOIO_PROT (1U << 27)
#define INTERCEPT1_MSR_PROT (1U << 28)
#define INTERCEPT1_TASK_SWITCH (1U << 29)
#define INTERCEPT1_FERR_FREEZE (1U << 30)
#define INTERCEPT1_SHUTDOWN (1U << 31)
/* Intercept vector 4 (VMCB 0x010). */
#define INTERCEPT2_VMRUN (1U << 0)
#define INTERCEPT2_VMMCALL (1U << 1)
#define INTERCEPT2_VMLOAD (1U << 2)
#define INTERCEPT2_VMSAVE (1U << 3)
#define INTERCEPT2_STGI (1U << 4)
#define INTERCEPT2_CLGI (1U << 5)
#define INTERCEPT2_SKINIT (1U << 6)
#define INTERCEPT2_MONITOR (1U << 10)
#define INTERCEPT2_MWAIT (1U << 11)
#define INTERCEPT2_MWAIT_ARMED (1U << 12)
#define INTERCEPT2_XSETBV (1U << 13)

/* TLB_CONTROL (APM 15.16.1). */
#define TLB_CONTROL_NOTHING 0
#define TLB_CONTROL_FLUSH_ALL 1         /* every ASID, this CPU */
#define TLB_CONTROL_FLUSH_ASID 3        /* this guest's ASID only */

/* VMCB 0x060 (APM 15.21): virtual interrupts. */
#define V_TPR_MASK 0xFFUL
#define V_IRQ (1UL << 8)
#define V_INTR_PRIO_SHIFT 16
#define V_IGN_TPR (1UL << 20)
#define V_INTR_MASKING (1UL << 24)
#define V_INTR_VECTOR_SHIFT 32
/* DR6.BS: the debug exception was a single step. */
#define DR6_BS (1UL << 14)
/* VMCB 0x068: the guest is in an interrupt shadow (STI, MOV SS). */
#define INT_STATE_SHADOW (1UL << 0)
/* VMCB 0x090. */
#define NP_ENABLE (1UL << 0)

/* EVENTINJ and EXITINTINFO (APM 15.20, 15.7.2): the same layout. */
#define EVENT_VECTOR(ev) ((uint32_t)(ev) & 0xFF)
#define EVENT_TYPE_SHIFT 8
#define EVENT_TYPE(ev) (((ev) >> EVENT_TYPE_SHIFT) & 0x7)
#define EVENT_TYPE_INTR 0       /* external or virtual interrupt */
#define EVENT_TYPE_NMI 2
#define EVENT_TYPE_EXCEPTION 3
#define EVENT_TYPE_SOFT_INT 4   /* INTn */
#define EVENT_ERROR_VALID (1UL << 11)
#define EVENT_VALID (1UL << 31)
#define EVENT_ERROR_SHIFT 32

/* EXITINFO1 of an IOIO exit (APM 15.10.2). */
#define IOIO_IN (1UL << 0)
#define IOIO_STR (1UL << 2)         /* INS/OUTS */
#define IOIO_REP (1UL << 3)         /* with a REP prefix */
#define IOIO_SIZE(i) (((i) >> 4) & 0x7)        /* one-hot: 1, 2, 4 bytes */
#define IOIO_PORT(i) (((i) >> 16) & 0xFFFF)
#define IOIO_A16 (1UL << 7)
#define IOIO_A32 (1UL << 8)
#define IOIO_A64 (1UL << 9)
/* The effective segment (decode assists): 0 ES ... 5 GS, the order of
 * the VMCB's segment fields. */
#define IOIO_SEG(i) (((i) >> 10) & 0x7)
#define IOIO_SEG_ES 0
#define IOIO_SEG_DS 3
#define IOIO_SEG_GS 5
/* EXITINFO1 of an MSR exit: 0 RDMSR, 1 WRMSR. */
#define MSR_EXIT_WRITE 1
/* EXITINFO1 of a nested page fault (APM 15.25.6): a #PF error code. */
#define NPF_PRESENT (1UL << 0)
#define NPF_WRITE (1UL << 1)
#define NPF_FETCH (1UL << 4)

/* ---- Exit codes (APM Appendix C) ----------------------------------------- */
enum svm_exit_code {
	SVM_EXIT_CR0_READ = 0x000,      /* 0x000-0x00F: CRn read */
	SVM_EXIT_CR0_WRITE = 0x010,     /* 0x010-0x01F: CRn write */
	SVM_EXIT_DR0_READ = 0x020,      /* 0x020-0x02F: DRn read */
	SVM_EXIT_DR0_WRITE = 0x030,     /* 0x030-0x03F: DRn write */
	SVM_EXIT_EXCP_BASE = 0x040,     /* 0x040-0x05F: exception vector n */
	SVM_EXIT_INTR = 0x060,
	SVM_EXIT_NMI = 0x061,
	SVM_EXIT_SMI = 0x062,
	SVM_EXIT_INIT = 0x063,
	SVM_EXIT_VINTR = 0x064,
	SVM_EXIT_CR0_SEL_WRITE = 0x065,
	SVM_EXIT_IDTR_READ = 0x066,
	SVM_EXIT_GDTR_READ = 0x067,
	SVM_EXIT_LDTR_READ = 0x068,
	SVM_EXIT_TR_READ = 0x069,
	SVM_EXIT_IDTR_WRITE = 0x06A,
	SVM_EXIT_GDTR_WRITE = 0x06B,
	SVM_EXIT_LDTR_WRITE = 0x06C,
	SVM_EXIT_TR_WRITE = 0x06D,
	SVM_EXIT_RDTSC = 0x06E,
	SVM_EXIT_RDPMC = 0x06F,
	SVM_EXIT_PUSHF = 0x070,
	SVM_EXIT_POPF = 0x071,
	SVM_EXIT_CPUID = 0x072,
	SVM_EXIT_RSM = 0x073,
	SVM_EXIT_IRET = 0x074,
	SVM_EXIT_SWINT = 0x075,
	SVM_EXIT_INVD = 0x076,
	SVM_EXIT_PAUSE = 0x077,
	SVM_EXIT_HLT = 0x078,
	SVM_EXIT_INVLPG = 0x079,
	SVM_EXIT_INVLPGA = 0x07A,
	SVM_EXIT_IOIO = 0x07B,
	SVM_EXIT_MSR = 0x07C,
	SVM_EXIT_TASK_SWITCH = 0x07D,
	SVM_EXIT_FERR_FREEZE = 0x07E,
	SVM_EXIT_SHUTDOWN = 0x07F,
	SVM_EXIT_VMRUN = 0x080,
	SVM_EXIT_VMMCALL = 0x081,
	SVM_EXIT_VMLOAD = 0x082,
	SVM_EXIT_VMSAVE = 0x083,
	SVM_EXIT_STGI = 0x084,
	SVM_EXIT_CLGI = 0x085,
	SVM_EXIT_SKINIT = 0x086,
	SVM_EXIT_RDTSCP = 0x087,
	SVM_EXIT_ICEBP = 0x088,
	SVM_EXIT_WBINVD = 0x089,
	SVM_EXIT_MONITOR = 0x08A,
	SVM_EXIT_MWAIT = 0x08B,
	SVM_EXIT_MWAIT_CONDITIONAL = 0x08C,
	SVM_EXIT_XSETBV = 0x08D,
	SVM_EXIT_RDPRU = 0x08E,
	SVM_EXIT_EFER_WRITE_TRAP = 0x08F,
	SVM_NEXIT_TABLE = 0x090,        /* codes below this have a table slot */
	SVM_EXIT_NPF = 0x400,           /* nested page fault */
	SVM_EXIT_AVIC_INCOMPLETE_IPI = 0x401,
	SVM_EXIT_AVIC_NOACCEL = 0x402,
	SVM_EXIT_VMGEXIT = 0x403,
};
/* VMEXIT_INVALID is -1; QEMU writes only its low 32 bits (platform notes),
 * so compare those. */
#define SVM_EXIT_INVALID 0xFFFFFFFFU

/* Lengths of the instructions we emulate, for CPUs without NRIP save
 * (QEMU's TCG): CPUID 0F A2, VMMCALL 0F 01 D9, HLT F4, RDMSR 0F 32,
 * WRMSR 0F 30 (without prefixes). */
#define INSN_LEN_CPUID 2
#define INSN_LEN_VMMCALL 3
#define INSN_LEN_HLT 1
#define INSN_LEN_MSR 2
#define INSN_LEN_INVD 2
#define INSN_LEN_PAUSE 2  /* F3 90 */

/* Per-guest AMD-V state (the vendor part of struct Vcpu). */
struct svm_state {
	struct PageInfo *vmcb;  /* the guest's VMCB */
	/* Its kernel and physical addresses, computed once: every entry and
	 * exit uses them. */
	struct vmcb *vmcb_kva;
	physaddr_t vmcb_pa;
	uint32_t asid;          /* its address-space id, 1..svm_nasid-1 */
	int cpu;                /* CPU whose TLB has its current translations,
				   -1 after it left a CPU */
	bool vintr;             /* V_IRQ + VINTR intercept armed */
};

struct Trapframe;
/* vmm/amdv/entry.S: CLGI and the guest's hidden state in (VMSAVE of the
 * host's, VMLOAD), VMRUNs with the general registers swapped to and from
 * *tf (RAX and RSP live in the VMCB), then the host's back and STGI. */
void asm_svm_enter(physaddr_t vmcb_pa, physaddr_t host_save_pa);
void asm_svm_vmrun(struct Trapframe *tf, physaddr_t vmcb_pa);
void asm_svm_leave(physaddr_t vmcb_pa, physaddr_t host_save_pa);

#endif /* !__ASSEMBLER__ */

#endif /* !JOS_VMM_AMDV_VMCB_H */
