/*
 * A GDB remote-serial-protocol stub in the VMM: gdb, on the build
 * machine, debugs a guest kernel over COM2 (kern/com2.c) while the host
 * and other guests keep running. Packets: ?, g, G, p, P, m, M, c, s, Z0,
 * z0, D, k, qSupported, qAttached, H; anything else gets the empty
 * "unsupported" reply. This file keeps the target, its breakpoints and
 * its stops; vmm/gdbdata.c reads and writes registers and memory,
 * vmm/gdbpkt.c frames packets. docs/guest-debugging.md says how it works.
 *
 * Invariants:
 * - One VM at a time is the target (stub.target, its VM id): the one `vmm -g`
 *   named, else the first live guest when gdb first asks (`?` or Ctrl-C).
 * - Everything here runs under the kernel lock: gdbstub_poll() from the
 *   boot CPU's timer tick, the other entry points from the run loop
 *   (vmm/vmm.c) and the exit handlers.
 * - Nothing here waits for gdb: gdbstub_poll() handles at most
 *   POLL_EVENTS packets (or Ctrl-Cs) and POLL_BYTES input bytes per
 *   tick, and only while the transmit ring has room for any reply
 *   (vmm/gdbpkt.c frames packets, kern/com2.c moves the bytes).
 * - Registers and memory are read or written only while the target is
 *   stopped (dbg.stopped: the env is not runnable, its registers are in
 *   env_tf); otherwise the reply is an error.
 * - Guest memory is reached only through guest_gva2gpa()/guest_gpa2kva()
 *   here and guest_gva_copy() in vmm/gdbdata.c (vmm/gva.c, vmm/ept.c):
 *   a bad address is an error reply.
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
#include <vmm/gdbpkt.h>
#include <vmm/gdbdata.h>
#include <vmm/gva.h>
#include <vmm/gdbstub.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>

/*
 * Work per timer tick: input bytes looked at, and events (packets,
 * Ctrl-Cs, bad packets) handled. gdb waits for each reply before it sends
 * the next packet, so it needs one event per tick (a round trip costs a
 * tick at most); a few more let a burst through sooner. The bytes cover
 * a largest packet in eight ticks. Both bound what a flood of packets or
 * of noise costs the boot CPU per tick: a few hundred byte steps and a
 * few replies (each at most PKT_MAX bytes, and only while the transmit
 * ring has room for it).
 */
#define POLL_BYTES 512
#define POLL_EVENTS 4
#define MAX_BREAKPOINTS 32
#define INT3 0xCC
/* gdb's signal numbers (gdb/signals.def). */
#define GDB_SIGINT 2
#define GDB_SIGTRAP 5
struct breakpoint {
	bool used;
	uint64_t gva, gpa;
	uint8_t orig;
};

static struct {
	bool present;           /* COM2 exists */
	envid_t target;         /* the debugged VM's id, 0 for none */
	bool waiting;           /* gdb waits for a stop reply */
	struct breakpoint bps[MAX_BREAKPOINTS];
} stub;

void gdbstub_init(void)
{
	stub.present = com2_init();
	if (stub.present)
		cprintf("vmm: gdb stub for guests on COM2\n");
}

/* ---- Packets --------------------------------------------------------------- */

static void put_packet(const char *data)
{
	gdbpkt_put(data);
}

/* ---- The target --------------------------------------------------------------- */

static bool live_guest(struct Env *e)
{
	return e->env_type == ENV_TYPE_GUEST && e->env_vcpu &&
	       vm_find(e->env_vcpu->vm->id) == e->env_vcpu->vm;
}

/* Is e a vCPU of the target VM? */
static bool of_target(struct Env *e)
{
	return e->env_vcpu && stub.target && e->env_vcpu->vm->id == stub.target;
}

/* The target VM's first vCPU (the one gdb sees), found by the VM's id. */
static struct Env *target(void)
{
	struct Vm *vm = stub.target ? vm_find(stub.target) : NULL;

	return vm ? vm_boot_env(vm) : NULL;
}

static struct Env *stopped_target(void)
{
	struct Env *e = target();

	return e && e->env_vcpu->vm->dbg.stopped ? e : NULL;
}

/* Ask e to stop before its next entry, with signal sig. */
static void request_stop(struct Env *e, int sig)
{
	struct GuestDebug *d = &e->env_vcpu->vm->dbg;

	if (d->stopped)
		return;
	d->stop_req = true;
	d->signal = sig;
	d->bp = true;
	d->active = true;
}

