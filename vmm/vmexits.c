/*
 * VM-exit handlers that do not depend on the vendor: CPUID emulation,
 * hypercalls, HLT, interrupts that arrived while the guest ran, guest
 * memory faults, and the reports for everything we do not handle.
 *
 * Invariants:
 * - A handler returns what the run loop (vmm/vmm.c) does next; one that
 *   returns VMEXIT_STOP has printed why (vmm_guest_stop).
 * - RIP advances only past an instruction the handler emulated, by the
 *   exit-instruction length the CPU reported (vmexit_skip_instruction).
 * - Guest memory is touched only through guest_gpa2kva (vmm/ept.c), which
 *   checks the address and the EPT permission.
 * - Hypercalls follow inc/vmx.h: number in rax, arguments in rdx, rcx,
 *   rbx, rdi, rsi, result in rax; a bad one gets -E_NO_SYS or -E_INVAL
 *   and the guest goes on.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/assert.h>
#include <inc/multiboot.h>
#include <inc/vmx.h>

#include <kern/env.h>
#include <kern/trap.h>
#include <kern/console.h>
#include <kern/syscall.h>
#include <kern/pmap.h>
#include <vmm/ept.h>
#include <vmm/insn.h>
#include <vmm/vmm.h>
#include <vmm/vmexits.h>
#include <vmm/events.h>
#include <vmm/vmcons.h>
#include <vmm/devexit.h>
#include <vmm/vcpuctl.h>

void vmexit_skip_instruction(struct Env *e)
{
	e->env_tf.tf_rip += e->env_vcpu->exit.inst_len;
	vmm_ops->skipped(e);
}

/*
 * The next entry delivers exception `vector` (with error code `error`,
 * or none if it is < 0) to the guest; RIP stays at the instruction, as
 * for any fault. A second one before that entry replaces the first.
 */
enum vmexit_action vmexit_inject_exception(struct Env *e, int vector,
					   int error)
{
	e->env_vcpu->inject = (struct vmm_event){
		.type = VMM_EVENT_EXCEPTION,
		.vector = vector,
		.has_error = error >= 0,
		.error = error >= 0 ? (uint32_t)error : 0,
	};
	return VMEXIT_RESUME;
}

/*
 * An instruction of a feature the VMM hides from the guest (VMX, SVM,
 * SMX, MONITOR/MWAIT, XSAVE: CPUID says they are absent) faults as on a
 * CPU without it: #UD.
 */
enum vmexit_action vmexit_undefined(struct Env *e)
{
	return vmexit_inject_exception(e, T_ILLOP, -1);
}

/* RDMSR/WRMSR of an MSR the VMM neither passes through nor emulates:
 * #GP(0), as for an MSR the CPU does not have. */
enum vmexit_action vmexit_bad_msr(struct Env *e)
{
	return vmexit_inject_exception(e, T_GPFLT, 0);
}

/* INVD would throw away the host's dirty cache lines: do nothing. The
 * guest cannot tell (it owns no memory the host does not keep coherent). */
enum vmexit_action vmexit_invd(struct Env *e)
{
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

enum vmexit_action vmexit_unhandled(struct Env *e, const char *what)
{
	struct Vcpu *vc = e->env_vcpu;

	if (vmm_ops->info2_name)
		vmm_guest_stop(e, "unhandled exit: %s (exit code 0x%x), "
			       "%s 0x%lx, %s 0x%lx",
			       what, vc->exit.reason,
			       vmm_ops->info1_name, vc->exit.qual,
			       vmm_ops->info2_name, vc->exit.info2);
	else
		vmm_guest_stop(e, "unhandled exit: %s (exit reason %u), "
			       "%s 0x%lx",
			       what, vc->exit.reason,
			       vmm_ops->info1_name, vc->exit.qual);
	return VMEXIT_STOP;
}

/* ---- CPUID ----------------------------------------------------------------- */

/* CPUID itself: vmexit_cpuid_regs (vmexits.h, inline for the fast path). */
enum vmexit_action vmexit_cpuid(struct Env *e)
{
	vmexit_cpuid_regs(e->env_vcpu->vm, &e->env_tf.tf_regs);
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

/* ---- Hypercalls (inc/vmx.h) ------------------------------------------------- */

static enum vmexit_action hc_version(struct Env *e, struct PushRegs *r)
{
	r->reg_rax = VMM_ABI_VERSION;
	return VMEXIT_RESUME;
}

/* Where MBMAP puts the memory map: right after the info block. */
#define GUEST_MMAP_PA (GUEST_MBINFO_PA + 0x40)
#define GUEST_MMAP_ENTRIES 3
static_assert(sizeof(struct multiboot_info) <= GUEST_MMAP_PA - GUEST_MBINFO_PA);
static_assert(sizeof(struct memory_map) == MB_MMAP_ENTRY_SIZE);
static_assert(GUEST_MMAP_PA + GUEST_MMAP_ENTRIES * MB_MMAP_ENTRY_SIZE <=
	      GUEST_CMDLINE_PA);

static void mmap_entry(struct memory_map *m, uint64_t base, uint64_t len,
		       uint32_t type)
{
	m->size = MB_MMAP_ENTRY_SIZE - sizeof(m->size);
	m->base_addr = base;
	m->length = len;
	m->type = type;
}

/*
 * The guest's memory map, Multiboot style: low RAM, the legacy hole, RAM
 * from 1 MiB to the guest's size. Returns the info block's address.
 */
static enum vmexit_action hc_mbmap(struct Env *e, struct PushRegs *r)
{
	struct Vcpu *vc = e->env_vcpu;
	struct multiboot_info *mbi;
	struct memory_map *mm;

