/*
 * System calls.
 *
 * Every argument comes from an untrusted user program: env ids go through
 * envid2env (with the parent-or-self check where the classic API has it),
 * addresses are checked against UTOP and page alignment, permissions
 * against PTE_SYSCALL, and user memory the kernel reads is checked with
 * user_mem_check. A failing call returns -E_* and changes nothing; in
 * particular it allocates no page that it does not also free.
 */
#include <inc/x86.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/assert.h>
#include <inc/syscall.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <kern/trap.h>
#include <kern/syscall.h>
#include <kern/console.h>
#include <kern/sched.h>
#include <kern/time.h>
#include <kern/hostclock.h>
#include <kern/cpu.h>
#include <kern/monitor.h>
#include <vmm/vmm.h>
#include <vmm/ept.h>
#include <vmm/vmcons.h>
#include <vmm/gdbstub.h>
#include <vmm/devexit.h>

/* Is va a page-aligned user address below UTOP? */
static bool user_page_ok(uintptr_t va)
{
	return va < UTOP && PGOFF(va) == 0;
}

/* Are perm's bits allowed for a user mapping (P and U required)? */
bool syscall_perm_ok(uint64_t perm)
{
	return (perm & (PTE_U | PTE_P)) == (PTE_U | PTE_P) &&
	       (perm & ~(uint64_t)PTE_SYSCALL) == 0;
}

/*
 * envid2env with the parent-or-self check, for calls that act on an env's
 * host address space or registers: a guest has neither (its memory is its
 * EPT, its registers belong to the VMM), so it gets -E_INVAL.
 */
static int host_envid2env(envid_t envid, struct Env **e_store, bool checkperm)
{
	int r;

	if ((r = envid2env(envid, e_store, checkperm)) < 0)
		return r;
	if ((*e_store)->env_type == ENV_TYPE_GUEST)
		return -E_INVAL;
	return 0;
}

/* Print a string the env passes; destroys the env if it is not its own. */
static int sys_cputs(const char *s, size_t len)
{
	user_mem_assert(curenv, s, len, PTE_U);
	cprintf("%.*s", (int)len, s);
	return 0;
}

/* A character from the console, or 0 if none is waiting. */
static int sys_cgetc(void)
{
	return cons_getc();
}

static envid_t sys_getenvid(void)
{
	return curenv->env_id;
}

static int sys_env_destroy(envid_t envid)
{
	struct Env *e;
	int r;

	if ((r = envid2env(envid, &e, true)) < 0)
		return r;
	if (env_msgs && e == curenv)
		cprintf("[%08x] exiting gracefully\n", curenv->env_id);
	else if (env_msgs)
		cprintf("[%08x] destroying %08x\n", curenv->env_id, e->env_id);
	env_destroy(e);
	return 0;
}

/*
 * Destroy envid (the caller or its child) and all its descendants: a
 * shell's Ctrl-C ends a command and whatever the command started.
 */
static int sys_env_destroy_tree(envid_t envid)
{
	struct Env *e;
	int r;

	if ((r = envid2env(envid, &e, true)) < 0)
		return r;
	cprintf("[%08x] destroying %08x and its descendants\n",
		curenv->env_id, e->env_id);
	env_destroy_tree(e);
	return 0;
}

/*
 * The emulators' "power off" devices. QEMU's isa-debug-exit (the
 * Makefile and the grader add -device isa-debug-exit,iobase=0xf4) ends
 * QEMU with status (value << 1) | 1: POWEROFF_VALUE makes that 99
 * (QEMU_POWEROFF_STATUS in GNUmakefile), which no QEMU error gives.
 * Bochs ends when "Shutdown" is written to its port 0x8900, one byte at
 * a time. Elsewhere both writes go nowhere.
 */
#define PORT_QEMU_EXIT 0xF4
#define POWEROFF_VALUE 49
#define PORT_BOCHS_SHUTDOWN 0x8900
#define BOCHS_SHUTDOWN_WORD "Shutdown"

/*
 * Turn the machine off: it never returns under QEMU or Bochs. The caller
 * syncs its file system first (user/poweroff.c). A guest kernel has no
 * ports (the VMM stops a guest at its first port access): `halt` ends a
 * guest.
 */
static int sys_poweroff(void)
{
#ifdef VMM_GUEST
	return -E_NOT_SUPP;
#else
	const char *p;

	cprintf("poweroff: turning the machine off\n");
	outb(PORT_QEMU_EXIT, POWEROFF_VALUE);
	for (p = BOCHS_SHUTDOWN_WORD; *p; p++)
		outb(PORT_BOCHS_SHUTDOWN, *p);
	return -E_NOT_SUPP;
#endif
}