static void attach(struct Env *e)
{
	stub.target = e->env_vcpu->vm->id;
	e->env_vcpu->vm->dbg.bp = true;
	e->env_vcpu->vm->dbg.active = true;
}

/* No target yet: the first live guest becomes one. */
static struct Env *find_target(void)
{
	struct Vm *vm;
	struct Env *e;

	if (target())
		return target();
	/* The oldest live VM (vm_next goes oldest first). */
	if (!(vm = vm_next(NULL)) || !(e = vm_boot_env(vm)))
		return NULL;
	attach(e);
	return e;
}

static void send_stop_reply(struct Env *e)
{
	/* "S" and the signal number as two hex digits. */
	char r[4] = "S";
	uint8_t sig = e->env_vcpu->vm->dbg.signal;

	gdbpkt_put_hex(r + 1, &sig, sizeof(sig));
	put_packet(r);
	stub.waiting = false;
}

/* e stops for the debugger: not runnable until gdb resumes it. */
static void stop(struct Env *e, int sig)
{
	struct GuestDebug *d = &e->env_vcpu->vm->dbg;

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
	if (stub.waiting && of_target(e))
		send_stop_reply(e);
}

static void resume(struct Env *e, bool step)
{
	struct GuestDebug *d = &e->env_vcpu->vm->dbg;

	d->step = step;
	d->stopped = false;
	d->active = true;
	e->env_status = ENV_RUNNABLE;
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
	uint8_t *kva = guest_gpa2kva(e->env_vcpu->vm, b->gpa, 1, EPTE_R);

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
	if (*p++ != ',' || !gdbpkt_parse_range(&p, &addr, &kind)) {
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
	gdbdata_read_state(e, &s);
	if (guest_gva2gpa(e, &s, addr, &gpa, false) < 0 ||
	    !(kva = guest_gpa2kva(e->env_vcpu->vm, gpa, 1, EPTE_R))) {
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
		if (!gdbpkt_parse_hex(&p, &addr)) {
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
	struct GuestDebug *d = &e->env_vcpu->vm->dbg;

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
		gdbdata_read_regs(e);
		return;
	case 'G':
		gdbdata_write_regs(e, p + 1);
		return;
	case 'p':
	case 'P':
		gdbdata_one_reg(e, p + 1, p[0] == 'P');
		return;
	case 'm':
		gdbdata_read_mem(e, p + 1);
		return;
	case 'M':
		gdbdata_write_mem(e, p + 1);
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
		if (e->env_vcpu->vm->dbg.stopped) {
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
	if (e->env_vcpu->vm->dbg.stopped)
		send_stop_reply(e);
	else
		request_stop(e, GDB_SIGINT);
}

/*
 * From the boot CPU's timer tick: serve what gdb sent, within this
 * tick's budget (POLL_BYTES, POLL_EVENTS); the rest waits for the next
 * tick. Input is taken only while any reply would fit: a client that
 * does not read holds itself back. '+' and '-' acks are dropped (gdb
 * resends on its own timeout).
 */
void gdbstub_poll(void)
{
	unsigned bytes = POLL_BYTES, events;
	const char *p;
	struct Env *e;

	if (!stub.present)
		return;
	/* gdb asked before any guest existed: pick one now. */
	if (stub.waiting && !target() && (e = find_target()))
		request_stop(e, GDB_SIGTRAP);
	for (events = 0; events < POLL_EVENTS && gdbpkt_can_reply(); events++) {
		switch (gdbpkt_receive(&bytes, &p)) {
		case GDBPKT_NONE:
			events = POLL_EVENTS;
			break;
		case GDBPKT_INTERRUPT:
			interrupt();
			break;
		case GDBPKT_PACKET:
			handle_packet(p);
			break;
		case GDBPKT_BAD:
			break;
		}
	}
	/* A new tick's budget for the UART, and room freed above. */
	com2_tick();
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
	struct GuestDebug *d = &e->env_vcpu->vm->dbg;

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
	if (!of_target(e))
		return VMEXIT_RESUME;
	stop(e, GDB_SIGTRAP);
	return VMEXIT_BLOCK;
}

/* From vmm_guest_free: gdb hears that its guest is gone. */
void gdbstub_guest_free(struct Env *e)
{
	if (!stub.present || !of_target(e))
		return;
	memset(stub.bps, 0, sizeof(stub.bps));
	if (stub.waiting)
		put_packet("W00");
	stub.target = 0;
	stub.waiting = false;
}
