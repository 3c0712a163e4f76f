/*
 * The hand-off: a PC-kind guest's device exits go straight to the VMM
 * program that made it, and its answers straight back (the ABI and the
 * run page: inc/vmrun.h; the user side: vmmdev/run.c).
 *
 * The VMM program blocks in sys_vcpu_run(guest). The kernel completes
 * the exit handed over last (an IN's value into rAX, an INS's data into
 * guest memory, rSI/rDI/rCX moved on), marks the caller not runnable and
 * enters the guest on this CPU at once (env_run, no scheduler pass). At
 * the guest's next port-I/O exit the run loop (vmm/vmm.c) gets
 * VMEXIT_HANDOFF from devexit_pio and calls devexit_handoff, which fills
 * the run page and env_runs the VMM program on this CPU, sys_vcpu_run
 * returning 0. The same hand-off carries an MMIO exit (a nested page
 * fault outside RAM: the instruction decoded by vmm/insn.h, RIP moved,
 * a load's value written back at completion) and a HLT with interrupts
 * on and none pending, which first sleeps here (neither env runnable)
 * until the VMM's next device deadline or console input (devexit_tick);
 * a guest that runs past that deadline without a device exit is handed
 * over at its next exit of any kind (devexit_deadline).
 * The VMM asks for one interrupt vector at a time in the run page; the
 * core's event decision delivers it when the guest can take it: it is
 * the PC VM's external interrupt source (vmm/events.h, through the same
 * timer_pending the JOS guest's tick sets), and the next hand-off
 * reports it delivered. Everything else the guest
 * does (timer ticks, faults) is the run loop's as for any guest: the VMM
 * program sleeps meanwhile.
 *
 * Each vCPU of a VM has its own VMM process, run page and hand-off
 * state (vc->pc); what one vCPU's exit does never touches another's.
 * The VMM processes of one VM share their device models in user memory.
 *
 * Invariants:
 * - The VM's part (vm->pc: its kind) is set once by VMMCTL_PC on vCPU 0
 *   (vmm/vcpuctl.c); the rest is each vCPU's (vc->pc, vmm/guestpc.h):
 *   "its VMM program" below is always vc->pc.vmm of the vCPU at hand.
 * - A live PC vCPU, after its first sys_vcpu_run, is in one of three
 *   states: it runs or is runnable (pc.vmm_blocked, its VMM program
 *   sleeps); it waits for the VMM's answer (pc.waiting, not runnable;
 *   the VMM program runs or is runnable); or it is halted (pc.halted,
 *   pc.waiting and pc.vmm_blocked: neither runnable until
 *   devexit_tick). A vCPU waiting for SIPI (pc.sipi_wait) is in none of
 *   them: never runnable, its VMM program (if it called sys_vcpu_run
 *   yet) sleeps until VMMCTL_VCPU_START and the vCPU's first hand-off.
 * - RIP moves at the exit (vmexit_skip_instruction, on the CPU whose
 *   control structure is current), except for a REP string transfer the
 *   exit moves only part of: the guest executes it again for the rest.
 * - Every size and count the kernel acts on at completion is its own
 *   copy (pc.io, pc.io_count), never the run page's; a string transfer
 *   moves at most VMRUN_DATA_MAX bytes per exit, through guest_gva_copy
 *   (each page translated and checked). A guest address that is not
 *   guest RAM stops the guest with a line saying so.
 * - When a vCPU dies, a VMM program blocked for it wakes with
 *   -E_BAD_ENV; when a VMM program dies, the VMs of its vCPUs are
 *   destroyed (all their vCPUs: vmm_guest_free).
 */
#include <inc/error.h>
#include <inc/string.h>
#include <inc/mmu.h>
#include <inc/vmrun.h>
#include <inc/vmmctl.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <kern/sched.h>
#include <kern/lapic.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/vmcons.h>
#include <vmm/gva.h>
#include <vmm/insn.h>
#include <vmm/vm.h>
#include <vmm/devexit.h>
#include <vmm/devlapic.h>
#include <vmm/vcpuctl.h>