	mbi = guest_gpa2kva(vc->vm, GUEST_MBINFO_PA, sizeof(*mbi), EPTE_W);
	mm = guest_gpa2kva(vc->vm, GUEST_MMAP_PA,
			   GUEST_MMAP_ENTRIES * sizeof(*mm), EPTE_W);
	if (!mbi || !mm) {
		r->reg_rax = -E_NO_MEM;
		return VMEXIT_RESUME;
	}
	mmap_entry(&mm[0], 0, GUEST_LOWMEM_END, MB_TYPE_USABLE);
	mmap_entry(&mm[1], GUEST_LOWMEM_END,
		   GUEST_HIGHMEM_START - GUEST_LOWMEM_END, MB_TYPE_RESERVED);
	mmap_entry(&mm[2], GUEST_HIGHMEM_START,
		   vc->vm->gphysz - GUEST_HIGHMEM_START, MB_TYPE_USABLE);
	memset(mbi, 0, sizeof(*mbi));
	mbi->flags = MB_FLAG_MEM | MB_FLAG_MMAP | MB_FLAG_CMDLINE;
	mbi->mem_lower = GUEST_LOWMEM_END / 1024;
	mbi->mem_upper = (vc->vm->gphysz - GUEST_HIGHMEM_START) / 1024;
	mbi->cmdline = GUEST_CMDLINE_PA;
	mbi->mmap_addr = GUEST_MMAP_PA;
	mbi->mmap_length = GUEST_MMAP_ENTRIES * sizeof(*mm);
	r->reg_rax = GUEST_MBINFO_PA;
	return VMEXIT_RESUME;
}

static enum vmexit_action hc_putc(struct Env *e, struct PushRegs *r)
{
	vmcons_putc(e->env_vcpu->vm, (uint8_t)r->reg_rdx);
	r->reg_rax = 0;
	return VMEXIT_RESUME;
}

/* PUTS(gpa, len): as len PUTCs, in one exit (inc/vmx.h). */
static enum vmexit_action hc_puts(struct Env *e, struct PushRegs *r)
{
	size_t len = r->reg_rcx, i;
	const uint8_t *s = guest_gpa2kva(e->env_vcpu->vm, r->reg_rdx, len,
					 EPTE_R);

	if (!s) {
		r->reg_rax = -E_INVAL;
		return VMEXIT_RESUME;
	}
	for (i = 0; i < len; i++)
		vmcons_putc(e->env_vcpu->vm, s[i]);
	if (r->reg_rbx & VMCALL_PUTS_NOTICE)
		vmcons_guest_notice(e->env_vcpu->vm, s, len);
	r->reg_rax = len;
	return VMEXIT_RESUME;
}

static enum vmexit_action hc_exit(struct Env *e, struct PushRegs *r)
{
	struct Vcpu *vc = e->env_vcpu;

	vmcons_notice("vmm: guest %08x exited with status %ld after %lu "
		"exits, %lu CPU migrations\n",
		e->env_id, (long)r->reg_rdx, vc->nexits, vc->nmigrations);
	return VMEXIT_STOP;
}

/* The host env a guest may talk to: the file-system server. */
static struct Env *host_fs_env(void)
{
	int i;

