/*
 * A GDB remote-serial-protocol stub in the VMM: gdb, on the build
 * machine, debugs a guest kernel over COM2 (kern/com2.c) while the host
 * and other guests keep running. Packets: ?, g, G, p, P, m, M, c, s, Z0,
 * z0, D, k, qSupported, qAttached, H; anything else gets the empty
 * "unsupported" reply. docs/guest-debugging.md says how it works.
 *
 * Invariants:
 * - One guest at a time is the target (stub.target): the one `vmm -g`
 *   named, else the first live guest when gdb first asks (`?` or Ctrl-C).
 * - Everything here runs under the kernel lock: gdbstub_poll() from the
 *   boot CPU's timer tick, the other entry points from the run loop
 *   (vmm/vmm.c) and the exit handlers.
 * - Registers and memory are read or written only while the target is
 *   stopped (dbg.stopped: the env is not runnable, its registers are in
 *   env_tf); otherwise the reply is an error.
 * - Guest memory is reached only through guest_gva_copy()/guest_gpa2kva()
 *   (vmm/gva.c, vmm/ept.c): a bad address is an error reply.
 * - A breakpoint is an INT3 byte in guest memory whose original byte and
 *   guest-physical address are kept in stub.bps; detaching, or the guest
 *   going away, forgets them all (detach restores the bytes first).
 * - A malformed packet gets an error reply or is dropped; nothing a
 *   client sends can fault or panic the host.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/stdio.h>

#include <kern/env.h>
#include <kern/sched.h>
#include <kern/com2.h>
#include <vmm/ept.h>
#include <vmm/gva.h>
#include <vmm/gdbstub.h>

/* Largest packet payload either way; advertised in qSupported (hex). */
#define PKT_MAX 4096
#define PKT_MAX_HEX "1000"
/* LSR polls to wait for each byte inside a packet. */
#define BYTE_SPINS 2000000
/* LSR polls to wait for gdb's next packet after a reply, so that a
 * burst of packets does not wait a timer tick each. */
#define LINGER_SPINS 200000
#define CTRL_C 0x03
#define MAX_BREAKPOINTS 32
#define INT3 0xCC
/* gdb's signal numbers (gdb/signals.def). */
#define GDB_SIGINT 2
#define GDB_SIGTRAP 5
/* Error replies: E + errno-like number, as gdb shows them. */
#define ERR_STATE "E01"     /* the target is not stopped / no target */
#define ERR_SYNTAX "E02"    /* a malformed packet */
#define ERR_MEMORY "E14"    /* EFAULT: an address that does not translate */
#define ERR_FULL "E28"      /* ENOSPC: breakpoint table full */

/* gdb's x86-64 'g' layout: 16 GPRs, rip (8 bytes); eflags, cs, ss, ds,
 * es, fs, gs (4 bytes each). */
#define NGPR 16
#define REG_RIP 16
#define REG_EFLAGS 17
#define REG_CS 18
#define NREGS 24
#define G_BYTES (NGPR * 8 + 8 + (NREGS - REG_EFLAGS) * 4)

struct breakpoint {
	bool used;
	uint64_t gva, gpa;
	uint8_t orig;
};

static struct {
	bool present;           /* COM2 exists */
	envid_t target;         /* the debugged guest, 0 for none */
	bool waiting;           /* gdb waits for a stop reply */
	struct breakpoint bps[MAX_BREAKPOINTS];
	char in[PKT_MAX + 1];
	char out[PKT_MAX + 1];
} stub;

static const char hexdigits[] = "0123456789abcdef";

void gdbstub_init(void)
{
	stub.present = com2_init();
	if (stub.present)
		cprintf("vmm: gdb stub for guests on COM2\n");
}

/* ---- Packets ------------------------------------------------------------- */

