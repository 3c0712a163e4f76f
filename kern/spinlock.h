/*
 * Spin locks and the big kernel lock.
 *
 * The kernel runs with one big lock: a CPU holds kernel_lock whenever it
 * runs kernel code on behalf of an env (from trap entry until env_run
 * returns to user mode) or the scheduler. So at most one CPU is in the
 * kernel proper at a time; interrupts are off in the kernel.
 */
#ifndef JOS_KERN_SPINLOCK_H
#define JOS_KERN_SPINLOCK_H

#include <inc/types.h>

struct spinlock {
	volatile uint32_t locked; /* 1 while held */
	const char *name;         /* for debugging */
	struct CpuInfo *cpu;      /* the holder */
};

void __spin_initlock(struct spinlock *lk, const char *name);
void spin_lock(struct spinlock *lk);
void spin_unlock(struct spinlock *lk);
bool spin_holding(struct spinlock *lk);

#define spin_initlock(lock) __spin_initlock(lock, #lock)

extern struct spinlock kernel_lock;

static inline void lock_kernel(void)
{
	spin_lock(&kernel_lock);
}

static inline void unlock_kernel(void)
{
	spin_unlock(&kernel_lock);
	/* Let another CPU waiting for the lock in, rather than retaking it
	 * at once (only matters for emulators with few host threads). */
	asm volatile("pause");
}

#endif /* !JOS_KERN_SPINLOCK_H */