static __attribute__((noreturn)) void sys_yield(void)
{
	sched_yield();
}

/*
 * A new env with an empty address space and a copy of the caller's
 * registers, except that it sees 0 returned. Not runnable yet.
 */
static envid_t sys_exofork(void)
{
	struct Env *e;
	int r;

	if ((r = env_alloc(&e, curenv->env_id, ENV_TYPE_USER)) < 0)
		return r;
	e->env_status = ENV_NOT_RUNNABLE;
	e->env_tf = curenv->env_tf;
	e->env_tf.tf_regs.reg_rax = 0;
	return e->env_id;
}

static int sys_env_set_status(envid_t envid, int status)
{
	struct Env *e;
	int r;

	if (status != ENV_RUNNABLE && status != ENV_NOT_RUNNABLE)
		return -E_INVAL;
	if ((r = envid2env(envid, &e, true)) < 0)
		return r;
	/* A running env cannot be stopped from another CPU this way. */
	if (e->env_status == ENV_RUNNING && e != curenv)
		return -E_INVAL;
	e->env_status = status;
	return 0;
}

/*
 * Replace an env's registers. The frame is sanitised: ring 3 segments,
 * interrupts on, no I/O privilege (unless it is the FS server and already
 * has it), a canonical user rip.
 */
static int sys_env_set_trapframe(envid_t envid, struct Trapframe *tf)
{
	struct Env *e;
	struct Trapframe t;
	int r;

	if ((r = host_envid2env(envid, &e, true)) < 0)
		return r;
	if (user_mem_check(curenv, tf, sizeof(*tf), PTE_U) < 0)
		return -E_FAULT;
	t = *tf;
	if (t.tf_rip >= ULIM || t.tf_rsp >= ULIM)
		return -E_INVAL;
	t.tf_cs = GD_UT | 3;
	t.tf_ds = GD_UD | 3;
	t.tf_es = GD_UD | 3;
	t.tf_ss = GD_UD | 3;
	t.tf_eflags &= ~(uint64_t)(FL_IOPL_MASK | FL_VM | FL_NT);
	t.tf_eflags |= FL_IF;
	if (e->env_type == ENV_TYPE_FS)
		t.tf_eflags |= FL_IOPL_3;
	e->env_tf = t;
	return 0;
}

/*
 * Can iretq return to va? Bits 63..47 must all be equal. The CPU checks
 * before it leaves ring 0 (on Intel; Bochs does the same), so a
 * non-canonical user rip would fault in the kernel.
 */
static bool canonical(uintptr_t va)
{
	return va < ULIM || va >= KERNBASE;
}

/* A kernel-half (canonical) upcall is accepted: it faults in ring 3. */
static int sys_env_set_pgfault_upcall(envid_t envid, void *func)
{
	struct Env *e;
	int r;

	if ((r = host_envid2env(envid, &e, true)) < 0)
		return r;
	if (!canonical((uintptr_t)func))
		return -E_INVAL;
	e->env_pgfault_upcall = func;
	return 0;
}

/* Map a fresh zeroed page at va in envid's address space. */
static int sys_page_alloc(envid_t envid, void *va, int perm)
{
	struct Env *e;
	struct PageInfo *pp;
	int r;

	if ((r = host_envid2env(envid, &e, true)) < 0)
		return r;
	if (!user_page_ok((uintptr_t)va) || !syscall_perm_ok(perm))
		return -E_INVAL;
	if (!(pp = page_alloc(ALLOC_ZERO)))
		return -E_NO_MEM;
	if ((r = page_insert(e->env_pml4e, pp, va, perm)) < 0) {
		page_free(pp);
		return r;
	}
	return 0;
}

/* Map the page at srcva in srcenv at dstva in dstenv too. */
static int sys_page_map(envid_t srcenvid, void *srcva, envid_t dstenvid,
			void *dstva, int perm)
{
	struct Env *src, *dst;
	struct PageInfo *pp;
	pte_t *pte;
	int r;

	if ((r = host_envid2env(srcenvid, &src, true)) < 0 ||
	    (r = host_envid2env(dstenvid, &dst, true)) < 0)
		return r;
	if (!user_page_ok((uintptr_t)srcva) ||
	    !user_page_ok((uintptr_t)dstva) || !syscall_perm_ok(perm))
		return -E_INVAL;
	if (!(pp = page_lookup(src->env_pml4e, srcva, &pte)))
		return -E_INVAL;
	if ((perm & PTE_W) && !(*pte & PTE_W))
		return -E_INVAL;
	return page_insert(dst->env_pml4e, pp, dstva, perm);
}

