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
 *   step checked, or from the fetch cache (below): any CS base, RIP or
 *   page table the guest chose is an error return and a line on the
 *   console, never a host fault.
 * - Neither function moves RIP (the caller does, by mi->len, once the
 *   device has answered).
 * - The fetch cache (vc->pc.fetch, struct insn_fetch) holds one
 *   reference to the host page its linear page translated to when it was
 *   filled (the guest's RAM, read-allowed in the nested tables then), so
 *   that page is never freed or given to anyone else while cached. It
 *   also records the translation's inputs: the paging registers, the
 *   VM's ept_gen, and each guest page-table entry the walk read (its
 *   kernel address and value). An entry is used only while all of them
 *   are the same (an entry's Accessed and Dirty bits aside, which the
 *   CPU sets and the translation does not depend on), so it is exactly
 *   what a fresh walk would give: a guest that rewrites a PTE or PDE
 *   (INVLPG, no CR3 write) or a VMM program that remaps a page misses.
 *   It is replaced at the next miss and dropped (the reference with it)
 *   when the vCPU is freed (mmio_fetch_drop, from devexit_guest_free).
 * - A recorded entry's kernel address is read only after ept_gen was
 *   found unchanged: the page holding it was then mapped in the nested
 *   tables at fill time and still is (replacing or freeing a leaf bumps
 *   ept_gen), so its leaf's reference keeps it the guest's page.
 * - Paging off, the cache holds a page only when the linear address is
 *   guest RAM (itself, no ELF shortcut of guest_gva2gpa): no entries.
 * - memo[c] is the last load decoded on CPU c, with its bytes and code
 *   mode, whose decoding read no register (memoizable: not a CMP/TEST/
 *   ALU form with a register operand): insndec.c is pure, so the same
 *   bytes in the same mode decode to the same load.
 */
#include <inc/error.h>
#include <inc/mmu.h>
#include <inc/stdio.h>

#include <inc/string.h>

#include <kern/env.h>
#include <kern/cpu.h>
#include <kern/pmap.h>
#include <vmm/ept.h>
#include <vmm/vm.h>
#include <vmm/gpr.h>
#include <vmm/gva.h>
#include <vmm/gvawalk.h>
#include <vmm/insn.h>
#include <vmm/insndec.h>
#include <vmm/vmm.h>

#define BITS_PER_BYTE 8
/* Entry bits the CPU sets as it walks; no translation depends on them. */
#define WALK_SET_BITS (PTE_A | PTE_D)

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

/* Was f filled under the paging registers of s? */
static bool same_paging(const struct insn_fetch *f,
			const struct guest_dbgstate *s)
{
	return f->cr0 == s->cr0 && f->cr3 == s->cr3 && f->cr4 == s->cr4 &&
	       f->efer == s->efer;
}

/* A guest page-table entry at kernel address kva, of bytes bytes. */
static inline uint64_t entry_at(const void *kva, unsigned bytes)
{
	return bytes == sizeof(uint32_t) ? *(const uint32_t *)kva
					 : *(const uint64_t *)kva;
}

/* The walk fetch_fill makes: the VM, and the entries read so far. */
struct walk_record {
	struct Vm *vm;
	unsigned n;
	struct insn_fetch_entry path[INSN_FETCH_LEVELS];
};

/* gva_walk's reader for fetch_fill: gva.c's checks (guest_gpa2kva), and
 * each entry's kernel address and value kept. */
static int read_recorded(void *arg, uint64_t gpa, unsigned bytes,
			 uint64_t *out)
{
	struct walk_record *w = arg;
	const void *p;

	if (w->n >= INSN_FETCH_LEVELS ||
	    !(p = guest_gpa2kva(w->vm, gpa, bytes, EPTE_R)))
		return -E_FAULT;
	*out = entry_at(p, bytes);
	w->path[w->n].kva = p;
	w->path[w->n].val = *out;
	w->path[w->n].bytes = bytes;
	w->n++;
	return 0;
}

/* Cache the host page behind linear lin (fetched just now through the
 * walk) in e's fetch cache, in place of the one there, with the walk's
 * entries. Nothing is cached when the walk or the page fails. */
static void fetch_fill(struct Env *e, const struct guest_dbgstate *s,
		       uint64_t lin)
{
	struct insn_fetch *f = &e->env_vcpu->pc.fetch;
	struct walk_record w = { .vm = e->env_vcpu->vm };
	struct PageInfo *pp;
	uint64_t gpa;
	int perm = 0;

	if (!(s->cr0 & CR0_PG) && !guest_ram(w.vm, lin))
		return;
	if (gva_walk(s, lin, read_recorded, &w, &gpa, false) < 0 ||
	    !guest_ram(w.vm, gpa))
		return;
	pp = ept_page_lookup(w.vm->ept_root, ROUNDDOWN(gpa, PGSIZE), &perm);
	if (!pp || !(perm & EPTE_R))
		return;
	pp->pp_ref++;
	mmio_fetch_drop(e);
	f->pg = pp;
	f->kva = page2kva(pp);
	f->lin_page = ROUNDDOWN(lin, PGSIZE);
	f->cr0 = s->cr0;
	f->cr3 = s->cr3;
	f->cr4 = s->cr4;
	f->efer = s->efer;
	f->ept_gen = w.vm->ept_gen;
	f->nlevels = w.n;
	memcpy(f->path, w.path, sizeof(w.path));
}

/* Does every guest entry f's translation read still hold its value
 * (Accessed and Dirty aside)? Only after ept_gen matched (above). */
