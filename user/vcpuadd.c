/*
 * vcpuadd: the kernel's half of guest SMP (vmm/vcpuctl.c, inc/vmmctl.h)
 * with no VMM program but this one. A PC-kind guest gets vCPUs up to
 * VM_MAX_VCPUS (one more fails); VMMCTL_PC on them refuses bad run
 * pages and kinds; VMMCTL_VCPU_START and VMMCTL_VCPU_INIT refuse bad
 * arguments and say -E_BUSY where they must; VMMCTL_VCPU_KICK of a vCPU
 * that waits for SIPI, has not run or runs is 0 (nothing to undo); a started AP runs in real
 * mode at (vector << 8):0, its exit in its own run page; a child blocked
 * in sys_vcpu_run for an AP waiting for SIPI wakes at the AP's first
 * exit after START; a grandchild (no VMM process of the VM) may not run,
 * start, INIT or kick an AP; a VMM child's death ends the whole VM and every
 * other blocked VMM process wakes with -E_BAD_ENV. Each round twice: the
 * second must end with the free pages it started with.
 *
 * Invariants:
 * - "vcpuadd: FAIL: ..." for each failed check; "vcpuadd: all N checks
 *   passed" only when none failed.
 * - Our pages are mapped before free pages are counted; they are all
 *   PTE_SHARE: the forked VMM children see the run pages, and no page
 *   the guest maps turns copy-on-write.
 */
#include <inc/lib.h>
#include <inc/vmx.h>
#include <inc/vmrun.h>
#include <inc/vmmctl.h>

#define CHECK_PROG "vcpuadd"
#include "check.h"

#define BASE_VA 0x10000000UL
#define RUN_VA(i) ((struct vmrun *)(BASE_VA + (i) * PGSIZE))  /* vCPU i */
#define VA_RO (BASE_VA + VM_MAX_VCPUS * PGSIZE)      /* read-only */
#define VA_NONE (VA_RO + PGSIZE)                     /* unmapped */
#define VA_BOOT (VA_RO + 2 * PGSIZE)  /* guest page 0x7000: vCPU 0 */
#define VA_AP (VA_RO + 3 * PGSIZE)    /* guest page 0x8000: the APs */
#define PERM_SHARED (PTE_P | PTE_U | PTE_W | PTE_SHARE)
#define PERM_RO (PTE_P | PTE_U)
#define GPA_BOOT 0x7000UL
#define SIPI_VECTOR 8                 /* the APs start at 0x8000 */
#define GPA_AP ((uint64_t)SIPI_VECTOR << 12)
#define BAD_VECTOR 256
#define PORT 0x80
#define BOOT_VALUE 0x41
#define AP_VALUE 0x42
#define ROUNDS 2
#define YIELDS 1000
/* What a child reports when all its checks passed. */
#define CHILD_OK 1

/* Real mode: mov al, v; out 0x80, al; jmp back to the out. */
static const uint8_t boot_code[] = { 0xB0, BOOT_VALUE, 0xE6, PORT, 0xEB, 0xFC };
static const uint8_t ap_code[] = { 0xB0, AP_VALUE, 0xE6, PORT, 0xEB, 0xFC };

static int pc_setup(envid_t v, int kind, void *page)
{
	struct vmm_pc pc = { kind, page };

	return sys_vmm_ctl(VMMCTL_PC, v, &pc, sizeof(pc));
}

static int start(envid_t v, uint32_t vec, size_t len)
{
	return sys_vmm_ctl(VMMCTL_VCPU_START, v, &vec, len);
}

static bool alive(envid_t id)
{
	const volatile struct Env *e = &envs[ENVX(id)];

	return e->env_id == id && e->env_status != ENV_FREE;
}

/* Did vCPU i's last exit say OUT of value to PORT? */
static bool out_exit(int i, uint8_t value)
{
	volatile struct vmrun *run = RUN_VA(i);

	return run->exit == VMRUN_EXIT_PIO && run->pio.port == PORT &&
	       !run->pio.in && run->pio.value == value;
}