static int sys_page_unmap(envid_t envid, void *va)
{
	struct Env *e;
	int r;

	if ((r = host_envid2env(envid, &e, true)) < 0)
		return r;
	if (!user_page_ok((uintptr_t)va))
		return -E_INVAL;
	page_remove(e->env_pml4e, va);
	return 0;
}

/*
 * Hand an IPC from env id `from` to e, which must be blocked receiving:
 * the value, and the page pp (NULL for none) with perm if e asked for one.
 * The page lands at e's receive address: in its page table, or, for a
 * guest, in its EPT at the guest-physical address it named (vmm/). The
 * results reach e in its registers when it runs again.
 */
int ipc_deliver(envid_t from, struct Env *e, uint64_t value,
		struct PageInfo *pp, unsigned perm)
{
	int r;

	if (!e->env_ipc_recving)
		return -E_IPC_NOT_RECV;
	e->env_ipc_perm = 0;
	if (pp && (uintptr_t)e->env_ipc_dstva < UTOP) {
		if (e->env_type == ENV_TYPE_GUEST)
			r = vmm_ipc_map(e, pp, (uintptr_t)e->env_ipc_dstva,
					perm);
		else
			r = page_insert(e->env_pml4e, pp, e->env_ipc_dstva,
					perm);
		if (r < 0)
			return r;
		e->env_ipc_perm = perm;
	}
	e->env_ipc_recving = false;
	e->env_ipc_from = from;
	e->env_ipc_value = value;
	e->env_status = ENV_RUNNABLE;
	/* The sender's next wait hands the CPU to e (sched_yield). */
	if (envs[ENVX(from)].env_id == from)
		envs[ENVX(from)].env_ipc_handoff = e->env_id;
	if (e->env_type == ENV_TYPE_GUEST)
		vmm_ipc_received(e);
	else
		e->env_tf.tf_regs.reg_rax = 0;
	return 0;
}

/*
 * Send value (and the page at srcva, if srcva < UTOP) to envid, which
 * must be blocked in sys_ipc_recv (or, a guest, in its IPC_RECV
 * hypercall). Any env may send to any env.
 */
static int sys_ipc_try_send(envid_t envid, uint64_t value, void *srcva,
			    unsigned perm)
{
	struct PageInfo *pp = NULL;
	struct Env *e;
	int r;

	if ((r = envid2env(envid, &e, false)) < 0)
		return r;
	if (!e->env_ipc_recving)
		return -E_IPC_NOT_RECV;

	if ((uintptr_t)srcva < UTOP && (uintptr_t)e->env_ipc_dstva < UTOP) {
		pte_t *pte;

		if (PGOFF(srcva) || !syscall_perm_ok(perm))
			return -E_INVAL;
		if (!(pp = page_lookup(curenv->env_pml4e, srcva, &pte)))
			return -E_INVAL;
		if ((perm & PTE_W) && !(*pte & PTE_W))
			return -E_INVAL;
	} else if ((uintptr_t)srcva < UTOP && PGOFF(srcva)) {
		return -E_INVAL;
	}
	return ipc_deliver(curenv->env_id, e, value, pp, perm);
}

/*
 * Block until a value arrives. If dstva < UTOP, a page sent along is
 * mapped there. Returns (in %rax when the env resumes) 0.
 */
static int sys_ipc_recv(void *dstva)
{
	if ((uintptr_t)dstva < UTOP && PGOFF(dstva))
		return -E_INVAL;
	curenv->env_ipc_recving = true;
	curenv->env_ipc_dstva = dstva;
	curenv->env_status = ENV_NOT_RUNNABLE;
	sched_yield();
}

static int sys_time_msec(void)
{
	return (int)time_msec();
}

/* The host's wall clock (kern/hostclock.c): the VMM's CMOS model gives
 * its guests this date. */
static int64_t sys_time_unix(void)
{
	return hostclock_unix();
}

/* Free physical pages: lets user-level tests check for leaks. */
static int64_t sys_page_free_count(void)
{
	return (int64_t)page_free_count();
}

/*
 * A new virtual machine with gphysz bytes of guest-physical memory that
 * starts (in real mode) at rip: an ENV_TYPE_GUEST child of the caller, not
 * runnable yet. -E_NO_VMX / -E_NO_EPT when the CPU cannot run one.
 */
static envid_t sys_env_mkguest(uint64_t gphysz, uint64_t rip)
{
	return vmm_mkguest(curenv, gphysz, rip);
}

