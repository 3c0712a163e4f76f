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
#include <vmm/gpr.h>
#include <vmm/gva.h>
#include <vmm/insn.h>
#include <vmm/insndec.h>
#include <vmm/vmm.h>

#define BITS_PER_BYTE 8

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
		regs[i] = guest_gpr(&e->env_tf, i);
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
	uint64_t reg = guest_gpr(&e->env_tf, n), rflags = e->env_tf.tf_eflags;

	insn_read_apply(mi, val, &reg, &rflags);
	guest_gpr_set(&e->env_tf, n, reg);
	e->env_tf.tf_eflags = rflags;
}