/* A PC guest with its code mapped, and n vCPUs in all (ids in v[]). */
static envid_t make_vm(envid_t *v, int n)
{
	envid_t g = sys_env_mkguest(GUEST_MEM_MIN, GUEST_BOOT_PA);
	int i;

	if (g < 0) {
		cprintf("vcpuadd: no guest: %e\n", g);
		nfailed++;
		return g;
	}
	CHECK(sys_vmm_ctl(VMMCTL_VCPU_ADD, g, NULL, 0) == -E_INVAL,
	      "VCPU_ADD before VMMCTL_PC");
	memset(RUN_VA(0), 0, PGSIZE);
	CHECK(pc_setup(g, VMM_KIND_PC, RUN_VA(0)) == 0, "PC on vCPU 0");
	memcpy((uint8_t *)VA_BOOT + (GUEST_BOOT_PA - GPA_BOOT), boot_code,
	       sizeof(boot_code));
	memcpy((uint8_t *)VA_AP, ap_code, sizeof(ap_code));
	CHECK(sys_ept_map(0, (void *)VA_BOOT, g, (void *)GPA_BOOT,
			  __EPTE_FULL) == 0, "mapping vCPU 0's code");
	CHECK(sys_ept_map(0, (void *)VA_AP, g, (void *)GPA_AP,
			  __EPTE_FULL) == 0, "mapping the APs' code");
	v[0] = g;
	for (i = 1; i < n; i++) {
		v[i] = sys_vmm_ctl(VMMCTL_VCPU_ADD, g, NULL, 0);
		CHECK(v[i] > 0, "VCPU_ADD %d: %e", i, v[i]);
	}
	return g;
}

/* What VMMCTL_PC on an AP must refuse, then the good one. */
static void ap_pc_checks(envid_t g, envid_t ap)
{
	CHECK(pc_setup(ap, VMM_KIND_PC, (void *)VA_NONE) == -E_INVAL,
	      "AP run page unmapped");
	CHECK(pc_setup(ap, VMM_KIND_PC, (void *)VA_RO) == -E_INVAL,
	      "AP run page read-only");
	CHECK(pc_setup(ap, VMM_KIND_PC, (char *)RUN_VA(1) + 8) == -E_INVAL,
	      "AP run page unaligned");
	CHECK(pc_setup(ap, VMM_KIND_PC, RUN_VA(0)) == -E_INVAL,
	      "AP run page = vCPU 0's");
	CHECK(pc_setup(ap, VMM_KIND_MULTIBOOT, RUN_VA(1)) == -E_INVAL,
	      "AP of another kind");
	CHECK(pc_setup(ap, VMM_KIND_PC, RUN_VA(1)) == 0, "PC on an AP");
	CHECK(pc_setup(ap, VMM_KIND_PC, RUN_VA(1)) == -E_INVAL,
	      "PC on an AP twice");
}

