/*
 * The LAPIC read shadow's answers in the kernel (vmm/devlapic.h): a PC
 * guest's load of a LAPIC register its VMM program's model published in
 * the run page (inc/vmrun.h: mask, reg[]) is completed here, with no
 * hand-off to the VMM program. The slow path (devexit_mmio, vmm/
 * devexit.c) calls devlapic_read with the lock held; the fast path
 * (vmm/fastpath.h) calls devexit_mmio_fast without it.
 *
 * Invariants:
 * - Only an aligned 4-byte load of a published register is answered,
 *   and only while no device deadline has passed and no console input
 *   waits: anything else is the VMM program's, which polls its devices
 *   then (lapic_shadow_value).
 * - The run page is the VMM program's: each field is read once, and the
 *   register index is the kernel's own arithmetic on gpa.
 * - Nothing here allocates, prints or takes a lock: it reads e's vCPU,
 *   that vCPU's run page and its VM's console ring indices, and writes
 *   only e's registers and its vCPU's counter.
 */
#include <inc/vmrun.h>
#include <inc/x86.h>

#include <kern/env.h>
#include <vmm/vcpu.h>
#include <vmm/vm.h>
#include <vmm/vmcons.h>
#include <vmm/ept.h>
#include <vmm/insn.h>
#include <vmm/devexit.h>
#include <vmm/devlapic.h>

/*
 * The shadow's value for load mi of guest-physical gpa: true with it in
 * *val. Only an aligned 4-byte load of a register the VMM's model
 * published, and only while no device deadline has passed and no
 * console input waits: else the exit goes to the VMM, which polls its
 * devices (a guest that spins on LAPIC reads, as xv6's scheduler does,
 * still gets its timer and console interrupts).
 */
static bool lapic_shadow_value(struct Env *e, uint64_t gpa,
			       const struct mmio_insn *mi, uint64_t *val)
{
	struct VcpuPC *pc = &e->env_vcpu->pc;
	volatile struct vmrun_lapic *s = &e->env_vcpu->pc.run->lapic;
	uint64_t off = gpa - VMRUN_LAPIC_BASE;
	unsigned i;

	if (mi->write || mi->size != VMRUN_LAPIC_REG_BYTES ||
	    off >= (uint64_t)VMRUN_LAPIC_REGS * VMRUN_LAPIC_STRIDE ||
	    off % VMRUN_LAPIC_STRIDE)
		return false;
	i = off / VMRUN_LAPIC_STRIDE;
	if (!(s->mask & (1ULL << i)) || read_tsc() >= pc->hlt_until ||
	    vmcons_has_input(e->env_vcpu->vm))
		return false;
	*val = s->reg[i];
	return true;
}

/* The slow path's use of the shadow (devexit_mmio, RIP moved). */
bool devlapic_read(struct Env *e, uint64_t gpa, const struct mmio_insn *mi)
{
	uint64_t val;

	if (!lapic_shadow_value(e, gpa, mi, &val))
		return false;
	mmio_complete_read(e, mi, val);
	e->env_vcpu->pc.lapic_fast_reads++;
	return true;
}

/*
 * A PC guest's data read of guest-physical gpa, no RAM there, on the
 * fast path (vmm/fastpath.h: without the kernel lock, on the CPU that
 * runs e, host interrupts off): answered from the LAPIC read shadow
 * when the MMIO decoder knows the instruction without a walk
 * (mmio_decode_cached) and its completion needs no more than the fast
 * entry writes back (mmio_complete_read_fast). True with the
 * instruction's length in exit.inst_len (the caller moves RIP); false,
 * with nothing changed, for the slow path (devexit_mmio), which then
 * does all of it again. Touches only what the slow path's answer would
 * and allocates nothing.
 */
bool devexit_mmio_fast(struct Env *e, uint64_t gpa)
{
	struct Vcpu *vc = e->env_vcpu;
	struct mmio_insn mi;
	uint64_t val;

	if (!devexit_pc_guest(e) || guest_ram(vc->vm, gpa) ||
	    mmio_decode_cached(e, &mi) < 0 ||
	    !lapic_shadow_value(e, gpa, &mi, &val) ||
	    !mmio_complete_read_fast(e, &mi, val))
		return false;
	vc->exit.inst_len = mi.len;
	vc->pc.lapic_fast_reads++;
	return true;
}