static void put_packet(const char *data)
{
	uint8_t sum = 0;
	const char *p;

	com2_putc('$');
	for (p = data; *p; p++) {
		com2_putc(*p);
		sum += (uint8_t)*p;
	}
	com2_putc('#');
	com2_putc(hexdigits[sum >> 4]);
	com2_putc(hexdigits[sum & 0xF]);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int getc_wait(void)
{
	int c, i;

	for (i = 0; i < BYTE_SPINS; i++)
		if ((c = com2_getc()) >= 0)
			return c;
	return -1;
}

/* After '$': the payload into stub.in, checksum checked and acked.
 * false for a bad or truncated packet. */
static bool read_packet(void)
{
	int c, hi, lo, n = 0;
	uint8_t sum = 0;

	for (;;) {
		if ((c = getc_wait()) < 0)
			return false;
		if (c == '#')
			break;
		if (n == PKT_MAX)
			return false;
		stub.in[n++] = c;
		sum += (uint8_t)c;
	}
	stub.in[n] = '\0';
	hi = hexval(getc_wait());
	lo = hexval(getc_wait());
	if (hi < 0 || lo < 0 || ((hi << 4) | lo) != sum) {
		com2_putc('-');
		return false;
	}
	com2_putc('+');
	return true;
}

/* Parse hex digits at *p into *v, up to a non-hex byte; false if none. */
static bool parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	int d, n = 0;

	*v = 0;
	while ((d = hexval(*s)) >= 0 && n < 16) {
		*v = (*v << 4) | d;
		s++;
		n++;
	}
	*p = s;
	return n > 0;
}

/* Little-endian bytes <-> hex, as gdb sends register and memory values. */
static char *put_hex(char *o, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		*o++ = hexdigits[b[i] >> 4];
		*o++ = hexdigits[b[i] & 0xF];
	}
	*o = '\0';
	return o;
}

static bool get_hex(const char *s, void *buf, size_t len)
{
	uint8_t *b = buf;
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if ((hi = hexval(s[2 * i])) < 0 || (lo = hexval(s[2 * i + 1])) < 0)
			return false;
		b[i] = (hi << 4) | lo;
	}
	return true;
}

/* ---- The target --------------------------------------------------------------- */

static bool live_guest(struct Env *e)
{
	return e->env_type == ENV_TYPE_GUEST && e->env_guest &&
	       e->env_status != ENV_FREE && e->env_status != ENV_DYING;
}

static struct Env *target(void)
{
	struct Env *e;

	if (!stub.target || envid2env(stub.target, &e, false) < 0 ||
	    !live_guest(e))
		return NULL;
	return e;
}

static struct Env *stopped_target(void)
{
	struct Env *e = target();

	return e && e->env_guest->dbg.stopped ? e : NULL;
}

/* Ask e to stop before its next entry, with signal sig. */
static void request_stop(struct Env *e, int sig)
{
	struct GuestDebug *d = &e->env_guest->dbg;

	if (d->stopped)
		return;
	d->stop_req = true;
	d->signal = sig;
	d->bp = true;
	d->active = true;
}

static void attach(struct Env *e)
{
	stub.target = e->env_id;
	e->env_guest->dbg.bp = true;
	e->env_guest->dbg.active = true;
}

/* No target yet: the first live guest becomes one. */
static struct Env *find_target(void)
{
	int i;

	if (target())
		return target();
	for (i = 0; i < NENV; i++)
		if (live_guest(&envs[i])) {
			attach(&envs[i]);
			return &envs[i];
		}
	return NULL;
}

static void send_stop_reply(struct Env *e)
{
	char r[4];

	r[0] = 'S';
	r[1] = hexdigits[(e->env_guest->dbg.signal >> 4) & 0xF];
	r[2] = hexdigits[e->env_guest->dbg.signal & 0xF];
	r[3] = '\0';
	put_packet(r);
	stub.waiting = false;
}

/* e stops for the debugger: not runnable until gdb resumes it. */
static void stop(struct Env *e, int sig)
{
	struct GuestDebug *d = &e->env_guest->dbg;

	d->stop_req = false;
	d->stopped = true;
	d->signal = sig;
	if (d->step) {
		d->step = false;
		if (d->tf_added)
			e->env_tf.tf_eflags &= ~(uint64_t)FL_TF;
		d->tf_added = false;
	}
	e->env_status = ENV_NOT_RUNNABLE;
	if (stub.waiting && e->env_id == stub.target)
		send_stop_reply(e);
}

