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
 * - memo[c] is the last load decoded on CPU c, with its bytes and code
 *   mode: insndec.c is pure and reads registers only for a store's
 *   value, so the same bytes in the same mode decode to the same load.
 */
#include <inc/error.h>
#include <inc/mmu.h>
#include <inc/stdio.h>

#include <inc/string.h>

#include <kern/env.h>
#include <kern/cpu.h>
#include <vmm/gpr.h>
#include <vmm/gva.h>
#include <vmm/insn.h>
#include <vmm/insndec.h>
#include <vmm/vmm.h>

#define BITS_PER_BYTE 8

/* A guest reads a device register from the same few instructions over
 * and over (xv6's LAPIC ID read, thousands of times a second): the
 * last load each CPU decoded, to skip the decoder (about 470
 * instructions) when the bytes match. */
struct load_memo {
	enum insn_mode mode;      /* 0: none yet */
	uint8_t code[INSN_MAX_LEN];
	struct mmio_insn mi;
};
static struct load_memo memo[NCPU];

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
	struct load_memo *lm;
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
	lm = &memo[cpunum()];
	if (lm->mode == mode && lm->mi.len <= (unsigned)n &&
	    memcmp(code, lm->code, lm->mi.len) == 0) {
		*mi = lm->mi;
		return 0;
	}
	for (i = 0; i < INSN_NGPRS; i++)
		regs[i] = guest_gpr(&e->env_tf, i);
	if ((r = insn_decode_bytes(code, n, mode, regs, mi, &why)) < 0) {
		print_bytes(e, mode, code, n, why);
		return r;
	}
	if (!mi->write && mi->len <= INSN_MAX_LEN) {
		lm->mode = mode;
		memcpy(lm->code, code, mi->len);
		lm->mi = *mi;
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