	for (i = 0; i < NENV; i++)
		if (envs[i].env_type == ENV_TYPE_FS &&
		    envs[i].env_status != ENV_FREE &&
		    envs[i].env_status != ENV_DYING)
			return &envs[i];
	return NULL;
}

/* EPT permission a page needs to be shared with PTE permission perm. */
static int ept_perm_for(unsigned perm)
{
	return EPTE_R | ((perm & PTE_W) ? EPTE_W : 0);
}

/*
 * IPC_SEND(to, value, gpa, perm): like sys_ipc_try_send from the guest as
 * a whole; the page is found through the guest's EPT.
 */
static enum vmexit_action hc_ipc_send(struct Env *e, struct PushRegs *r)
{
	uint64_t to = r->reg_rdx, value = r->reg_rcx, gpa = r->reg_rbx;
	unsigned perm = r->reg_rdi;
	struct PageInfo *pp = NULL;
	struct Env *dst;
	void *kva;

	if (to != VMM_HOST_FS || !(dst = host_fs_env())) {
		r->reg_rax = -E_BAD_ENV;
		return VMEXIT_RESUME;
	}
	if (gpa != VMM_NO_PAGE) {
		if (PGOFF(gpa) || !syscall_perm_ok(r->reg_rdi) ||
		    !(kva = guest_gpa2kva(e->env_vcpu->vm, gpa, PGSIZE,
					  ept_perm_for(perm)))) {
			r->reg_rax = -E_INVAL;
			return VMEXIT_RESUME;
		}
		pp = pa2page(PADDR(kva));
	}
	r->reg_rax = ipc_deliver(e->env_id, dst, value, pp, perm);
	return VMEXIT_RESUME;
}

/* IPC_RECV(gpa): the guest waits; ipc_deliver wakes it (vmm_ipc_received). */
static enum vmexit_action hc_ipc_recv(struct Env *e, struct PushRegs *r)
{
	uint64_t gpa = r->reg_rdx;

	if (gpa != VMM_NO_PAGE &&
	    (PGOFF(gpa) || !guest_ram(e->env_vcpu->vm, gpa))) {
		r->reg_rax = -E_INVAL;
		return VMEXIT_RESUME;
	}
	e->env_ipc_recving = true;
	e->env_ipc_dstva = (void *)gpa;
	e->env_status = ENV_NOT_RUNNABLE;
	return VMEXIT_BLOCK;
}

/*
 * GETC(): the guest's own console input (vmm/vmcons.c). A guest polls
 * for its input (a guest shell at its prompt does nothing else), so an
 * empty poll lets the host run its other envs before the guest polls
 * again: otherwise each idle guest takes whole time slices, and every
 * host IPC round trip (the VMM's file reads, other guests' disks) waits
 * behind them.
 */
static enum vmexit_action hc_getc(struct Env *e, struct PushRegs *r)
{
	r->reg_rax = vmcons_getc(e->env_vcpu->vm);
	return r->reg_rax == 0 ? VMEXIT_YIELD : VMEXIT_RESUME;
}

/*
 * IPC_CALL(to, value, gpa, perm, rgpa): IPC_SEND, then at once IPC_RECV
 * at rgpa, so the reply never finds the guest busy elsewhere (the server
 * would have to wait for it, and every other client with it).
 */
static enum vmexit_action hc_ipc_call(struct Env *e, struct PushRegs *r)
{
	uint64_t rgpa = r->reg_rsi;

	if (rgpa != VMM_NO_PAGE &&
	    (PGOFF(rgpa) || !guest_ram(e->env_vcpu->vm, rgpa))) {
		r->reg_rax = -E_INVAL;
		return VMEXIT_RESUME;
	}
	hc_ipc_send(e, r);
	if ((int64_t)r->reg_rax < 0)
		return VMEXIT_RESUME;
	r->reg_rdx = rgpa;
	return hc_ipc_recv(e, r);
}

/* DISK(gpa, len): the path of the guest's disk in the host FS. */
static enum vmexit_action hc_disk(struct Env *e, struct PushRegs *r)
{
	const char *path = e->env_vcpu->vm->disk;
	size_t n = strlen(path) + 1;
	char *dst;