static void resume(struct Env *e, bool step)
{
	struct GuestDebug *d = &e->env_guest->dbg;

	d->step = step;
	d->stopped = false;
	d->active = true;
	e->env_status = ENV_RUNNABLE;
}

/* The state vendor code keeps; zeroes (paging off) if unreadable. */
static void read_state(struct Env *e, struct guest_dbgstate *s)
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

static void cmd_read_regs(struct Env *e)
{
	struct guest_dbgstate s;
	char *o = stub.out;
	uint64_t v;
	size_t len;
	int n;

	read_state(e, &s);
	for (n = 0; n < NREGS; n++) {
		len = reg_get(e, &s, n, &v);
		o = put_hex(o, &v, len);
	}
	put_packet(stub.out);
}

static void cmd_write_regs(struct Env *e, const char *p)
{
	struct guest_dbgstate s;
	uint64_t v;
	size_t len;
	int n;

	if ((size_t)strlen(p) < 2 * G_BYTES) {
		put_packet(ERR_SYNTAX);
		return;
	}
	read_state(e, &s);
	for (n = 0; n < NREGS; n++) {
		len = reg_get(e, &s, n, &v);
		v = 0;
		if (!get_hex(p, &v, len)) {
			put_packet(ERR_SYNTAX);
			return;
		}
		reg_set(e, &s, n, v);
		p += 2 * len;
	}
	put_packet("OK");
}

/* p N / P N=V: one register. */
static void cmd_one_reg(struct Env *e, const char *p, bool write)
{
	struct guest_dbgstate s;
	uint64_t n, v;
	size_t len;

	if (!parse_hex(&p, &n) || (write && *p++ != '=')) {
		put_packet(ERR_SYNTAX);
		return;
	}
	if (n >= NREGS) {
		put_packet(write ? ERR_SYNTAX : "");
		return;
	}
	read_state(e, &s);
	len = reg_get(e, &s, n, &v);
	if (!write) {
		put_hex(stub.out, &v, len);
		put_packet(stub.out);
		return;
	}
	v = 0;
	if ((size_t)strlen(p) != 2 * len || !get_hex(p, &v, len)) {
		put_packet(ERR_SYNTAX);
		return;
	}
	put_packet(reg_set(e, &s, n, v) ? "OK" : ERR_STATE);
}

/* ---- Memory --------------------------------------------------------------------- */

/* "ADDR,LEN" then, for writes, ':'. */
static bool parse_range(const char **p, uint64_t *addr, uint64_t *len)
{
	return parse_hex(p, addr) && *(*p)++ == ',' && parse_hex(p, len);
}

static void cmd_read_mem(struct Env *e, const char *p)
{
	static uint8_t buf[PKT_MAX / 2];
	struct guest_dbgstate s;
	uint64_t addr, len;
	int n;

	if (!parse_range(&p, &addr, &len) || *p) {
		put_packet(ERR_SYNTAX);
		return;
	}
	len = MIN(len, sizeof(buf));
	read_state(e, &s);
	if ((n = guest_gva_copy(e, &s, addr, buf, len, false)) <= 0) {
		put_packet(len ? ERR_MEMORY : "");
		return;
	}
	put_hex(stub.out, buf, n);
	put_packet(stub.out);
}

static void cmd_write_mem(struct Env *e, const char *p)
{
	static uint8_t buf[PKT_MAX / 2];
	struct guest_dbgstate s;
	uint64_t addr, len;

	if (!parse_range(&p, &addr, &len) || *p++ != ':' ||
	    len > sizeof(buf) || (size_t)strlen(p) != 2 * len ||
	    !get_hex(p, buf, len)) {
		put_packet(ERR_SYNTAX);
		return;
	}
	read_state(e, &s);
	if (len && guest_gva_copy(e, &s, addr, buf, len, true) != (int)len) {
		put_packet(ERR_MEMORY);
		return;
	}
	put_packet("OK");
}

/* ---- Breakpoints ------------------------------------------------------------------ */

static struct breakpoint *bp_find(uint64_t gva)
{
	int i;

	for (i = 0; i < MAX_BREAKPOINTS; i++)
		if (stub.bps[i].used && stub.bps[i].gva == gva)
			return &stub.bps[i];
	return NULL;
}