#define BYTE_BITS 8

bool devexit_pc_guest(const struct Env *e)
{
	return e->env_vcpu && e->env_vcpu->vm->pc.kind != VMM_KIND_JOS;
}

/* The run page of vCPU e. */
static struct vmrun *run_of(struct Env *e)
{
	return e->env_vcpu->pc.run;
}

/* All ones in the low `bytes` bytes (1 to 8). */
static uint64_t low_mask(unsigned bytes)
{
	return bytes >= sizeof(uint64_t) ? ~0UL
					 : (1UL << (bytes * BYTE_BITS)) - 1;
}

/*
 * reg moved by delta as an address register of addr_bytes bytes moves:
 * 16-bit wraps within the low word, 32-bit zero-extends (what 64-bit
 * mode does; outside it the upper half is not visible), 64-bit is whole.
 */
static uint64_t addr_reg_add(uint64_t reg, int64_t delta, unsigned addr_bytes)
{
	uint64_t m = low_mask(addr_bytes);

	if (addr_bytes == sizeof(uint16_t))
		return (reg & ~m) | ((reg + delta) & m);
	return (reg + delta) & m;
}

/* Stop e for a string transfer whose memory is not guest RAM (or not
 * reachable: vmm/gva.c walks the paging modes it knows). */
static enum vmexit_action string_fault(struct Env *e, const char *what,
				       uint64_t lin, size_t bytes, int r)
{
	vmm_guest_stop(e, "%s of %lu bytes at guest-linear 0x%lx: not guest "
		       "RAM (port 0x%x; %lu bytes moved%s)", what, bytes, lin,
		       e->env_vcpu->pc.io.port, r > 0 ? (unsigned long)r : 0,
		       r == -E_NOT_SUPP ? ", a paging mode gva.c does not walk"
					: "");
	return VMEXIT_STOP;
}

/*
 * The guest's paging state, for guest_gva_copy at the exit and again at
 * completion (the guest does not run in between).
 */
static int save_mmu(struct Env *e)
{
	struct guest_dbgstate s;
	struct devexit_mmu *m = &e->env_vcpu->pc.mmu;
	int r;

	if ((r = vmm_ops->dbg_read(e, &s)) < 0)
		return r;
	m->cr0 = s.cr0;
	m->cr3 = s.cr3;
	m->cr4 = s.cr4;
	m->efer = s.efer;
	return 0;
}

static void mmu_state(const struct devexit_mmu *m, struct guest_dbgstate *s)
{
	memset(s, 0, sizeof(*s));
	s->cr0 = m->cr0;
	s->cr3 = m->cr3;
	s->cr4 = m->cr4;
	s->efer = m->efer;
}

/*
 * How many elements of a string transfer this exit moves: the REP count
 * (or 1), at most VMRUN_DATA_MAX bytes, and one at a time when DF
 * counts downwards (rare; keeps data[] in address order).
 */
static uint32_t string_share(struct Env *e, const struct vmm_io *io,
			     uint64_t *left)
{
	struct PushRegs *r = &e->env_tf.tf_regs;
	uint64_t n;

	*left = io->rep ? (r->reg_rcx & low_mask(io->addr_bytes)) : 1;
	n = MIN(*left, (uint64_t)(VMRUN_DATA_MAX / io->size));
	if (e->env_tf.tf_eflags & FL_DF)
		n = MIN(n, 1UL);
	return n;
}

/* The VMM injects external interrupts: from vector 8, where a PC BIOS
 * puts the master 8259's IRQ 0 in real mode (0-7 are the CPU's first
 * exceptions, which no PC's interrupt controller is programmed for). */
#define FIRST_EXTERNAL_VECTOR 8
#define LAST_VECTOR 255