	if (path[0] == '\0' || r->reg_rcx < n ||
	    !(dst = guest_gpa2kva(e->env_vcpu->vm, r->reg_rdx, n, EPTE_W))) {
		r->reg_rax = path[0] == '\0' ? -E_NOT_FOUND : -E_INVAL;
		return VMEXIT_RESUME;
	}
	memcpy(dst, path, n);
	r->reg_rax = n - 1;
	return VMEXIT_RESUME;
}

static enum vmexit_action (*const hypercalls[NVMCALLS])(struct Env *,
							struct PushRegs *) = {
	[VMCALL_VERSION] = hc_version,
	[VMCALL_MBMAP] = hc_mbmap,
	[VMCALL_PUTC] = hc_putc,
	[VMCALL_EXIT] = hc_exit,
	[VMCALL_IPC_SEND] = hc_ipc_send,
	[VMCALL_IPC_RECV] = hc_ipc_recv,
	[VMCALL_GETC] = hc_getc,
	[VMCALL_IPC_CALL] = hc_ipc_call,
	[VMCALL_DISK] = hc_disk,
	[VMCALL_PUTS] = hc_puts,
};

enum vmexit_action vmexit_hypercall(struct Env *e)
{
	struct PushRegs *r = &e->env_tf.tf_regs;
	uint64_t num = r->reg_rax;

	/* Past the VMCALL first: a handler may block or yield. */
	vmexit_skip_instruction(e);
	if (num >= NVMCALLS || !hypercalls[num]) {
		r->reg_rax = -E_NO_SYS;
		return VMEXIT_RESUME;
	}
	return hypercalls[num](e, r);
}

/* vmexit_hypercall_fast's second half (vmexits.h): a number without a
 * handler gets -E_NO_SYS; false, r untouched, for one with a handler. */
bool vmexit_hypercall_unknown(struct PushRegs *r)
{
	uint64_t num = r->reg_rax;

	if (num < NVMCALLS && hypercalls[num])
		return false;
	r->reg_rax = -E_NO_SYS;
	return true;
}

/* ---- HLT, interrupts, faults -------------------------------------------------- */

/* The guest waits for an interrupt: let the host run something else. */
enum vmexit_action vmexit_hlt(struct Env *e)
{
	vmexit_skip_instruction(e);
	/* With other vCPUs one may still run: this one only parks. */
	if (!(e->env_tf.tf_eflags & FL_IF) && devexit_pc_guest(e) &&
	    e->env_vcpu->vm->nvcpus > 1)
		return vcpuctl_park(e);
	if (!(e->env_tf.tf_eflags & FL_IF)) {
		vmm_guest_stop(e, "HLT with interrupts disabled: the guest "
			       "can never wake up");
		return VMEXIT_STOP;
	}
	if (devexit_pc_guest(e))  /* devexit hook: its VMM waits for it */
		return devexit_hlt(e);
	return VMEXIT_YIELD;
}

/*
 * PAUSE (intercepted on AMD-V only, and handled there on the fast path,
 * vmm/amdv/run.c, unless the host's interrupts are overdue): a guest waiting in a
 * spin loop. It completes; the run loop then gives the host its
 * interrupts if they are overdue. For Bochs' ryzen model, which keeps them out of a guest with
 * IF clear (an emulator bug, vmm/README.md): a guest spinning there on
 * PAUSE with IF clear still exits, so the host gets its turn.
 */
enum vmexit_action vmexit_pause(struct Env *e)
{
	vmexit_skip_instruction(e);
	return VMEXIT_RESUME;
}

enum vmexit_action vmexit_triple_fault(struct Env *e)
{
	vmm_guest_stop(e, "triple fault (the guest could not deliver an "
		       "exception)");
	return VMEXIT_STOP;
}

/*
 * A host interrupt arrived while the guest ran; the host services it. A
 * host timer tick also becomes a guest timer tick (inc/vmx.h), and gives
 * the host scheduler its turn.
 */
enum vmexit_action vmexit_interrupt(struct Env *e, uint32_t vector)
{
	if (!trap_guest_irq(vector))
		return VMEXIT_RESUME;
	/* A PC guest's timer is its VMM's device model: events.h's source
	 * ignores this for it (devexit hook). */
	vmm_extint_raise_timer(e->env_vcpu);
	/* The tick found it running: its CPU time for `vms`. */
	e->env_vcpu->vm->cpu_ticks++;
	return VMEXIT_YIELD;
}

/*
 * Host interrupts that wait, not acknowledged by an exit (AMD-V's
 * physical-interrupt exit; VT-x's preemption timer; the run loop when
 * they are overdue): take them with interrupts open for one instruction,
 * then service each as vmexit_interrupt does.
 */
enum vmexit_action vmexit_host_irqs(struct Env *e)
{
	uint32_t irqs = trap_irq_window();
	enum vmexit_action a = VMEXIT_RESUME;
	int irq;

