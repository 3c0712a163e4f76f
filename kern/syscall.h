/* System call dispatch (kern/syscall.c). */
#ifndef JOS_KERN_SYSCALL_H
#define JOS_KERN_SYSCALL_H

#include <inc/syscall.h>
#include <inc/types.h>
#include <inc/env.h>

struct Env;
struct PageInfo;

bool syscall_perm_ok(uint64_t perm);
int ipc_deliver(envid_t from, struct Env *e, uint64_t value,
		struct PageInfo *pp, unsigned perm);
int64_t syscall(uint64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
		uint64_t a4, uint64_t a5);

#endif /* !JOS_KERN_SYSCALL_H */