static void bp_remove(struct Env *e, struct breakpoint *b)
{
	uint8_t *kva = guest_gpa2kva(e->env_guest, b->gpa, 1, EPTE_R);

	if (kva && *kva == INT3)
		*kva = b->orig;
	b->used = false;
}

static void bp_remove_all(struct Env *e)
{
	int i;

	for (i = 0; i < MAX_BREAKPOINTS; i++)
		if (stub.bps[i].used)
			bp_remove(e, &stub.bps[i]);
}

/* Z0,ADDR,KIND / z0,ADDR,KIND: software breakpoints only. */
static void cmd_breakpoint(struct Env *e, const char *p, bool insert)
{
	struct guest_dbgstate s;
	struct breakpoint *b;
	uint64_t addr, kind, gpa;
	uint8_t *kva;
	int i;

	if (*p++ != '0') {
		put_packet("");
		return;
	}
	if (*p++ != ',' || !parse_range(&p, &addr, &kind)) {
		put_packet(ERR_SYNTAX);
		return;
	}
	b = bp_find(addr);
	if (!insert) {
		if (b)
			bp_remove(e, b);
		put_packet("OK");
		return;
	}
	if (b) {
		put_packet("OK");
		return;
	}
	read_state(e, &s);
	if (guest_gva2gpa(e, &s, addr, &gpa, false) < 0 ||
	    !(kva = guest_gpa2kva(e->env_guest, gpa, 1, EPTE_R))) {
		put_packet(ERR_MEMORY);
		return;
	}
	for (i = 0; i < MAX_BREAKPOINTS && stub.bps[i].used; i++)
		;
	if (i == MAX_BREAKPOINTS) {
		put_packet(ERR_FULL);
		return;
	}
	stub.bps[i] = (struct breakpoint){ true, addr, gpa, *kva };
	*kva = INT3;
	put_packet("OK");
}

/* ---- Resuming and detaching ---------------------------------------------------------- */

/* c [ADDR] / s [ADDR]: the reply is the stop reply, later. */
static void cmd_resume(struct Env *e, const char *p, bool step)
{
	uint64_t addr;

	if (*p) {
		if (!parse_hex(&p, &addr)) {
			put_packet(ERR_SYNTAX);
			return;
		}
		e->env_tf.tf_rip = addr;
	}
	stub.waiting = true;
	resume(e, step);
}

/* D: every breakpoint out, the guest runs on without us. */
static void detach(struct Env *e)
{
	struct GuestDebug *d = &e->env_guest->dbg;

	bp_remove_all(e);
	d->bp = false;
	d->stop_req = false;
	if (d->stopped)
		resume(e, false);
	stub.target = 0;
	stub.waiting = false;
}

/* ---- Dispatch ----------------------------------------------------------------------- */

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Packets that need a stopped target. */
static void stopped_packet(struct Env *e, const char *p)
{
	switch (p[0]) {
	case 'g':
		cmd_read_regs(e);
		return;
	case 'G':
		cmd_write_regs(e, p + 1);
		return;
	case 'p':
	case 'P':
		cmd_one_reg(e, p + 1, p[0] == 'P');
		return;
	case 'm':
		cmd_read_mem(e, p + 1);
		return;
	case 'M':
		cmd_write_mem(e, p + 1);
		return;
	case 'Z':
	case 'z':
		cmd_breakpoint(e, p + 1, p[0] == 'Z');
		return;
	case 'c':
	case 's':
		cmd_resume(e, p + 1, p[0] == 's');
		return;
	}
	put_packet("");
}

static void handle_packet(const char *p)
{
	struct Env *e;

	if (starts(p, "qSupported")) {
		put_packet("PacketSize=" PKT_MAX_HEX);
	} else if (starts(p, "qAttached")) {
		put_packet("1");
	} else if (p[0] == 'H') {
		put_packet("OK");
	} else if (p[0] == '?') {
		if (!(e = find_target())) {
			/* No guest yet: answer when one stops. */
			stub.waiting = true;
			return;
		}
		if (e->env_guest->dbg.stopped) {
			send_stop_reply(e);
			return;
		}
		stub.waiting = true;
		request_stop(e, GDB_SIGTRAP);
	} else if (p[0] == 'D' || p[0] == 'k') {
		if ((e = target()))
			detach(e);
		if (p[0] == 'D')
			put_packet("OK");
	} else if (strchr("gGpPmMZzcs", p[0])) {
		if (!(e = stopped_target()))
			put_packet(ERR_STATE);
		else
			stopped_packet(e, p);
	} else {
		put_packet("");
	}
}