	e->env_vcpu->irq_tsc = read_tsc();

	for (irq = 0; irq < NIRQS; irq++)
		if ((irqs & (1U << irq)) &&
		    vmexit_interrupt(e, IRQ_OFFSET + irq) == VMEXIT_YIELD)
			a = VMEXIT_YIELD;
	return a;
}

/* What a nested page fault's access was, for reports. */
static const char *npf_access(const struct vmm_npf *f)
{
	return f->fetch ? "execute" : f->write ? "write" : "read";
}

/* Room for mmio_note's clause. */
#define MMIO_NOTE_LEN 80

/*
 * For the stop line of a data access outside guest RAM: what the
 * instruction at RIP does (vmm/insn.c), as the device model will see it.
 * Empty when it does not decode (mmio_decode said why on its own line).
 * A fault of the guest's own page walk shows the instruction that
 * caused the walk.
 */
static void mmio_note(struct Env *e, const struct vmm_npf *f, char *buf)
{
	struct mmio_insn mi;

	buf[0] = '\0';
	if (f->fetch || mmio_decode(e, &mi) < 0)
		return;
	if (mi.write)
		snprintf(buf, MMIO_NOTE_LEN, "; its instruction (%u bytes) "
			 "writes %u bytes, 0x%lx", mi.len, mi.size, mi.wval);
	else
		snprintf(buf, MMIO_NOTE_LEN, "; its instruction (%u bytes) "
			 "reads %u bytes", mi.len, mi.size);
}

/*
 * Every nested page fault (EPT violation) of both backends: the guest
 * touched guest-physical memory its nested tables do not map (or not
 * with that access). Guest RAM is filled lazily, on first touch; a fault
 * inside RAM that its mapping does not allow stops the guest; anything
 * outside RAM goes to vmexit_npf_outside.
 */
enum vmexit_action vmexit_npf(struct Env *e, const struct vmm_npf *f)
{
	struct Vcpu *vc = e->env_vcpu;
	int perm = 0;
	int r;

	if (!guest_ram(vc->vm, f->gpa))
		return vmexit_npf_outside(e, f);
	if (!ept_page_lookup(vc->vm->ept_root, f->gpa, &perm)) {
		if ((r = guest_populate(vc->vm, f->gpa)) == 0)
			return VMEXIT_RESUME;
		vmm_guest_stop(e, "no memory for guest-physical page 0x%lx: %e",
			       f->gpa, r);
		return VMEXIT_STOP;
	}
	vmm_guest_stop(e, "%s: %s at guest-physical 0x%lx (not allowed by its "
		       "mapping), %s 0x%lx",
		       vmm_ops->npf_name, npf_access(f), f->gpa,
		       vmm_ops->info1_name, vc->exit.qual);
	return VMEXIT_STOP;
}

/*
 * An access outside guest RAM (the legacy hole, MMIO such as the local
 * APIC, beyond gphysz). A PC guest's data accesses there are its VMM
 * program's device memory (devexit hook); for a JOS guest no device is
 * emulated, so it stops the guest, saying what the instruction does.
 */
enum vmexit_action vmexit_npf_outside(struct Env *e, const struct vmm_npf *f)
{
	char note[MMIO_NOTE_LEN];

	if (devexit_pc_guest(e) && !f->fetch)
		return devexit_mmio(e, f->gpa);
	mmio_note(e, f, note);
	vmm_guest_stop(e, "%s: %s at guest-physical 0x%lx (outside guest RAM), "
		       "%s 0x%lx%s",
		       vmm_ops->npf_name, npf_access(f), f->gpa,
		       vmm_ops->info1_name, e->env_vcpu->exit.qual, note);
	return VMEXIT_STOP;
}

/*
 * Every port-I/O exit of both backends. A PC guest's ports are its VMM
 * program's (devexit hook). A JOS guest's console and disk are
 * hypercalls: no port is emulated, so it stops the guest.
 */
enum vmexit_action vmexit_io(struct Env *e, const struct vmm_io *io)
{
	if (devexit_pc_guest(e))
		return devexit_pio(e, io);
	vmm_guest_stop(e, "port I/O is not virtualised: %s port 0x%x, "
		       "%u byte(s)",
		       io->in ? "in from" : "out to", io->port, io->size);
	return VMEXIT_STOP;
}