static inline bool same_path(const struct insn_fetch *f)
{
	unsigned i;

	for (i = 0; i < f->nlevels; i++)
		if ((entry_at(f->path[i].kva, f->path[i].bytes) ^
		     f->path[i].val) & ~(uint64_t)WALK_SET_BITS)
			return false;
	return true;
}

/* The host address of linear lin if the fetch cache holds its page
 * under s's paging registers, the VM's nested tables and the guest's
 * page-table entries it was filled with, else NULL. The order matters:
 * ept_gen before any recorded entry is read. */
static const uint8_t *fetch_cached(struct Env *e,
				   const struct guest_dbgstate *s, uint64_t lin)
{
	struct insn_fetch *f = &e->env_vcpu->pc.fetch;

	if (!f->pg || f->lin_page != ROUNDDOWN(lin, PGSIZE) ||
	    !same_paging(f, s) || f->ept_gen != e->env_vcpu->vm->ept_gen ||
	    !same_path(f))
		return NULL;
	return f->kva + PGOFF(lin);
}

/*
 * Up to len bytes of code at linear lin into code: the bytes copied (as
 * guest_gva_copy returns). The page of the last fetch comes from the
 * cache, without a walk of the guest's or the nested tables; the rest of
 * an instruction that crosses into the next page is walked.
 */
static int fetch_code(struct Env *e, const struct guest_dbgstate *s,
		      uint64_t lin, uint8_t *code, size_t len)
{
	const uint8_t *p = fetch_cached(e, s, lin);
	size_t n = MIN(len, PGSIZE - PGOFF(lin));
	int r;

	if (!p) {
		r = guest_gva_copy(e, s, lin, code, len, false);
		if (r > 0)
			fetch_fill(e, s, lin);
		return r;
	}
	memcpy(code, p, n);
	if (n == len)
		return n;
	r = guest_gva_copy(e, s, lin + n, code + n, len - n, false);
	return r > 0 ? (int)n + r : (int)n;
}

void mmio_fetch_drop(struct Env *e)
{
	struct insn_fetch *f = &e->env_vcpu->pc.fetch;

	if (f->pg)
		page_decref(f->pg);
	f->pg = NULL;
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

/* memcmp(a, b, n) == 0, inlined: lib/string.c's costs a call and more
 * per byte, on every MMIO exit. */
static inline bool same_bytes(const uint8_t *a, const uint8_t *b,
			      unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * May load mi, decoded from code with registers regs, go in the memo?
 * Only if its decoding read no register: a CMP/TEST/ALU form's other
 * operand (wval) is a register's value at the exit, which the memo must
 * not replay later. Decoding again with every register's bits flipped
 * changes such a wval (it is a register masked to a size of at least a
 * byte) and leaves any other the same. Costs a decode on a miss only.
 */
static bool memoizable(const uint8_t *code, enum insn_mode mode,
		       const uint64_t *regs, const struct mmio_insn *mi)
{
	uint64_t flipped[INSN_NGPRS];
	struct mmio_insn again;
	const char *why = "";
	unsigned i;

	if (mi->write || mi->len > INSN_MAX_LEN)
		return false;
	for (i = 0; i < INSN_NGPRS; i++)
		flipped[i] = ~regs[i];
	return insn_decode_bytes(code, mi->len, mode, flipped, &again,
				 &why) == 0 &&
	       again.wval == mi->wval;
}

/*
 * The memo's load into *mi if the instruction at e's RIP (state s) is
 * it and its page is the fetch cache's: 0, no walk, no allocation,
 * nothing printed, so the fast path may call it. -E_NOT_FOUND if not.
 */
static int memo_lookup(struct Env *e, const struct guest_dbgstate *s,
		       struct mmio_insn *mi)
{
	enum insn_mode mode = insn_code_mode(s, e->env_tf.tf_eflags);
	uint64_t lin = insn_code_linear(s, mode, e->env_tf.tf_rip);
	const uint8_t *p = fetch_cached(e, s, lin);
	struct load_memo *lm = &memo[cpunum()];

	if (!p || lm->mode != mode || lm->mi.len > PGSIZE - PGOFF(lin) ||
	    !same_bytes(p, lm->code, lm->mi.len))
		return -E_NOT_FOUND;
	*mi = lm->mi;
	return 0;
}

int mmio_decode_cached(struct Env *e, struct mmio_insn *mi)
{
	struct guest_dbgstate s;

	if (vmm_ops->dbg_read(e, &s) < 0)
		return -E_INVAL;
	return memo_lookup(e, &s, mi);
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
	/* The common case: the memo's load, in the cached page. */
	if (memo_lookup(e, &s, mi) == 0)
		return 0;
	mode = insn_code_mode(&s, e->env_tf.tf_eflags);
	lin = insn_code_linear(&s, mode, e->env_tf.tf_rip);
	n = fetch_code(e, &s, lin, code, sizeof(code));
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
	if (memoizable(code, mode, regs, mi)) {
		lm->mode = mode;
		memcpy(lm->code, code, mi->len);
		lm->mi = *mi;
	}
	return 0;
}

bool mmio_complete_read_fast(struct Env *e, const struct mmio_insn *mi,
			     uint64_t val)
{
	unsigned n = insn_dst_reg(mi);
	uint64_t reg = guest_gpr(&e->env_tf, n), rflags = e->env_tf.tf_eflags;

	insn_read_apply(mi, val, &reg, &rflags);
	if (n % GUEST_NGPRS == GUEST_GPR_RSP ||
	    rflags != e->env_tf.tf_eflags)
		return false;
	guest_gpr_set(&e->env_tf, n, reg);
	return true;
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