/*
 * `vmm -g`: guest (a child of the caller) stops before its first
 * instruction and waits for gdb on COM2 (vmm/gdbstub.c). -E_NOT_SUPP
 * without a COM2 port, -E_INVAL for an env that is not a guest.
 */
static int sys_guest_debug(envid_t guest)
{
	struct Env *e;
	int r;

	if ((r = envid2env(guest, &e, true)) < 0)
		return r;
	return gdbstub_debug_guest(e);
}

/*
 * `kmon CMD ARGS`: run one read-only monitor command (monitor_query) on
 * the len bytes at line; its output goes to the console. The line is
 * copied first, so the caller cannot change it while it is parsed. A bad
 * range is -E_FAULT (not the end of the caller: sysfuzz calls this).
 */
static int sys_kmon(const char *line, size_t len)
{
	char buf[KMON_LINE_MAX];

	if (len == 0 || len >= sizeof(buf))
		return -E_INVAL;
	if (user_mem_check(curenv, line, len, PTE_U) < 0)
		return -E_FAULT;
	memcpy(buf, line, len);
	buf[len] = '\0';
	return monitor_query(buf);
}

/*
 * Map the page at srcva in env srcenvid at guest-physical address guest_pa
 * of guest `guest`, with EPT permission perm (__EPTE_*). Both envs must be
 * the caller or its children. The page gains a reference; nothing changes
 * on failure (vmm/ept.c lists the checks).
 */
static int sys_ept_map(envid_t srcenvid, void *srcva, envid_t guest,
		       void *guest_pa, int perm)
{
	struct Env *src, *g;
	int r;

	if ((r = envid2env(srcenvid, &src, true)) < 0 ||
	    (r = envid2env(guest, &g, true)) < 0)
		return r;
	return ept_map_from_env(src, (uintptr_t)srcva, g, (uint64_t)guest_pa,
				perm);
}

#ifdef TEST_EPT_MAP
/* The EPT self-test (testpayload/ept_test.c) calls sys_ept_map through this. */
int _export_sys_ept_map(envid_t srcenvid, void *srcva, envid_t guest,
			void *guest_pa, int perm)
{
	return sys_ept_map(srcenvid, srcva, guest, guest_pa, perm);
}
#endif

/* Dispatch to the right handler; unknown numbers get -E_NO_SYS. */
int64_t syscall(uint64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
		uint64_t a4, uint64_t a5)
{
	switch (num) {
	case SYS_cputs:
		return sys_cputs((const char *)a1, a2);
	case SYS_cgetc:
		return sys_cgetc();
	case SYS_getenvid:
		return sys_getenvid();
	case SYS_env_destroy:
		return sys_env_destroy(a1);
	case SYS_yield:
		sys_yield();
	case SYS_exofork:
		return sys_exofork();
	case SYS_env_set_status:
		return sys_env_set_status(a1, a2);
	case SYS_env_set_trapframe:
		return sys_env_set_trapframe(a1, (struct Trapframe *)a2);
	case SYS_env_set_pgfault_upcall:
		return sys_env_set_pgfault_upcall(a1, (void *)a2);
	case SYS_page_alloc:
		return sys_page_alloc(a1, (void *)a2, a3);
	case SYS_page_map:
		return sys_page_map(a1, (void *)a2, a3, (void *)a4, a5);
	case SYS_page_unmap:
		return sys_page_unmap(a1, (void *)a2);
	case SYS_ipc_try_send:
		return sys_ipc_try_send(a1, a2, (void *)a3, a4);
	case SYS_ipc_recv:
		return sys_ipc_recv((void *)a1);
	case SYS_time_msec:
		return sys_time_msec();
	case SYS_page_free_count:
		return sys_page_free_count();
	case SYS_env_mkguest:
		return sys_env_mkguest(a1, a2);
	case SYS_ept_map:
		return sys_ept_map(a1, (void *)a2, a3, (void *)a4, a5);
	case SYS_vmm_ctl:
		/* Arguments are checked there (vmm/vmctl.c). */
		return vmm_ctl(a1, a2, (void *)a3, a4);
	case SYS_guest_debug:
		return sys_guest_debug(a1);
	case SYS_kmon:
		return sys_kmon((const char *)a1, a2);
	case SYS_cons_interrupts:
		return cons_interrupts();
	case SYS_env_destroy_tree:
		return sys_env_destroy_tree(a1);
	case SYS_poweroff:
		return sys_poweroff();
	case SYS_vcpu_run:
		/* Checked there (vmm/devexit.c); returns when the guest's
		 * next device exit switches back to the caller. */
		return devexit_vcpu_run(a1);
	case SYS_time_unix:
		return sys_time_unix();
	default:
		return -E_NO_SYS;
	}
}