/* The exit in the run page goes to the VMM program (the run loop then
 * calls devexit_handoff). */
static enum vmexit_action hand_over(struct Env *e)
{
	run_of(e)->version = VMRUN_ABI_VERSION;
	/* Any hand-off answers a kick: the VMM polls before resuming. */
	e->env_vcpu->pc.kicked = false;
	e->env_vcpu->pc.waiting = true;
	e->env_status = ENV_NOT_RUNNABLE;
	return VMEXIT_HANDOFF;
}

/*
 * A port-I/O exit of a PC guest (devexit hook in the core's vmexit_io):
 * record it, fill the run page and hand it to the VMM program. OUTS
 * data is copied out of the guest now.
 */
enum vmexit_action devexit_pio(struct Env *e, const struct vmm_io *io)
{
	struct VcpuPC *pc = &e->env_vcpu->pc;
	struct vmrun *run = run_of(e);
	struct guest_dbgstate s;
	uint64_t left = 1;
	uint32_t n = 1;
	int r;

	pc->io = *io;
	if (io->string) {
		n = string_share(e, io, &left);
		if (n == 0) {   /* REP with rCX = 0: nothing to move */
			vmexit_skip_instruction(e);
			return VMEXIT_RESUME;
		}
		if ((r = save_mmu(e)) < 0) {
			vmm_guest_stop(e, "string I/O: guest state: %e", r);
			return VMEXIT_STOP;
		}
		mmu_state(&pc->mmu, &s);
		if (!io->in &&
		    (r = guest_gva_copy(e, &s, io->lin, run->data,
					n * io->size, false)) !=
			    (int)(n * io->size))
			return string_fault(e, "OUTS", io->lin, n * io->size,
					    r);
	}
	pc->io_count = n;
	pc->exit = VMRUN_EXIT_PIO;
	/* Done with this exit unless a REP transfer has more to move. */
	if (n == left)
		vmexit_skip_instruction(e);

	run->exit = VMRUN_EXIT_PIO;
	run->pio.port = io->port;
	run->pio.size = io->size;
	run->pio.in = io->in;
	run->pio.count = n;
	run->pio.string = io->string;
	run->pio.value = io->in || io->string
				 ? 0
				 : e->env_tf.tf_regs.reg_rax & low_mask(io->size);
	return hand_over(e);
}

static void wake_vmm(struct Env *e, struct Env *v);

/* Instruction lengths x86 allows (SDM Vol. 2A 2.3.11). */
#define INSN_LEN_MAX 15

/*
 * A PC guest touched guest-physical gpa, which no RAM backs (devexit
 * hook in vmexit_npf_outside): decode the instruction (vmm/insn.h),
 * move RIP past it, hand the access to the VMM program. A load's value
 * is written to its destination at completion.
 */
enum vmexit_action devexit_mmio(struct Env *e, uint64_t gpa)
{
	struct VcpuPC *pc = &e->env_vcpu->pc;
	struct mmio_insn *mi = &pc->mmio;
	struct vmrun *run = run_of(e);
	int r;

	/* (mmio_decode fills all of *mi when it succeeds.) */
	if ((r = mmio_decode(e, mi)) < 0) {
		vmm_guest_stop(e, "MMIO at guest-physical 0x%lx: not an "
			       "instruction the decoder knows (%e)", gpa, r);
		return VMEXIT_STOP;
	}
	if ((mi->size != 1 && mi->size != 2 && mi->size != 4 &&
	     mi->size != 8) || mi->len == 0 || mi->len > INSN_LEN_MAX) {
		vmm_guest_stop(e, "MMIO at guest-physical 0x%lx: the decoder "
			       "gave size %u, length %u", gpa, mi->size,
			       mi->len);
		return VMEXIT_STOP;
	}
	e->env_vcpu->exit.inst_len = mi->len;
	vmexit_skip_instruction(e);
	if (devlapic_read(e, gpa, mi))
		return VMEXIT_RESUME;
	pc->exit = VMRUN_EXIT_MMIO;
	run->exit = VMRUN_EXIT_MMIO;
	run->mmio.gpa = gpa;
	run->mmio.size = mi->size;
	run->mmio.write = mi->write;
	run->mmio.wval = mi->write ? mi->wval & low_mask(mi->size) : 0;
	return hand_over(e);
}