/* Round A: limits and errors; the parent runs an AP, then vCPU 0; kill. */
static void round_limits(bool count)
{
	int64_t before = sys_page_free_count(), after;
	envid_t v[VM_MAX_VCPUS], g;
	struct vmm_info info;
	int i, r;

	if ((g = make_vm(v, VM_MAX_VCPUS)) < 0)
		return;
	r = sys_vmm_ctl(VMMCTL_VCPU_ADD, g, NULL, 0);
	CHECK(r == -E_INVAL, "VCPU_ADD past VM_MAX_VCPUS: %d", r);
	CHECK(sys_vmm_ctl(VMMCTL_INFO, g, &info, sizeof(info)) == 0 &&
	      info.nvcpus == VM_MAX_VCPUS, "VMMCTL_INFO nvcpus %d",
	      info.nvcpus);
	ap_pc_checks(g, v[1]);
	CHECK(sys_vcpu_run(v[2]) == -E_INVAL, "vcpu_run, no run page");
	CHECK(start(v[1], SIPI_VECTOR, 2) == -E_INVAL, "START short arg");
	CHECK(start(v[1], BAD_VECTOR, 4) == -E_INVAL, "START vector 256");
	CHECK(start(g, SIPI_VECTOR, 4) == -E_BUSY, "START vCPU 0");
	CHECK(sys_vmm_ctl(VMMCTL_VCPU_INIT, v[1], NULL, 0) == 0,
	      "INIT of an AP waiting for SIPI");
	CHECK(sys_vmm_ctl(VMMCTL_VCPU_INIT, g, NULL, 0) == -E_BUSY,
	      "INIT of vCPU 0");
	CHECK(sys_vmm_ctl(VMMCTL_VCPU_KICK, v[1], NULL, 0) == 0,
	      "KICK of an AP waiting for SIPI");
	CHECK(sys_vmm_ctl(VMMCTL_VCPU_KICK, g, NULL, 0) == 0,
	      "KICK of vCPU 0 before it ran");
	/* Started before its VMM waits: the first vcpu_run enters it. */
	CHECK(start(v[1], SIPI_VECTOR, 4) == 0, "START an AP");
	CHECK(start(v[1], SIPI_VECTOR, 4) == -E_BUSY, "START twice");
	CHECK(sys_vmm_ctl(VMMCTL_VCPU_INIT, v[1], NULL, 0) == -E_BUSY,
	      "INIT of a started AP");
	r = sys_vcpu_run(v[1]);
	CHECK(r == 0 && out_exit(1, AP_VALUE),
	      "the AP at 0x%lx: vcpu_run %d, exit %u value %x", GPA_AP, r,
	      RUN_VA(1)->exit, RUN_VA(1)->pio.value);
	r = sys_vcpu_run(g);
	CHECK(r == 0 && out_exit(0, BOOT_VALUE), "vCPU 0: vcpu_run %d", r);
	CHECK(sys_vmm_ctl(VMMCTL_VCPU_ADD, g, NULL, 0) == -E_INVAL,
	      "VCPU_ADD after vCPU 0 ran");
	CHECK(sys_vmm_ctl(VMMCTL_KILL, g, NULL, 0) == 0, "VMMCTL_KILL");
	for (i = 0; i < VM_MAX_VCPUS; i++)
		CHECK(!alive(v[i]), "vCPU %d outlived the kill", i);
	after = sys_page_free_count();
	if (count)
		CHECK(before == after, "round A: free pages %ld before, %ld "
		      "after", (long)before, (long)after);
}

/* The AP-1 child: blocks for the AP waiting for SIPI, reports its first
 * exit, then runs it until the VM goes. */
static void __attribute__((noreturn)) child_ap1(envid_t parent, envid_t g,
						envid_t ap)
{
	int r, ok = CHILD_OK;

	if (sys_vmm_ctl(VMMCTL_VCPU_ADD, g, NULL, 0) != -E_INVAL)
		ok = -1;  /* not the creator */
	r = sys_vcpu_run(ap);
	if (r != 0 || !out_exit(1, AP_VALUE))
		ok = -2;
	ipc_send(parent, ok, NULL, 0);
	while ((r = sys_vcpu_run(ap)) == 0)
		;
	ipc_send(parent, r, NULL, 0);
	exit();
}

static int32_t recv_from(envid_t who)
{
	envid_t from = 0;
	int32_t v = 0;

	while (from != who)
		v = ipc_recv(&from, NULL, NULL);
	return v;
}

/* A grandchild: no VMM process of the VM (not the creator's child). */
static void __attribute__((noreturn)) grandchild(envid_t ap)
{
	uint32_t vec = SIPI_VECTOR;
	bool ok = sys_vcpu_run(ap) == -E_INVAL &&
		  start(ap, vec, sizeof(vec)) == -E_INVAL &&
		  sys_vmm_ctl(VMMCTL_VCPU_INIT, ap, NULL, 0) == -E_INVAL &&
		  sys_vmm_ctl(VMMCTL_VCPU_KICK, ap, NULL, 0) == -E_INVAL;

	ipc_send(thisenv->env_parent_id, ok ? CHILD_OK : -3, NULL, 0);
	exit();
}

/* The AP-2 child: reports what its child (not the VM's) may not do,
 * then blocks for an AP never started and reports its wake. */
