/*
 * System call numbers. A user program traps with `int $T_SYSCALL` (48),
 * the number in %rax and up to five arguments in %rdx, %rcx, %rbx, %rdi,
 * %rsi; the result comes back in %rax (negative: -E_*).
 */
#ifndef JOS_INC_SYSCALL_H
#define JOS_INC_SYSCALL_H

enum {
	SYS_cputs = 0,
	SYS_cgetc,
	SYS_getenvid,
	SYS_env_destroy,
	SYS_page_alloc,
	SYS_page_map,
	SYS_page_unmap,
	SYS_exofork,
	SYS_env_set_status,
	SYS_env_set_trapframe,
	SYS_env_set_pgfault_upcall,
	SYS_yield,
	SYS_ipc_try_send,
	SYS_ipc_recv,
	SYS_time_msec,
	SYS_page_free_count,
	SYS_env_mkguest,
	SYS_ept_map,
	SYS_vmm_ctl,
	SYS_guest_debug,
	SYS_kmon,
	SYS_cons_interrupts,
	SYS_env_destroy_tree,
	SYS_poweroff,
	SYS_vcpu_run,
	SYS_time_unix,
	NSYSCALLS
};

/*
 * SYS_kmon(line, len) runs one kernel monitor command line, as typed at
 * `K> `, and prints its output on the console. Only the read-only VMM
 * commands (vms, vmstate, gpa, gva, exits) are allowed: -E_INVAL for
 * any other, for an empty line, or for len >= KMON_LINE_MAX; -E_FAULT
 * if the line is not readable user memory.
 */
#define KMON_LINE_MAX 256

/*
 * SYS_vcpu_run(guest) answers a PC-kind guest's last device exit and runs
 * the guest until its next one, which it returns in the run page
 * (inc/vmrun.h): 0, or -E_BAD_ENV when the guest has gone, -E_INVAL when
 * the caller is not the guest's VMM program.
 */

#endif /* !JOS_INC_SYSCALL_H */