/*
 * HLT of a PC guest with interrupts on (devexit hook in vmexit_hlt, past
 * the instruction already): an interrupt the VMM asked for is injected
 * at the entry; with none, the VMM program decides when one is due.
 */
enum vmexit_action devexit_hlt(struct Env *e)
{
	struct Vcpu *vc = e->env_vcpu;
	struct VcpuPC *pc = &vc->pc;
	bool kicked = pc->kicked;
	enum vmexit_action a;

	if (vc->timer_pending)
		return VMEXIT_RESUME;
	pc->exit = VMRUN_EXIT_HLT;
	run_of(e)->exit = VMRUN_EXIT_HLT;
	a = hand_over(e);
	if (kicked || pc->hlt_until <= read_tsc() ||
	    vmcons_has_input(vc->vm))
		return a;
	/* Sleep: neither it nor its VMM program runs until the tick. */
	pc->halted = true;
	vc->streak = 0;
	return VMEXIT_BLOCK;
}

/* Halted vCPU e's HLT goes to its VMM program now, which runs when
 * the scheduler picks it. */
void devexit_wake_halted(struct Env *e)
{
	struct VcpuPC *pc = &e->env_vcpu->pc;
	struct Env *v = &envs[ENVX(pc->vmm)];

	pc->halted = false;
	if (v->env_id != pc->vmm || !pc->vmm_blocked ||
	    v->env_status != ENV_NOT_RUNNABLE)
		return;  /* dying with it: its free wakes nobody */
	wake_vmm(e, v);
	v->env_status = ENV_RUNNABLE;
}

/*
 * A host timer tick (devexit hook in time_tick, kernel lock held): each
 * halted PC guest whose VMM's deadline passed, or that has console
 * input, is handed to its VMM program (devexit_wake_halted).
 */
void devexit_tick(void)
{
	uint64_t now = read_tsc();
	struct Env *e;
	int i;

	for (i = 0; i < NENV; i++) {
		e = &envs[i];
		if (e->env_type != ENV_TYPE_GUEST || !e->env_vcpu ||
		    e->env_status != ENV_NOT_RUNNABLE ||
		    !e->env_vcpu->pc.halted)
			continue;
		if (now < e->env_vcpu->pc.hlt_until &&
		    !vmcons_has_input(e->env_vcpu->vm))
			continue;
		devexit_wake_halted(e);
	}
}

/*
 * After an exit the core handled itself (devexit hook in vmm_run_loop):
 * a PC guest that ran past its VMM's earliest device deadline without a
 * device exit (a loop on RAM waiting for a tick) would otherwise never
 * see the interrupt due. Hand it over with nothing to emulate
 * (VMRUN_EXIT_NONE): the VMM program polls its devices and resumes it
 * with what is due. After a host tick (a yield) the VMM program only
 * becomes runnable, and the scheduler passes as it would have: a storm
 * whose deadline has always passed costs at most one hand-off per exit,
 * as device exits do, and never keeps the CPU from the scheduler.
 * A kick (pc.kicked, vmm/vcpuctl.c) hands over the same way, whatever
 * the deadline: one hand-off per kick at most, since each clears it.
 */
enum vmexit_action devexit_deadline(struct Env *e, enum vmexit_action a)
{
	struct VcpuPC *pc;
	struct Env *v;
	int32_t vmm;

