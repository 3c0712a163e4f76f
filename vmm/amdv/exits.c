/*
 * AMD-V, exits: the exit-code table (each code to a core handler in
 * vmm/vmexits.c, or to one here that decodes what only AMD-V reports:
 * port I/O, nested page faults, MSR accesses with the emulated EFER and
 * PAT, shutdown), with the length of each emulated instruction for CPUs
 * without NRIP save, and the names of exit codes for reports. Section
 * numbers: AMD64 APM Vol. 2, chapter 15; Appendix C for the codes.
 *
 * Invariant: handlers run on the slow path (the big kernel lock held,
 * the host's hidden state back: svm_guest_run), with vc->exit.qual and
 * .info2 read (svm_handle_exit).
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/msr.h>
#include <inc/assert.h>

#include <kern/env.h>
#include <kern/cpu.h>
#include <kern/pmap.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/amdv/amdv.h>

/* PAT entries (SDM Vol. 3A 11.12.2): 8 one-byte types; 2, 3 and 8+ are
 * reserved. */
#define PAT_ENTRIES 8
#define PAT_TYPE_BITS 8
#define PAT_TYPE_MASK 0xFFUL
#define PAT_TYPE_VALID_SET 0xF3U /* types 0, 1, 4, 5, 6, 7 */
/* EFER bits a guest may set (the rest would be host features). */
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)


/*
 * A triple fault: besides the report, what a post-mortem needs to tell
 * a guest's own crash from a VMM one (issue 11: a guest once stopped with
 * the host's RIP after VMRUN in its VMCB): the CPU, the VMCB and the
 * host save areas, the event this entry injected and the guest's mode.
 */
static enum vmexit_action svm_exit_shutdown(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	struct vmcb *v = vmcb_of(vc);
	int i;

	cprintf("vmm: guest %08x shutdown on CPU %d: vmcb %lx, eventinj %lx, "
		"exitintinfo %lx, cs %x, cr0 %lx, cr3 %lx, efer %lx\n",
		e->env_id, cpunum(), page2pa(vc->svm.vmcb),
		v->control.eventinj, v->control.exitintinfo, v->save.cs.selector,
		v->save.cr0, v->save.cr3, v->save.efer);
	for (i = 0; i < ncpu; i++)
		if (svm_cpu[i].hsave)
			cprintf("vmm: CPU %d host save %lx, host vmcb %lx\n", i,
				page2pa(svm_cpu[i].hsave),
				page2pa(svm_cpu[i].host_vmcb));
	return vmexit_triple_fault(e);
}

/* A physical interrupt (15.21.1): take it, then service it as on VT-x. */
static enum vmexit_action svm_exit_intr(struct Env *e)
{
	return vmexit_host_irqs(e);
}

/* The guest can take the waiting timer interrupt: the entry injects it. */
static enum vmexit_action svm_exit_vintr(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;

	svm_set_vintr(vc, &vmcb_of(vc)->control, false);
	return VMEXIT_RESUME;
}

#define BITS_PER_BYTE 8

/* A string I/O's address register as its address size sees it. */
static uint64_t ioio_addr_reg(uint64_t reg, unsigned addr_bytes)
{
	return addr_bytes == sizeof(uint64_t)
		       ? reg
		       : reg & ((1UL << (addr_bytes * BITS_PER_BYTE)) - 1);
}

/*
 * Port I/O (15.10.2: EXITINFO1), decoded for the core's vmexit_io.
 * EXITINFO2 is the next RIP. A string's memory operand: ES:rDI for INS;
 * for OUTS the effective segment EXITINFO1 names with decode assists,
 * else DS (an override prefix is not seen without them).
 */
