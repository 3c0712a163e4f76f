/*
 * Guest SMP in the vmm program (vmm -c N, issue 23): one process per
 * vCPU, as a thread per vCPU elsewhere. The process that made the VM
 * runs vCPU 0; before the guest starts it adds the other vCPUs (each
 * with its own run page), shares the machine's pages and forks one
 * child per other vCPU, which loops in sys_vcpu_run for it (run.c).
 * A guest's INIT and STARTUP IPIs (lapic.c) become VMMCTL_VCPU_INIT and
 * VMMCTL_VCPU_START here.
 *
 * Invariants:
 * - vcpus[0 .. ncpus) are the VM's vCPU env ids, vcpus[i] the one with
 *   APIC id i, vcpus[0] the guest's id; written before the fork only.
 * - From vsmp_start on, the .vmshared pages (every VDEV_SHARED global,
 *   user/user.ld) are mapped PTE_SHARE, so fork shares them (never
 *   copy-on-write) and every vCPU's process sees one machine. The run
 *   pages and the device report page are PTE_SHARE from their
 *   allocation; guest RAM is no longer mapped here (gmem_handover ran
 *   before the fork), so no page the kernel or guest uses is ever
 *   copied on write.
 * - machine_lock is held by at most one process, from a hand-off of its
 *   vCPU until it resumes it: while it handles the exit, polls the
 *   devices and picks its vCPU's interrupt; never across sys_vcpu_run.
 *   A waiter yields the host CPU (there may be one) and gives up when
 *   the VM is gone (the holder may have died with it).
 * - children[] (the creator's own) names the processes it forked; it
 *   waits for them all before the guest's summary is printed.
 * - to_kick (this process's own) holds the vCPUs the models asked to
 *   kick (vdev_cpu_kick) while this process handled its exit; each is
 *   kicked once (VMMCTL_VCPU_KICK), after the machine lock is released
 *   (the kicked process will want it), and the set emptied. Never this
 *   process's own vCPU: it picks its interrupt before resuming.
 */
#include <inc/lib.h>
#include <inc/vmmctl.h>
#include <vmmdev/dev.h>
#include <vmmdev/pc.h>

#define PERM_SHARED (PTE_P | PTE_U | PTE_W | PTE_SHARE)

extern char vmshared_start[], vmshared_end[];

static envid_t vcpus[VM_MAX_VCPUS] VDEV_SHARED;
static unsigned ncpus VDEV_SHARED;
static uint32_t machine_lock VDEV_SHARED;
static envid_t children[VM_MAX_VCPUS];
static uint32_t to_kick;
static unsigned self_cpu;

int vsmp_add(envid_t guest, unsigned n, int kind)
{
	struct vmm_pc pc = { kind, NULL };
	envid_t id;
	int r;

	if (n < 1 || n > VM_MAX_VCPUS)
		return -E_INVAL;
	vcpus[0] = guest;
	for (ncpus = 1; ncpus < n; ncpus++) {
		if ((id = sys_vmm_ctl(VMMCTL_VCPU_ADD, guest, NULL, 0)) < 0)
			return id;
		vcpus[ncpus] = id;
		pc.run = vrun_page(ncpus);
		if ((r = sys_vmm_ctl(VMMCTL_PC, id, &pc, sizeof(pc))) < 0)
			return r;
	}
	return 0;
}

envid_t vsmp_vcpu(unsigned cpu)
{
	return cpu < ncpus ? vcpus[cpu] : 0;
}

/* Every VDEV_SHARED page PTE_SHARE, in place (same page, same VA). A
 * page this process has not written since pc.c's fork is still
 * copy-on-write (not PTE_W: the kernel refuses to map it writable):
 * writing it back first gives this process its own copy. */
static int share_machine(void)
{
	volatile char *va;
	int r;

	for (va = vmshared_start; va < vmshared_end; va += PGSIZE) {
		*va = *va;
		if ((r = sys_page_map(0, (void *)va, 0, (void *)va,
				      PERM_SHARED)) < 0)
			return r;
	}
	return 0;
}

int vsmp_start(void)
{
	envid_t c;
	unsigned i;
	int r;

	/* One vCPU: nothing to share, nobody to fork (as before -c). */
	if (ncpus <= 1)
		return 0;
	if ((r = share_machine()) < 0)
		return r;
	for (i = 1; i < ncpus; i++) {
		if ((c = fork()) < 0)
			return c;
		if (c == 0) {
			self_cpu = i;
			return i;
		}
		children[i] = c;
	}
	return 0;
}

void vsmp_wait(void)
{
	unsigned i;

	for (i = 1; i < VM_MAX_VCPUS; i++)
		if (children[i])
			wait(children[i]);
}

bool vsmp_lock(void)
{
	while (__atomic_exchange_n(&machine_lock, 1, __ATOMIC_ACQUIRE)) {
		if (!vmm_guest_alive(vcpus[0]))
			return false;
		sys_yield();
	}
	return true;
}

void vsmp_unlock(void)
{
	__atomic_store_n(&machine_lock, 0, __ATOMIC_RELEASE);
}

/* lapic.c, with the machine lock held: INIT and STARTUP IPIs. */
int vdev_cpu_init(unsigned cpu)
{
	if (cpu >= ncpus)
		return -E_INVAL;
	return sys_vmm_ctl(VMMCTL_VCPU_INIT, vcpus[cpu], NULL, 0);
}

void vdev_cpu_kick(unsigned cpu)
{
	if (cpu < ncpus && cpu != self_cpu)
		to_kick |= 1U << cpu;
}

void vsmp_kick_flush(void)
{
	unsigned cpu;

	while (to_kick) {
		cpu = __builtin_ctz(to_kick);
		to_kick &= ~(1U << cpu);
		/* Only the VM's death makes it fail: the caller's next
		 * sys_vcpu_run says so. */
		sys_vmm_ctl(VMMCTL_VCPU_KICK, vcpus[cpu], NULL, 0);
	}
}

int vdev_cpu_startup(unsigned cpu, uint8_t vec)
{
	uint32_t v = vec;

	if (cpu >= ncpus)
		return -E_INVAL;
	return sys_vmm_ctl(VMMCTL_VCPU_START, vcpus[cpu], &v, sizeof(v));
}