	if ((a != VMEXIT_RESUME && a != VMEXIT_YIELD) || !devexit_pc_guest(e))
		return a;
	pc = &e->env_vcpu->pc;
	vmm = pc->vmm;
	v = &envs[ENVX(vmm)];
	/* A deadline of 0 only says how a HLT ends (inc/vmrun.h): a VMM
	 * program that never named one is not handed a running guest. */
	if (pc->waiting || !pc->vmm_blocked ||
	    (!pc->kicked &&
	     (pc->hlt_until == 0 || read_tsc() < pc->hlt_until)) ||
	    v->env_id != vmm || v->env_status != ENV_NOT_RUNNABLE)
		return a;
	pc->exit = VMRUN_EXIT_NONE;
	run_of(e)->exit = VMRUN_EXIT_NONE;
	hand_over(e);
	if (a == VMEXIT_RESUME)
		return VMEXIT_HANDOFF;
	wake_vmm(e, v);
	v->env_status = ENV_RUNNABLE;
	return VMEXIT_YIELD;
}

/*
 * Before entering e (devexit hook in vmm_before_entry, with the lock):
 * a kick that came while e was runnable but not running hands over now
 * rather than at an exit that may be a host tick away. Never returns
 * then.
 */
void devexit_before_entry(struct Env *e)
{
	struct VcpuPC *pc;
	struct Env *v;

	if (!devexit_pc_guest(e) || !e->env_vcpu->pc.kicked)
		return;
	pc = &e->env_vcpu->pc;
	v = &envs[ENVX(pc->vmm)];
	if (pc->waiting || !pc->vmm_blocked || v->env_id != pc->vmm ||
	    v->env_status != ENV_NOT_RUNNABLE) {
		pc->kicked = false;
		return;
	}
	pc->exit = VMRUN_EXIT_NONE;
	run_of(e)->exit = VMRUN_EXIT_NONE;
	hand_over(e);
	devexit_handoff(e);
}

/*
 * The VMM's interrupt request: pending until the guest can take it. It
 * replaces one the guest has not taken yet, and none (or a bad vector)
 * withdraws it: the guest may have masked or reprogrammed its
 * controller since (a PC's INTR line follows the 8259 until the CPU
 * acknowledges; a vector 8 asked for in real mode and taken after the
 * switch to protected mode would be a double fault there).
 */
static void take_intr(struct Env *e, struct vmrun *run)
{
	int32_t v = run->intr_vector;

	if (v < FIRST_EXTERNAL_VECTOR || v > LAST_VECTOR) {
		e->env_vcpu->timer_pending = false;
		return;
	}
	e->env_vcpu->pc.intr_vec = v;
	e->env_vcpu->timer_pending = true;
}

/* Console input for the VMM program: as much as it has room for. */
static void give_input(struct Env *e, struct vmrun *run)
{
	uint32_t room = MIN(run->cons_in_room, (uint32_t)VMRUN_CONS_IN_MAX);
	uint32_t n = 0;
	int c;

	while (n < room && (c = vmcons_getc(e->env_vcpu->vm)) != 0)
		run->cons_in[n++] = c;
	run->cons_in_len = n;
}

/* The exit in the run page is the VMM program's: its sys_vcpu_run
 * returns 0 when it next runs. */
static void wake_vmm(struct Env *e, struct Env *v)
{
	struct VcpuPC *pc = &e->env_vcpu->pc;
	struct vmrun *run = run_of(e);

	give_input(e, run);
	run->nexits = e->env_vcpu->nexits;
	run->lapic_fast_reads = pc->lapic_fast_reads;
	run->intr_delivered = pc->delivered;
	pc->delivered = VMRUN_NO_INTR;
	pc->nhandoffs++;
	pc->vmm_blocked = false;
	v->env_tf.tf_regs.reg_rax = 0;
}

/*
 * From the run loop, after devexit_pio: switch straight to the VMM
 * program blocked in sys_vcpu_run. Never returns.
 */