static enum vmexit_action svm_exit_ioio(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	uint64_t q = vc->exit.qual;
	struct PushRegs *r = &e->env_tf.tf_regs;
	unsigned seg;
	struct vmm_io io = {
		.port = IOIO_PORT(q),
		.size = IOIO_SIZE(q),
		.in = q & IOIO_IN,
		.string = q & IOIO_STR,
		.rep = q & IOIO_REP,
	};

	vc->exit.inst_len = vc->exit.info2 - e->env_tf.tf_rip;
	if (io.string) {
		io.addr_bytes = (q & IOIO_A64) ? 8 : (q & IOIO_A16) ? 2 : 4;
		seg = io.in ? IOIO_SEG_ES : IOIO_SEG(q);
		if (!io.in && (seg == IOIO_SEG_ES || seg > IOIO_SEG_GS))
			seg = IOIO_SEG_DS;
		io.lin = (&vmcb_of(vc)->save.es)[seg].base +
			 ioio_addr_reg(io.in ? r->reg_rdi : r->reg_rsi,
				       io.addr_bytes);
	}
	return vmexit_io(e, &io);
}

static bool pat_valid(uint64_t pat)
{
	int i;

	for (i = 0; i < PAT_ENTRIES; i++) {
		uint64_t type = (pat >> (i * PAT_TYPE_BITS)) & PAT_TYPE_MASK;
		if (type >= PAT_TYPE_BITS || !(PAT_TYPE_VALID_SET & (1U << type)))
			return false;
	}
	return true;
}