static void __attribute__((noreturn)) child_ap2(envid_t parent, envid_t ap)
{
	envid_t gc = fork();
	int32_t r = gc < 0 ? gc : CHILD_OK;

	if (gc == 0)
		grandchild(ap);
	if (gc > 0) {
		r = recv_from(gc);
		wait(gc);
	}
	ipc_send(parent, r, NULL, 0);
	ipc_send(parent, sys_vcpu_run(ap), NULL, 0);
	exit();
}

static bool sleeps(envid_t id)
{
	int i;

	for (i = 0; i < YIELDS; i++) {
		if (envs[ENVX(id)].env_status == ENV_NOT_RUNNABLE &&
		    !envs[ENVX(id)].env_ipc_recving)
			return true;
		sys_yield();
	}
	return false;
}

/* Round B: VMM children, START while one sleeps, a child's death. */
static void round_children(bool count)
{
	int64_t before = sys_page_free_count(), after;
	envid_t v[3], g, c1, c2;
	int i, r;

	if ((g = make_vm(v, 3)) < 0)
		return;
	CHECK(pc_setup(v[1], VMM_KIND_PC, RUN_VA(1)) == 0, "PC on AP 1");
	CHECK(pc_setup(v[2], VMM_KIND_PC, RUN_VA(2)) == 0, "PC on AP 2");
	if ((c1 = fork()) == 0)
		child_ap1(thisenv->env_parent_id, g, v[1]);
	if ((c2 = fork()) == 0)
		child_ap2(thisenv->env_parent_id, v[2]);
	CHECK(c1 > 0 && c2 > 0, "fork: %e %e", c1, c2);
	if (c1 < 0 || c2 < 0)
		return;
	r = recv_from(c2);
	CHECK(r == CHILD_OK, "a grandchild steered an AP (%d)", r);
	CHECK(sleeps(c1) && sleeps(c2), "VMM children do not block");
	CHECK(sys_vcpu_run(v[1]) == -E_INVAL, "vcpu_run of a child's AP");
	CHECK(start(v[1], SIPI_VECTOR, 4) == 0, "START while its VMM sleeps");
	r = recv_from(c1);
	CHECK(r == CHILD_OK, "AP 1's VMM child reported %d", r);
	for (i = 0; i < 10; i++) {
		sys_yield();  /* AP 1 and its child trade exits meanwhile */
		CHECK(sys_vmm_ctl(VMMCTL_VCPU_KICK, v[1], NULL, 0) == 0,
		      "KICK of a running AP");
	}
	sys_env_destroy(c1);
	r = recv_from(c2);
	CHECK(r == -E_BAD_ENV, "AP 2's VMM woke with %d", r);
	wait(c1);
	wait(c2);
	for (i = 0; i < YIELDS && alive(v[1]); i++)
		sys_yield();  /* freed at its next exit if it ran elsewhere */
	for (i = 0; i < 3; i++)
		CHECK(!alive(v[i]), "vCPU %d outlived a VMM child", i);
	after = sys_page_free_count();
	if (count)
		CHECK(before == after, "round B: free pages %ld before, %ld "
		      "after", (long)before, (long)after);
}

void umain(int argc, char **argv)
{
	int round, i;

	binaryname = "vcpuadd";
	for (i = 0; i < VM_MAX_VCPUS; i++)
		if (sys_page_alloc(0, RUN_VA(i), PERM_SHARED) < 0)
			panic("vcpuadd: no memory");
	if (sys_page_alloc(0, (void *)VA_RO, PERM_RO) < 0 ||
	    sys_page_alloc(0, (void *)VA_BOOT, PERM_SHARED) < 0 ||
	    sys_page_alloc(0, (void *)VA_AP, PERM_SHARED) < 0)
		panic("vcpuadd: no memory");
	/* The first round leaves one-time pages (VMXON regions, fork's
	 * exception stacks): count from the second on. */
	for (round = 0; round < ROUNDS; round++) {
		round_limits(round > 0);
		round_children(round > 0);
	}
	if (nfailed == 0)
		cprintf("vcpuadd: all %d checks passed\n", nchecks);
}