/* Ctrl-C from gdb: stop the target (or the first guest) with SIGINT. */
static void interrupt(void)
{
	struct Env *e = find_target();

	stub.waiting = true;
	if (!e)
		return;
	if (e->env_guest->dbg.stopped)
		send_stop_reply(e);
	else
		request_stop(e, GDB_SIGINT);
}

/*
 * From the boot CPU's timer tick: serve whatever gdb sent. '+' acks are
 * dropped ('-' too: gdb resends on its own timeout).
 */
void gdbstub_poll(void)
{
	int c, linger = 0;
	struct Env *e;

	if (!stub.present)
		return;
	/* gdb asked before any guest existed: pick one now. */
	if (stub.waiting && !target() && (e = find_target()))
		request_stop(e, GDB_SIGTRAP);
	for (;;) {
		if ((c = com2_getc()) < 0) {
			if (linger-- <= 0)
				return;
			continue;
		}
		if (c == CTRL_C)
			interrupt();
		else if (c == '$' && read_packet()) {
			handle_packet(stub.in);
			linger = LINGER_SPINS;
		}
	}
}

/* ---- The run loop's and the exit handlers' side --------------------------------------- */

/* `vmm -g`: e stops before its first instruction and waits for gdb. */
int gdbstub_debug_guest(struct Env *e)
{
	if (!stub.present)
		return -E_NOT_SUPP;
	if (!live_guest(e))
		return -E_INVAL;
	if (target() && target() != e)
		detach(target());
	attach(e);
	request_stop(e, GDB_SIGTRAP);
	return 0;
}

/*
 * Before each entry of a guest with dbg.active (kernel lock held, on the
 * CPU about to enter it): stop it if asked, else set the intercepts the
 * debugger needs and RFLAGS.TF for a single step.
 */
void gdbstub_before_entry(struct Env *e)
{
	struct GuestDebug *d = &e->env_guest->dbg;

	if (d->stop_req) {
		stop(e, d->signal);
		sched_yield();
	}
	if (vmm_ops->dbg_intercepts(e, d->bp, d->step) < 0) {
		d->step = false;
		return;
	}
	if (d->step && !(e->env_tf.tf_eflags & FL_TF)) {
		e->env_tf.tf_eflags |= FL_TF;
		d->tf_added = true;
	}
	/* Detached and intercepts off: no more calls. */
	if (!d->bp && !d->step)
		d->active = false;
}

/*
 * A #BP or #DB exit. Ours (a breakpoint of the table at RIP, or the end
 * of a step) stops the guest. An INT3 of the guest's own, while gdb is
 * attached, stops it too, RIP past the INT3 as after a real trap.
 */
enum vmexit_action gdbstub_trap(struct Env *e, enum gdb_trap why)
{
	uint64_t rip = e->env_tf.tf_rip;

	if (why == GDB_TRAP_BREAKPOINT && !bp_find(rip)) {
		/* Some CPUs report RIP after the INT3. */
		if (bp_find(rip - 1))
			e->env_tf.tf_rip = rip - 1;
		else
			e->env_tf.tf_rip = rip + 1;
	}
	if (e->env_id != stub.target)
		return VMEXIT_RESUME;
	stop(e, GDB_SIGTRAP);
	return VMEXIT_BLOCK;
}

/* From vmm_guest_free: gdb hears that its guest is gone. */
void gdbstub_guest_free(struct Env *e)
{
	if (!stub.present || e->env_id != stub.target)
		return;
	memset(stub.bps, 0, sizeof(stub.bps));
	if (stub.waiting)
		put_packet("W00");
	stub.target = 0;
	stub.waiting = false;
}