void devexit_handoff(struct Env *e)
{
	int32_t vmm = e->env_vcpu->pc.vmm;
	struct Env *v = &envs[ENVX(vmm)];

	if (v->env_id != vmm || !e->env_vcpu->pc.vmm_blocked ||
	    v->env_status != ENV_NOT_RUNNABLE) {
		vmm_guest_stop(e, "its VMM program (env %08x) does not wait "
			       "for its device exits", vmm);
		env_destroy(e);
	}
	wake_vmm(e, v);
	e->env_vcpu->streak = 0;
	env_run(v);
}

/* An IN's value into rAX: AL and AX keep the rest; EAX zero-extends. */
static void in_to_rax(struct PushRegs *r, unsigned size, uint64_t val)
{
	uint64_t m = low_mask(size);

	if (size == sizeof(uint32_t))
		r->reg_rax = (uint32_t)val;
	else
		r->reg_rax = (r->reg_rax & ~m) | (val & m);
}

/*
 * sys_vcpu_run, first half: the VMM program's answer to the exit handed
 * over. < 0 when the guest had to stop (it is destroyed, said why).
 */
static int complete_pio(struct Env *e)
{
	struct VcpuPC *pc = &e->env_vcpu->pc;
	const struct vmm_io *io = &pc->io;
	struct PushRegs *r = &e->env_tf.tf_regs;
	size_t bytes = (size_t)pc->io_count * io->size;
	struct guest_dbgstate s;
	int64_t delta;
	int moved;

	if (!io->string) {
		if (io->in)
			in_to_rax(r, io->size, run_of(e)->value);
		return 0;
	}
	if (io->in) {
		mmu_state(&pc->mmu, &s);
		if ((moved = guest_gva_copy(e, &s, io->lin, run_of(e)->data,
					    bytes, true)) != (int)bytes) {
			string_fault(e, "INS", io->lin, bytes, moved);
			env_destroy(e);
			return -E_FAULT;
		}
	}
	delta = (e->env_tf.tf_eflags & FL_DF) ? -(int64_t)bytes : (int64_t)bytes;
	if (io->in)
		r->reg_rdi = addr_reg_add(r->reg_rdi, delta, io->addr_bytes);
	else
		r->reg_rsi = addr_reg_add(r->reg_rsi, delta, io->addr_bytes);
	if (io->rep)
		r->reg_rcx = addr_reg_add(r->reg_rcx, -(int64_t)pc->io_count,
					  io->addr_bytes);
	return 0;
}

/* The VMM program's answer to the exit handed over; < 0: the guest
 * had to stop (destroyed). */
static int complete(struct Env *e)
{
	struct VcpuPC *pc = &e->env_vcpu->pc;

	if (pc->exit == VMRUN_EXIT_PIO)
		return complete_pio(e);
	if (pc->exit == VMRUN_EXIT_MMIO && !pc->mmio.write)
		mmio_complete_read(e, &pc->mmio,
				   run_of(e)->value & low_mask(pc->mmio.size));
	return 0;
}

/* The VMM program's console output, onto the guest's console. */
static void take_output(struct Env *e, struct vmrun *run)
{
	uint32_t n = MIN(run->cons_out_len, (uint32_t)VMRUN_CONS_OUT_MAX);
	uint32_t i;

	for (i = 0; i < n; i++)
		vmcons_putc(e->env_vcpu->vm, run->cons_out[i]);
	run->cons_out_len = 0;
}

/*
 * sys_vcpu_run(guest): answer the exit handed over (or start the guest,
 * the first time), then run the guest until its next device exit.
 * Returns (later, when the VMM program runs again) 0 with the exit in
 * the run page, or -E_BAD_ENV when the guest has gone.
 */
