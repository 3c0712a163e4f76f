/* Spin locks (see kern/spinlock.h for the locking rules). */
#include <inc/x86.h>
#include <inc/assert.h>

#include <kern/cpu.h>
#include <kern/spinlock.h>

struct spinlock kernel_lock = { .name = "kernel_lock" };

void __spin_initlock(struct spinlock *lk, const char *name)
{
	lk->locked = 0;
	lk->name = name;
	lk->cpu = NULL;
}

bool spin_holding(struct spinlock *lk)
{
	return lk->locked && lk->cpu == thiscpu;
}

/* Spin until the lock is ours. Taking a lock twice is a deadlock: panic. */
void spin_lock(struct spinlock *lk)
{
	if (spin_holding(lk))
		panic("CPU %d cannot acquire %s: already holding", cpunum(),
		      lk->name);
	/* xchg is atomic and a full barrier: later loads stay after it. */
	while (xchg(&lk->locked, 1) != 0)
		pause();
	lk->cpu = thiscpu;
}

void spin_unlock(struct spinlock *lk)
{
	if (!spin_holding(lk))
		panic("CPU %d cannot release %s: not holding", cpunum(),
		      lk->name);
	lk->cpu = NULL;
	/* The xchg orders every earlier store before the release. */
	xchg(&lk->locked, 0);
}
