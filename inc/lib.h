/*
 * The user library: what every JOS user program can use. A program defines
 * umain(argc, argv); lib/entry.S and lib/libmain.c call it and exit.
 */
#ifndef JOS_INC_LIB_H
#define JOS_INC_LIB_H 1

#include <inc/types.h>
#include <inc/stdio.h>
#include <inc/stdarg.h>
#include <inc/string.h>
#include <inc/error.h>
#include <inc/assert.h>
#include <inc/env.h>
#include <inc/memlayout.h>
#include <inc/syscall.h>
#include <inc/trap.h>
#include <inc/fs.h>
#include <inc/fd.h>
#include <inc/args.h>
#include <inc/malloc.h>

#define USED(x) (void)(x)

/* main user program */
void umain(int argc, char **argv);

/* libmain.c or entry.S */
extern const char *binaryname;
extern const volatile struct Env *thisenv;
/*
 * envs[NENV] and pages[] are the kernel's read-only copies at UENVS and
 * UPAGES. Constant pointers (lib/libmain.c) rather than extern arrays at
 * absolute addresses: user code is built with -mcmodel=small, which
 * addresses a symbol with a 32-bit field, and these lie far above 4 GiB.
 */
extern const volatile struct Env *const envs;
extern const volatile struct PageInfo *const pages;

/* exit.c */
void exit(void) __attribute__((noreturn));

/* pgfault.c */
void set_pgfault_handler(void (*handler)(struct UTrapframe *utf));

/* readline.c */
char *readline(const char *buf);

/* syscall.c */
void sys_cputs(const char *string, size_t len);
int sys_cgetc(void);
envid_t sys_getenvid(void);
int sys_env_destroy(envid_t);
void sys_yield(void);
static envid_t sys_exofork(void);
int sys_env_set_status(envid_t env, int status);
int sys_env_set_trapframe(envid_t env, struct Trapframe *tf);
int sys_env_set_pgfault_upcall(envid_t env, void *upcall);
int sys_page_alloc(envid_t env, void *pg, int perm);
int sys_page_map(envid_t src_env, void *src_pg, envid_t dst_env,
		 void *dst_pg, int perm);
int sys_page_unmap(envid_t env, void *pg);
int sys_ipc_try_send(envid_t to_env, uint64_t value, void *pg, int perm);
int sys_ipc_recv(void *rcv_pg);
unsigned int sys_time_msec(void);
/* Seconds since 1970-01-01 UTC, from the host's RTC (-E_NOT_SUPP in a
 * guest). */
int64_t sys_time_unix(void);
int64_t sys_page_free_count(void);
int sys_env_mkguest(uint64_t gphysz, uint64_t gRIP);
int sys_vmm_ctl(int op, envid_t guest, void *arg, size_t len);
int sys_vcpu_run(envid_t guest);
int sys_guest_debug(envid_t guest);
/* One read-only kernel monitor command line; output on the console. */
int sys_kmon(const char *line, size_t len);
unsigned int sys_cons_interrupts(void);
int sys_env_destroy_tree(envid_t envid);
int sys_poweroff(void);
int sys_ept_map(envid_t srcenvid, void *srcva, envid_t guest, void *guest_pa,
		int perm);

/*
 * Always inlined: the child resumes right after the trap with %rax = 0 and
 * a stack that the parent copies only later, so no call frame of this
 * function may be needed to get back to the caller.
 */
static inline envid_t __attribute__((always_inline)) sys_exofork(void)
{
	envid_t ret;
	asm volatile("int %2" : "=a"(ret) : "a"(SYS_exofork), "i"(T_SYSCALL));
	return ret;
}

/* ipc.c */
void ipc_send(envid_t to_env, uint64_t value, void *pg, int perm);
int32_t ipc_recv(envid_t *from_env_store, void *pg, int *perm_store);
envid_t ipc_find_env(enum EnvType type);
#ifdef VMM_GUEST
/* In a guest: IPC with host env `to` (VMM_HOST_FS) by hypercalls. */
void ipc_host_send(envid_t to, uint64_t value, void *pg, int perm);
int32_t ipc_host_recv(envid_t *from_store, void *pg, int *perm_store);
int32_t ipc_host_call(envid_t to, uint64_t value, void *pg, int perm,
		      void *rpg, int *perm_store);
int host_disk_path(char *buf, size_t len);
#endif

/* fork.c */
#define PTE_SHARE 0x400
#define PTE_COW 0x800
envid_t fork(void);
envid_t sfork(void);

/* File open modes */
#define O_RDONLY 0x0000 /* open for reading only */
#define O_WRONLY 0x0001 /* open for writing only */
#define O_RDWR 0x0002   /* open for reading and writing */
#define O_ACCMODE 0x0003 /* mask for above modes */

#define O_CREAT 0x0100 /* create if nonexistent */
#define O_TRUNC 0x0200 /* truncate to zero length */
#define O_EXCL 0x0400  /* error if already exists */
#define O_MKDIR 0x0800 /* create directory, not regular file */
#define O_FIXED 0x1000 /* fixed size, as a guest's disk (inc/fs.h) */

#endif /* !JOS_INC_LIB_H */