int devexit_vcpu_run(int32_t guestid)
{
	struct Env *e;
	struct Vm *vm;
	struct VcpuPC *pc;
	struct vmrun *run;
	int r;

	if (envid2env(guestid, &e, false) < 0 ||
	    e->env_type != ENV_TYPE_GUEST || !e->env_vcpu ||
	    e->env_status == ENV_FREE || e->env_status == ENV_DYING)
		return -E_BAD_ENV;
	vm = e->env_vcpu->vm;
	pc = &e->env_vcpu->pc;
	if (vm->pc.kind == VMM_KIND_JOS || !pc->run)
		return -E_INVAL;
	/* A vCPU other than 0 is its first caller's (vmm/vcpuctl.c). */
	if (!pc->vmm && vcpuctl_may_run(vm, curenv))
		pc->vmm = curenv->env_id;
	if (pc->vmm != curenv->env_id)
		return -E_INVAL;
	run = pc->run;
	if (run->end) {
		/* The VMM program ends it (the debug-exit port): say what
		 * the guest said last, then free the VM. */
		take_output(e, run);
		vm_destroy(vm);
		return 0;
	}
	if (pc->waiting) {
		if ((r = complete(e)) < 0)
			return r;
	} else if (e->env_runs != 0 || e->env_status != ENV_NOT_RUNNABLE) {
		return -E_BUSY;
	}
	take_output(e, run);
	take_intr(e, run);
	pc->hlt_until = run->hlt_until_tsc;
	pc->waiting = false;
	pc->vmm_blocked = true;
	curenv->env_status = ENV_NOT_RUNNABLE;
	/* Paused: resume makes it runnable. Waiting for SIPI: START. */
	if (vm->paused || pc->sipi_wait)
		sched_yield();
	env_run(e);
}

/* May resume/attach make e runnable? (devexit hook in vmctl.c) */
bool devexit_may_resume(const struct Env *e)
{
	if (!devexit_pc_guest(e))
		return e->env_runs > 0;
	return e->env_vcpu->pc.vmm_blocked && !e->env_vcpu->pc.waiting &&
	       !e->env_vcpu->pc.sipi_wait && !e->env_vcpu->pc.parked;
}

/* vCPU e is being freed: wake its VMM program if it waits for it;
 * drop its run page and the MMIO decoder's fetch cache (any guest
 * kind: vmm/insn.c). */
void devexit_guest_free(struct Env *e)
{
	struct VcpuPC *pc = &e->env_vcpu->pc;
	int32_t vmm = pc->vmm;
	struct Env *v = &envs[ENVX(vmm)];

	if (pc->vmm_blocked && vmm && v->env_id == vmm &&
	    v->env_status == ENV_NOT_RUNNABLE) {
		v->env_tf.tf_regs.reg_rax = -E_BAD_ENV;
		v->env_status = ENV_RUNNABLE;
	}
	pc->vmm_blocked = false;
	mmio_fetch_drop(e);
	if (pc->run_pg)
		page_decref(pc->run_pg);
	pc->run_pg = NULL;
	pc->run = NULL;
}

/* The env id of vm's first VMM program (vCPU 0's), or 0. */
int32_t devexit_vm_vmm(const struct Vm *vm)
{
	return vm->vcpu[0] ? vm->vcpu[0]->pc.vmm : 0;
}

/* Env e (not a guest) is being freed: the PC VMs of the vCPUs it ran
 * go with it (each vCPU's free takes its whole VM: vmm_guest_free). */
void devexit_env_free(struct Env *e)
{
	struct Env *g;
	int i;

	for (i = 0; i < NENV; i++) {
		g = &envs[i];
		if (g->env_type != ENV_TYPE_GUEST || !devexit_pc_guest(g) ||
		    g->env_vcpu->pc.vmm != e->env_id ||
		    g->env_status == ENV_FREE || g->env_status == ENV_DYING)
			continue;
		g->env_vcpu->pc.vmm_blocked = false;
		vmm_guest_stop(g, "its VMM program (env %08x) exited",
			       e->env_id);
		env_destroy(g);
	}
}