/* The guest's PAT is G_PAT: reads and checked writes of it. */
static enum vmexit_action svm_exit_pat(struct Env *e, struct vmcb_save *s,
				       bool write)
{
	struct PushRegs *r = &e->env_tf.tf_regs;
	uint64_t val = (r->reg_rdx << 32) | (uint32_t)r->reg_rax;

	if (write) {
		if (!pat_valid(val))
			return vmexit_bad_msr(e);
		s->g_pat = val;
	} else {
		r->reg_rax = (uint32_t)s->g_pat;
		r->reg_rdx = s->g_pat >> 32;
	}
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

/*
 * RDMSR/WRMSR that the permission map intercepts (15.11). EFER is the
 * guest's, but without SVME (which stays set underneath) and with LMA
 * kept by the CPU; any other MSR gets #GP, as on VT-x.
 */
static enum vmexit_action svm_exit_msr(struct Env *e)
{
	struct PushRegs *r = &e->env_tf.tf_regs;
	struct vmcb_save *s = &vmcb_of(e->env_vcpu)->save;
	bool write = e->env_vcpu->exit.qual == MSR_EXIT_WRITE;
	uint32_t msr = (uint32_t)r->reg_rcx;
	uint64_t val;

	if (msr == MSR_PAT)
		return svm_exit_pat(e, s, write);
	if (msr != MSR_EFER)
		return vmexit_bad_msr(e);
	if (write) {
		val = ((r->reg_rdx << 32) | (uint32_t)r->reg_rax);
		if (val & ~EFER_GUEST_BITS) {
			vmm_guest_stop(e, "WRMSR EFER 0x%lx sets bits the guest "
				       "may not (allowed: 0x%x)",
				       val, EFER_GUEST_BITS);
			return VMEXIT_STOP;
		}
		s->efer = (val & ~EFER_LMA) | (s->efer & EFER_LMA) | EFER_SVME;
	} else {
		val = s->efer & ~EFER_SVME;
		r->reg_rax = (uint32_t)val;
		r->reg_rdx = val >> 32;
	}
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

/* A nested page fault (15.25.6): EXITINFO1 is a page-fault error code,
 * EXITINFO2 the address; decoded for the core's vmexit_npf. */
static enum vmexit_action svm_exit_npf(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	struct vmm_npf f = {
		.gpa = vc->exit.info2,
		.read = !(vc->exit.qual & (NPF_WRITE | NPF_FETCH)),
		.write = vc->exit.qual & NPF_WRITE,
		.fetch = vc->exit.qual & NPF_FETCH,
	};

	return vmexit_npf(e, &f);
}

/* Exit code -> handler, and the length of the instruction it emulates
 * (used when the CPU does not save next_rip). */
struct svm_exit_handler {
	enum vmexit_action (*handle)(struct Env *);
	uint8_t insn_len;
};

static const struct svm_exit_handler svm_exit_handlers[SVM_NEXIT_TABLE] = {
	[SVM_EXIT_INTR] = { svm_exit_intr, 0 },
	[SVM_EXIT_VINTR] = { svm_exit_vintr, 0 },
	[SVM_EXIT_CPUID] = { vmexit_cpuid, INSN_LEN_CPUID },
	[SVM_EXIT_HLT] = { vmexit_hlt, INSN_LEN_HLT },
	[SVM_EXIT_VMMCALL] = { vmexit_hypercall, INSN_LEN_VMMCALL },
	[SVM_EXIT_MSR] = { svm_exit_msr, INSN_LEN_MSR },
	[SVM_EXIT_IOIO] = { svm_exit_ioio, 0 },
	[SVM_EXIT_SHUTDOWN] = { svm_exit_shutdown, 0 },
	[SVM_EXIT_INVD] = { vmexit_invd, INSN_LEN_INVD },
	[SVM_EXIT_PAUSE] = { vmexit_pause, INSN_LEN_PAUSE },
	/* What CPUID hides: SVM, MONITOR/MWAIT, XSAVE. */
	[SVM_EXIT_VMRUN] = { vmexit_undefined, 0 },
	[SVM_EXIT_VMLOAD] = { vmexit_undefined, 0 },
	[SVM_EXIT_VMSAVE] = { vmexit_undefined, 0 },
	[SVM_EXIT_STGI] = { vmexit_undefined, 0 },
	[SVM_EXIT_CLGI] = { vmexit_undefined, 0 },
	[SVM_EXIT_SKINIT] = { vmexit_undefined, 0 },
	[SVM_EXIT_INVLPGA] = { vmexit_undefined, 0 },
	[SVM_EXIT_MONITOR] = { vmexit_undefined, 0 },
	[SVM_EXIT_MWAIT] = { vmexit_undefined, 0 },
	[SVM_EXIT_MWAIT_CONDITIONAL] = { vmexit_undefined, 0 },
	[SVM_EXIT_XSETBV] = { vmexit_undefined, 0 },
	[SVM_EXIT_EXCP_BASE + T_BRKPT] = { svm_exit_bp, 0 },
	[SVM_EXIT_EXCP_BASE + T_DEBUG] = { svm_exit_db, 0 },
	[SVM_EXIT_SWINT] = { svm_exit_intn, 0 },
};

/* The length of the instruction that exited, for handlers that emulate
 * one: from NRIP save where the CPU has it (15.7.1), else the table's. */
static void svm_set_inst_len(struct Env *e, const struct svm_exit_handler *h)
{
	struct Vcpu *vc = e->env_vcpu;

	if (h->insn_len)
		vc->exit.inst_len = svm.nrips ? vmcb_of(vc)->control.next_rip -
						       e->env_tf.tf_rip
					     : h->insn_len;
}

enum vmexit_action svm_handle_exit(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	uint32_t code = vc->exit.reason;
	const struct svm_exit_handler *h;

	vc->exit.qual = vmcb_of(vc)->control.exitinfo1;
	vc->exit.info2 = vmcb_of(vc)->control.exitinfo2;
	if (code == SVM_EXIT_NPF)
		return svm_exit_npf(e);
	if (code >= SVM_NEXIT_TABLE || !svm_exit_handlers[code].handle)
		return vmexit_unhandled(e, svm_exit_name(code));
	h = &svm_exit_handlers[code];
	svm_set_inst_len(e, h);
	return h->handle(e);
}


/* Names for reports (Appendix C). */
static const char *const svm_exit_names[SVM_NEXIT_TABLE] = {
	[SVM_EXIT_INTR] = "physical interrupt",
	[SVM_EXIT_NMI] = "NMI",
	[SVM_EXIT_SMI] = "SMI",
	[SVM_EXIT_INIT] = "INIT",
	[SVM_EXIT_VINTR] = "virtual interrupt",
	[SVM_EXIT_CR0_SEL_WRITE] = "selective CR0 write",
	[SVM_EXIT_IDTR_READ] = "IDTR read",
	[SVM_EXIT_GDTR_READ] = "GDTR read",
	[SVM_EXIT_LDTR_READ] = "LDTR read",
	[SVM_EXIT_TR_READ] = "TR read",
	[SVM_EXIT_IDTR_WRITE] = "IDTR write",
	[SVM_EXIT_GDTR_WRITE] = "GDTR write",
	[SVM_EXIT_LDTR_WRITE] = "LDTR write",
	[SVM_EXIT_TR_WRITE] = "TR write",
	[SVM_EXIT_RDTSC] = "RDTSC",
	[SVM_EXIT_RDPMC] = "RDPMC",
	[SVM_EXIT_PUSHF] = "PUSHF",
	[SVM_EXIT_POPF] = "POPF",
	[SVM_EXIT_CPUID] = "CPUID",
	[SVM_EXIT_RSM] = "RSM",
	[SVM_EXIT_IRET] = "IRET",
	[SVM_EXIT_SWINT] = "software interrupt",
	[SVM_EXIT_INVD] = "INVD",
	[SVM_EXIT_PAUSE] = "PAUSE",
	[SVM_EXIT_HLT] = "HLT",
	[SVM_EXIT_INVLPG] = "INVLPG",
	[SVM_EXIT_INVLPGA] = "INVLPGA",
	[SVM_EXIT_IOIO] = "I/O instruction",
	[SVM_EXIT_MSR] = "RDMSR/WRMSR",
	[SVM_EXIT_TASK_SWITCH] = "task switch",
	[SVM_EXIT_FERR_FREEZE] = "FERR freeze",
	[SVM_EXIT_SHUTDOWN] = "shutdown (triple fault)",
	[SVM_EXIT_VMRUN] = "VMRUN",
	[SVM_EXIT_VMMCALL] = "VMMCALL",
	[SVM_EXIT_VMLOAD] = "VMLOAD",
	[SVM_EXIT_VMSAVE] = "VMSAVE",
	[SVM_EXIT_STGI] = "STGI",
	[SVM_EXIT_CLGI] = "CLGI",
	[SVM_EXIT_SKINIT] = "SKINIT",
	[SVM_EXIT_RDTSCP] = "RDTSCP",
	[SVM_EXIT_ICEBP] = "ICEBP",
	[SVM_EXIT_WBINVD] = "WBINVD",
	[SVM_EXIT_MONITOR] = "MONITOR",
	[SVM_EXIT_MWAIT] = "MWAIT",
	[SVM_EXIT_MWAIT_CONDITIONAL] = "MWAIT (armed)",
	[SVM_EXIT_XSETBV] = "XSETBV",
	[SVM_EXIT_RDPRU] = "RDPRU",
	[SVM_EXIT_EFER_WRITE_TRAP] = "EFER write trap",
};

const char *svm_exit_name(uint32_t code)
{
	if (code < SVM_NEXIT_TABLE && svm_exit_names[code])
		return svm_exit_names[code];
	if (code < SVM_EXIT_DR0_READ)
		return code < SVM_EXIT_CR0_WRITE ? "CR read" : "CR write";
	if (code >= SVM_EXIT_DR0_READ && code < SVM_EXIT_EXCP_BASE)
		return code < SVM_EXIT_DR0_WRITE ? "DR read" : "DR write";
	if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_INTR)
		return "exception";
	switch (code) {
	case SVM_EXIT_NPF: return "nested page fault";
	case SVM_EXIT_AVIC_INCOMPLETE_IPI: return "AVIC incomplete IPI";
	case SVM_EXIT_AVIC_NOACCEL: return "AVIC no acceleration";
	case SVM_EXIT_VMGEXIT: return "VMGEXIT";
	case SVM_EXIT_INVALID: return "VMEXIT_INVALID";
	default: return "unknown exit code";
	}
}
