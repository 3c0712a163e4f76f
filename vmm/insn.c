/*
 * The MMIO decoder's guest half (vmm/insn.h): fetch the instruction at
 * the guest's CS:RIP through its segmentation and paging, size it by the
 * code's mode, decode it (vmm/insndec.c), and later put a read's value
 * where the instruction would.
 *
 * Invariants:
 * - Called in the exit path of e's nested page fault, on the CPU that
 *   runs e, with e stopped: its control structure is readable
 *   (vmm_ops->dbg_read) and env_tf holds all its general registers.
 * - The bytes are fetched through guest_gva_copy (vmm/gva.c), every
 *   step checked: any CS base, RIP or page table the guest chose is an
 *   error return and a line on the console, never a host fault.
 * - Neither function moves RIP (the caller does, by mi->len, once the
 *   device has answered).
 */
#include <inc/error.h>
#include <inc/mmu.h>
#include <inc/stdio.h>

#include <kern/env.h>
#include <vmm/gva.h>
#include <vmm/insn.h>
#include <vmm/insndec.h>
#include <vmm/vmm.h>

#define BITS_PER_BYTE 8

/* General register n (x86 numbering) in e's trapframe, which is packed
 * (no pointers into it): read and written by number. */
static uint64_t gpr_get(const struct Trapframe *tf, unsigned n)
{
	const struct PushRegs *r = &tf->tf_regs;

	switch (n % INSN_NGPRS) {
	case 0: return r->reg_rax;
	case 1: return r->reg_rcx;
	case 2: return r->reg_rdx;
	case 3: return r->reg_rbx;
	case INSN_RSP: return tf->tf_rsp;
	case 5: return r->reg_rbp;
	case 6: return r->reg_rsi;
	case 7: return r->reg_rdi;
	case 8: return r->reg_r8;
	case 9: return r->reg_r9;
	case 10: return r->reg_r10;
	case 11: return r->reg_r11;
	case 12: return r->reg_r12;
	case 13: return r->reg_r13;
	case 14: return r->reg_r14;
	default: return r->reg_r15;
	}
}

static void gpr_set(struct Trapframe *tf, unsigned n, uint64_t v)
{
	struct PushRegs *r = &tf->tf_regs;

	switch (n % INSN_NGPRS) {
	case 0: r->reg_rax = v; break;
	case 1: r->reg_rcx = v; break;
	case 2: r->reg_rdx = v; break;
	case 3: r->reg_rbx = v; break;
	case INSN_RSP: tf->tf_rsp = v; break;
	case 5: r->reg_rbp = v; break;
	case 6: r->reg_rsi = v; break;
	case 7: r->reg_rdi = v; break;
	case 8: r->reg_r8 = v; break;
	case 9: r->reg_r9 = v; break;
	case 10: r->reg_r10 = v; break;
	case 11: r->reg_r11 = v; break;
	case 12: r->reg_r12 = v; break;
	case 13: r->reg_r13 = v; break;
	case 14: r->reg_r14 = v; break;
	default: r->reg_r15 = v; break;
	}
}

/* The bytes that would not decode, for the guest's last line. */
static void print_bytes(const struct Env *e, enum insn_mode mode,
			const uint8_t *code, int n, const char *why)
{
	int i;

	cprintf("mmio: guest %08x rip 0x%lx (%d-bit code): %s; bytes:",
		e->env_id, e->env_tf.tf_rip, mode * BITS_PER_BYTE, why);
	for (i = 0; i < n; i++)
		cprintf(" %02x", code[i]);
	cprintf("\n");
}

int mmio_decode(struct Env *e, struct mmio_insn *mi)
{
	struct guest_dbgstate s;
	uint64_t regs[INSN_NGPRS], lin;
	uint8_t code[INSN_MAX_LEN];
	const char *why = "";
	enum insn_mode mode;
	unsigned i;
	int n, r;

	if ((r = vmm_ops->dbg_read(e, &s)) < 0) {
		cprintf("mmio: guest %08x: its state cannot be read here "
			"(%e)\n", e->env_id, r);
		return r;
	}
	mode = insn_code_mode(&s, e->env_tf.tf_eflags);
	lin = insn_code_linear(&s, mode, e->env_tf.tf_rip);
	n = guest_gva_copy(e, &s, lin, code, sizeof(code), false);
	if (n <= 0) {
		cprintf("mmio: guest %08x rip 0x%lx: cannot fetch the "
			"instruction at linear 0x%lx (%e)\n", e->env_id,
			e->env_tf.tf_rip, lin, n < 0 ? n : -E_FAULT);
		return n < 0 ? n : -E_FAULT;
	}
	for (i = 0; i < INSN_NGPRS; i++)
		regs[i] = gpr_get(&e->env_tf, i);
	if ((r = insn_decode_bytes(code, n, mode, regs, mi, &why)) < 0) {
		print_bytes(e, mode, code, n, why);
		return r;
	}
	return 0;
}

void mmio_complete_read(struct Env *e, const struct mmio_insn *mi,
			uint64_t val)
{
	unsigned n = insn_dst_reg(mi);
	uint64_t reg = gpr_get(&e->env_tf, n), rflags = e->env_tf.tf_eflags;

	insn_read_apply(mi, val, &reg, &rflags);
	gpr_set(&e->env_tf, n, reg);
	e->env_tf.tf_eflags = rflags;
}
