/*
 * A stopped guest's registers and memory for the VMM's gdb stub
 * (vmm/gdbstub.c): the g, G, p, P, m and M packets, each answered with
 * one reply.
 *
 * Invariants:
 * - Called only with a stopped target (its registers are in env_tf; the
 *   stub checks), under the kernel lock.
 * - Guest memory is reached only through guest_gva_copy() (vmm/gva.c):
 *   a bad address is an error reply; a malformed packet is ERR_SYNTAX.
 * - No reply is longer than PKT_MAX: a memory read is cut to
 *   PKT_MAX / 2 bytes.
 */
#include <inc/mmu.h>
#include <inc/string.h>

#include <kern/env.h>
#include <vmm/gva.h>
#include <vmm/gdbpkt.h>
#include <vmm/gdbdata.h>

/* gdb's x86-64 'g' layout: 16 GPRs, rip (8 bytes); eflags, cs, ss, ds,
 * es, fs, gs (4 bytes each). */
#define NGPR 16
#define REG_RIP 16
#define REG_EFLAGS 17
#define REG_CS 18
#define NREGS 24
#define G_BYTES (NGPR * 8 + 8 + (NREGS - REG_EFLAGS) * 4)

/* Where replies are built. */
static char out[PKT_MAX + 1];

/* The state vendor code keeps; zeroes (paging off) if unreadable. */
void gdbdata_read_state(struct Env *e, struct guest_dbgstate *s)
{
	if (vmm_ops->dbg_read(e, s) < 0)
		memset(s, 0, sizeof(*s));
}

/* ---- Registers ------------------------------------------------------------------ */

/* Where gdb's general registers 0-15 live in env_tf (a packed struct:
 * reached by offset and memcpy, never by a pointer to a member). */
#define TF_REG(f) offsetof(struct Trapframe, f)
static const size_t gpr_offset[NGPR] = {
	TF_REG(tf_regs.reg_rax), TF_REG(tf_regs.reg_rbx),
	TF_REG(tf_regs.reg_rcx), TF_REG(tf_regs.reg_rdx),
	TF_REG(tf_regs.reg_rsi), TF_REG(tf_regs.reg_rdi),
	TF_REG(tf_regs.reg_rbp), TF_REG(tf_rsp),
	TF_REG(tf_regs.reg_r8),  TF_REG(tf_regs.reg_r9),
	TF_REG(tf_regs.reg_r10), TF_REG(tf_regs.reg_r11),
	TF_REG(tf_regs.reg_r12), TF_REG(tf_regs.reg_r13),
	TF_REG(tf_regs.reg_r14), TF_REG(tf_regs.reg_r15),
};

static uint64_t gpr_get(struct Env *e, int n)
{
	uint64_t v;

	memcpy(&v, (uint8_t *)&e->env_tf + gpr_offset[n], sizeof(v));
	return v;
}

static void gpr_set(struct Env *e, int n, uint64_t v)
{
	memcpy((uint8_t *)&e->env_tf + gpr_offset[n], &v, sizeof(v));
}

/* Register n's value and size in gdb's layout. */
static size_t reg_get(struct Env *e, const struct guest_dbgstate *s, int n,
		      uint64_t *v)
{
	const uint16_t segs[] = { s->cs, s->ss, s->ds, s->es, s->fs, s->gs };

	if (n < NGPR) {
		*v = gpr_get(e, n);
		return 8;
	}
	if (n == REG_RIP) {
		*v = e->env_tf.tf_rip;
		return 8;
	}
	if (n == REG_EFLAGS) {
		*v = e->env_tf.tf_eflags;
		return 4;
	}
	*v = segs[n - REG_CS];
	return 4;
}

/* Write register n; segment selectors are read-only (a selector alone,
 * without its hidden descriptor state, means nothing): a change is
 * refused, the same value accepted. */
