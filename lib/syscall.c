/*
 * System call stubs. The kernel's side (kern/syscall.c) takes the call
 * number in %rax and up to five arguments in %rdx, %rcx, %rbx, %rdi, %rsi,
 * and returns the result in %rax; every other register comes back as it
 * was. sys_exofork is inline in inc/lib.h (see the comment there).
 */
#include <inc/lib.h>

/*
 * Make system call num. With check set, a negative result is a bug in the
 * caller, so panic. Only calls that cannot fail on a valid env id are
 * checked: everything else reports its error, because callers (the
 * system-call fuzzer, a parent destroying a child that may already be
 * gone) handle it.
 */
static int64_t syscall(int num, bool check, uint64_t a1, uint64_t a2,
		       uint64_t a3, uint64_t a4, uint64_t a5)
{
	int64_t ret;

	/* "memory": the kernel may read or write any of our memory. */
	asm volatile("int %1"
		     : "=a"(ret)
		     : "i"(T_SYSCALL), "a"((uint64_t)num), "d"(a1), "c"(a2),
		       "b"(a3), "D"(a4), "S"(a5)
		     : "cc", "memory");

	if (check && ret < 0)
		panic("system call %d failed: %e", num, (int)ret);
	return ret;
}

void sys_cputs(const char *s, size_t len)
{
	syscall(SYS_cputs, false, (uint64_t)s, len, 0, 0, 0);
}

int sys_cgetc(void)
{
	return syscall(SYS_cgetc, false, 0, 0, 0, 0, 0);
}

envid_t sys_getenvid(void)
{
	return syscall(SYS_getenvid, false, 0, 0, 0, 0, 0);
}

int sys_env_destroy(envid_t envid)
{
	return syscall(SYS_env_destroy, false, envid, 0, 0, 0, 0);
}

void sys_yield(void)
{
	syscall(SYS_yield, false, 0, 0, 0, 0, 0);
}

int sys_env_set_status(envid_t envid, int status)
{
	return syscall(SYS_env_set_status, false, envid, status, 0, 0, 0);
}

int sys_env_set_trapframe(envid_t envid, struct Trapframe *tf)
{
	return syscall(SYS_env_set_trapframe, true, envid, (uint64_t)tf, 0,
		       0, 0);
}

int sys_env_set_pgfault_upcall(envid_t envid, void *upcall)
{
	return syscall(SYS_env_set_pgfault_upcall, true, envid,
		       (uint64_t)upcall, 0, 0, 0);
}

/* Page calls report errors (E_NO_MEM in particular) to the caller. */
int sys_page_alloc(envid_t envid, void *va, int perm)
{
	return syscall(SYS_page_alloc, false, envid, (uint64_t)va, perm, 0,
		       0);
}

int sys_page_map(envid_t srcenv, void *srcva, envid_t dstenv, void *dstva,
		 int perm)
{
	return syscall(SYS_page_map, false, srcenv, (uint64_t)srcva, dstenv,
		       (uint64_t)dstva, perm);
}

int sys_page_unmap(envid_t envid, void *va)
{
	return syscall(SYS_page_unmap, false, envid, (uint64_t)va, 0, 0, 0);
}

int sys_ipc_try_send(envid_t envid, uint64_t value, void *srcva, int perm)
{
	return syscall(SYS_ipc_try_send, false, envid, value, (uint64_t)srcva,
		       perm, 0);
}

int sys_ipc_recv(void *dstva)
{
	return syscall(SYS_ipc_recv, false, (uint64_t)dstva, 0, 0, 0, 0);
}

unsigned int sys_time_msec(void)
{
	return syscall(SYS_time_msec, false, 0, 0, 0, 0, 0);
}

int64_t sys_page_free_count(void)
{
	return syscall(SYS_page_free_count, false, 0, 0, 0, 0, 0);
}

int sys_env_mkguest(uint64_t gphysz, uint64_t grip)
{
	return syscall(SYS_env_mkguest, false, gphysz, grip, 0, 0, 0);
}

int sys_guest_debug(envid_t guest)
{
	return syscall(SYS_guest_debug, false, guest, 0, 0, 0, 0);
}

/* How many Ctrl-C were typed at this system's console since it booted. */
unsigned int sys_cons_interrupts(void)
{
	return syscall(SYS_cons_interrupts, false, 0, 0, 0, 0, 0);
}

/* Destroy envid (ourselves or a child) and every env descended from it. */
int sys_env_destroy_tree(envid_t envid)
{
	return syscall(SYS_env_destroy_tree, true, envid, 0, 0, 0, 0);
}

/* End the emulator the host runs in; returns only where none answered. */
int sys_poweroff(void)
{
	return syscall(SYS_poweroff, false, 0, 0, 0, 0, 0);
}

int sys_ept_map(envid_t srcenvid, void *srcva, envid_t guest, void *guest_pa,
		int perm)
{
	return syscall(SYS_ept_map, false, srcenvid, (uint64_t)srcva, guest,
		       (uint64_t)guest_pa, perm);
}

int sys_vmm_ctl(int op, envid_t guest, void *arg, size_t len)
{
	return syscall(SYS_vmm_ctl, false, op, guest, (uint64_t)arg, len, 0);
}

int sys_vcpu_run(envid_t guest)
{
	return syscall(SYS_vcpu_run, false, guest, 0, 0, 0, 0);
}

int sys_kmon(const char *line, size_t len)
{
	return syscall(SYS_kmon, false, (uint64_t)line, len, 0, 0, 0);
}

int64_t sys_time_unix(void)
{
	return syscall(SYS_time_unix, false, 0, 0, 0, 0, 0);
}
