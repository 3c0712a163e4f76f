/*
 * Round-robin scheduling.
 *
 * sched_yield picks the next ENV_RUNNABLE env after the current one in
 * envs[] order, wrapping around; the current env may continue if nothing
 * else is runnable and it is still running here. A CPU with nothing to run
 * halts until an interrupt. When no env is left at all, the system is done
 * and the monitor runs. Called with the kernel lock held.
 */
#include <inc/x86.h>
#include <inc/assert.h>
#include <inc/vmx.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <kern/monitor.h>
#include <kern/sched.h>
#include <kern/spinlock.h>
#include <kern/cpu.h>
#include <vmm/vmm.h>

/*
 * curenv sent a request and now blocks for the answer (an IPC round
 * trip: a client and the file server, a guest and the host's): run the
 * receiver at once if it waits for a CPU, so that the round trip does
 * not wait behind the time slice of every runnable env in between (busy
 * guests made each of vmm's ~1000 file reads that slow). Used once per
 * send; the timer still preempts the receiver, so the pair cannot
 * starve the others.
 */
static void sched_handoff(void)
{
	struct Env *to;
	envid_t id;

	if (!curenv || curenv->env_status != ENV_NOT_RUNNABLE ||
	    !curenv->env_ipc_recving || !(id = curenv->env_ipc_handoff))
		return;
	curenv->env_ipc_handoff = 0;
	to = &envs[ENVX(id)];
	if (to->env_id == id && to->env_status == ENV_RUNNABLE)
		env_run(to);
}

void sched_yield(void)
{
	/* Only slots ever used can hold a runnable env (kern/env.h): the
	 * round-robin order is that of all of envs[], without the cost of
	 * scanning the never-used slots on every switch. */
	int nslots = env_slots_used;
	int start = curenv ? ENVX(curenv->env_id) + 1 : 0;
	int i;

	sched_handoff();

	for (i = 0; i < nslots; i++) {
		struct Env *e = &envs[(start + i) % nslots];
		if (e->env_status == ENV_RUNNABLE)
			env_run(e);
	}
	if (curenv && curenv->env_status == ENV_RUNNING &&
	    curenv->env_cpunum == cpunum())
		env_run(curenv);
	sched_halt();
}

/* Are there envs left that could still run? */
static bool any_env_alive(void)
{
	int i;

	for (i = 0; i < NENV; i++)
		if (envs[i].env_status == ENV_RUNNABLE ||
		    envs[i].env_status == ENV_RUNNING ||
		    envs[i].env_status == ENV_DYING)
			return true;
	return false;
}

/*
 * Nothing to run on this CPU: halt until an interrupt (the timer) brings
 * it back into the scheduler. If nothing is left anywhere, report and run
 * the monitor on this CPU, still holding the kernel lock.
 */
void sched_halt(void)
{
	if (!any_env_alive()) {
		cprintf("No runnable environments in the system!\n");
		cprintf("Free pages: %lu\n", page_free_count());
#ifdef VMM_GUEST
		/* A guest has nobody at its monitor: hand back to the VMM. */
		cprintf("guest: nothing left to run, leaving the VM\n");
		vmcall(VMCALL_EXIT, 0, 0, 0, 0, 0);
#endif
		for (;;)
			monitor(NULL);
	}

	/* A guest that ran here last lets go of this CPU (its VMCS). */
	if (curenv && curenv->env_type == ENV_TYPE_GUEST)
		vmm_guest_leave(curenv);
	/* Leave the address space of whatever ran here last. */
	curenv = NULL;
	lcr3(kern_cr3);
	thiscpu->cpu_status = CPU_HALTED;
	unlock_kernel();

	/* Reset the stack and wait, with interrupts on, for the next trap. */
	asm volatile("movq $0, %%rbp\n\t"
		     "movq %0, %%rsp\n\t"
		     "sti\n"
		     "1:\n\t"
		     "hlt\n\t"
		     "jmp 1b\n"
		     :
		     : "r"(kstacktop(cpunum())));
	__builtin_unreachable();
}