static bool reg_set(struct Env *e, const struct guest_dbgstate *s, int n,
		    uint64_t v)
{
	uint64_t old;

	if (n < NGPR)
		gpr_set(e, n, v);
	else if (n == REG_RIP)
		e->env_tf.tf_rip = v;
	else if (n == REG_EFLAGS)
		e->env_tf.tf_eflags = (uint32_t)v;
	else {
		reg_get(e, s, n, &old);
		return old == v;
	}
	return true;
}

void gdbdata_read_regs(struct Env *e)
{
	struct guest_dbgstate s;
	char *o = out;
	uint64_t v;
	size_t len;
	int n;

	gdbdata_read_state(e, &s);
	for (n = 0; n < NREGS; n++) {
		len = reg_get(e, &s, n, &v);
		o = gdbpkt_put_hex(o, &v, len);
	}
	gdbpkt_put(out);
}

void gdbdata_write_regs(struct Env *e, const char *p)
{
	struct guest_dbgstate s;
	uint64_t v;
	size_t len;
	int n;

	if ((size_t)strlen(p) < 2 * G_BYTES) {
		gdbpkt_put(ERR_SYNTAX);
		return;
	}
	gdbdata_read_state(e, &s);
	for (n = 0; n < NREGS; n++) {
		len = reg_get(e, &s, n, &v);
		v = 0;
		if (!gdbpkt_get_hex(p, &v, len)) {
			gdbpkt_put(ERR_SYNTAX);
			return;
		}
		reg_set(e, &s, n, v);
		p += 2 * len;
	}
	gdbpkt_put("OK");
}

/* p N / P N=V: one register. */
void gdbdata_one_reg(struct Env *e, const char *p, bool write)
{
	struct guest_dbgstate s;
	uint64_t n, v;
	size_t len;

	if (!gdbpkt_parse_hex(&p, &n) || (write && *p++ != '=')) {
		gdbpkt_put(ERR_SYNTAX);
		return;
	}
	if (n >= NREGS) {
		gdbpkt_put(write ? ERR_SYNTAX : "");
		return;
	}
	gdbdata_read_state(e, &s);
	len = reg_get(e, &s, n, &v);
	if (!write) {
		gdbpkt_put_hex(out, &v, len);
		gdbpkt_put(out);
		return;
	}
	v = 0;
	if ((size_t)strlen(p) != 2 * len || !gdbpkt_get_hex(p, &v, len)) {
		gdbpkt_put(ERR_SYNTAX);
		return;
	}
	gdbpkt_put(reg_set(e, &s, n, v) ? "OK" : ERR_STATE);
}

/* ---- Memory --------------------------------------------------------------------- */

void gdbdata_read_mem(struct Env *e, const char *p)
{
	static uint8_t buf[PKT_MAX / 2];
	struct guest_dbgstate s;
	uint64_t addr, len;
	int n;

	if (!gdbpkt_parse_range(&p, &addr, &len) || *p) {
		gdbpkt_put(ERR_SYNTAX);
		return;
	}
	len = MIN(len, sizeof(buf));
	gdbdata_read_state(e, &s);
	if ((n = guest_gva_copy(e, &s, addr, buf, len, false)) <= 0) {
		gdbpkt_put(len ? ERR_MEMORY : "");
		return;
	}
	gdbpkt_put_hex(out, buf, n);
	gdbpkt_put(out);
}

void gdbdata_write_mem(struct Env *e, const char *p)
{
	static uint8_t buf[PKT_MAX / 2];
	struct guest_dbgstate s;
	uint64_t addr, len;

	if (!gdbpkt_parse_range(&p, &addr, &len) || *p++ != ':' ||
	    len > sizeof(buf) || (size_t)strlen(p) != 2 * len ||
	    !gdbpkt_get_hex(p, buf, len)) {
		gdbpkt_put(ERR_SYNTAX);
		return;
	}
	gdbdata_read_state(e, &s);
	if (len && guest_gva_copy(e, &s, addr, buf, len, true) != (int)len) {
		gdbpkt_put(ERR_MEMORY);
		return;
	}
	gdbpkt_put("OK");
}
