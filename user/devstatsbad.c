/*
 * devstatsbad: a PC guest's device report page (inc/devstats.h,
 * vmm/devstats.c) must refuse bad arguments and survive a VMM program
 * that writes garbage into it. VMMCTL_DEVSTATS gets a JOS-kind guest,
 * bad lengths and pages, a bad id, a second page; another env (a child)
 * may not name a page for our guest. Then the page is filled with
 * garbage (counts past the arrays, names without a NUL and with every
 * byte value, wild ranges) and the kernel monitor prints it between two
 * marker lines (grade/pc.py checks that output: bounded, printable);
 * a wrong version; the page unmapped by us and still readable by the
 * kernel (it holds a reference). The guest destroyed, the free pages
 * are those of before.
 *
 * Invariants:
 * - "devstatsbad: FAIL: ..." for each failed check; "devstatsbad: all N
 *   checks passed" only when none failed.
 * - The free pages are counted after the child is gone (fork's pages
 *   for good are made by then) and with our pages mapped; the page we
 *   unmap is mapped again before the last count.
 */
#include <inc/lib.h>
#include <inc/vmx.h>
#include <inc/vmmctl.h>
#include <inc/devstats.h>

#define CHECK_PROG "devstatsbad"
#include "check.h"

#define RUN_VA ((void *)0x10000000UL)
#define STATS_VA ((struct devstats *)(0x10000000UL + PGSIZE))
#define VA_RO ((void *)(0x10000000UL + 2 * PGSIZE))
#define VA_NONE ((void *)(0x10000000UL + 3 * PGSIZE))
#define VA_CHILD ((void *)(0x10000000UL + 4 * PGSIZE))
#define PERM_RW (PTE_P | PTE_U | PTE_W)
#define PERM_RO (PTE_P | PTE_U)
#define BAD_ENVID ((envid_t)-1)
#define BAD_VERSION 0x12345
/* Garbage: every byte value but NUL in the names, odd spaces, ranges
 * that wrap. */
#define NAME_STEP 7
#define BYTE_VALUES 255
#define ODD_SPACE 0xDEADBEEF
#define ALL_ONES (~0ULL)

static int devstats(envid_t g, void *page, size_t len)
{
	return sys_vmm_ctl(VMMCTL_DEVSTATS, g, page, len);
}

/* A multiboot-kind guest whose VMM program we are, or < 0. */
static envid_t pc_guest(void)
{
	struct vmm_pc pc = { VMM_KIND_MULTIBOOT, RUN_VA };
	envid_t g = sys_env_mkguest(GUEST_MEM_MIN, GUEST_BOOT_PA);

	CHECK(g > 0, "sys_env_mkguest: %e", g);
	if (g < 0)
		return g;
	CHECK(devstats(g, STATS_VA, sizeof(struct devstats)) == -E_INVAL,
	      "a JOS-kind guest took a report page");
	CHECK(sys_vmm_ctl(VMMCTL_PC, g, &pc, sizeof(pc)) == 0, "VMMCTL_PC");
	return g;
}

/* The monitor's `devices` for g, between marker lines. */
static void show(envid_t g, const char *what)
{
	char line[KMON_LINE_MAX];
	int n = snprintf(line, sizeof(line), "devices %08x", g);

	cprintf("devstatsbad: %s report begins\n", what);
	CHECK(sys_kmon(line, n) == 0, "kmon %s", line);
	cprintf("devstatsbad: %s report ends\n", what);
}

/* Our run and report pages, fresh: after a fork ours are copy-on-write,
 * which neither VMMCTL_PC nor VMMCTL_DEVSTATS takes. */
static void fresh_pages(void)
{
	if (sys_page_alloc(0, RUN_VA, PERM_RW) < 0 ||
	    sys_page_alloc(0, STATS_VA, PERM_RW) < 0)
		panic("devstatsbad: no memory");
}

/* Another env (a child) may not name a page for our guest. */
static void other_env(void)
{
	envid_t child, from = 0, g;
	int r = 0;

	if ((child = fork()) == 0) {
		g = ipc_recv(NULL, NULL, NULL);
		r = sys_page_alloc(0, VA_CHILD, PERM_RW);
		if (r == 0)
			r = devstats(g, VA_CHILD, sizeof(struct devstats));
		ipc_send(thisenv->env_parent_id, r, NULL, 0);
		exit();
	}
	CHECK(child > 0, "fork: %e", child);
	if (child < 0)
		return;
	fresh_pages();
	if ((g = pc_guest()) > 0) {
		show(g, "unregistered");
		ipc_send(child, g, NULL, 0);
		while (from != child)
			r = ipc_recv(&from, NULL, NULL);
		CHECK(r == -E_INVAL, "another env named our guest's page: %e",
		      r);
		sys_env_destroy(g);
	}
	wait(child);
}

static void bad_args(envid_t g)
{
	size_t n = sizeof(struct devstats);

	CHECK(devstats(BAD_ENVID, STATS_VA, n) == -E_BAD_ENV, "bad id");
	CHECK(devstats(g, STATS_VA, n - 1) == -E_INVAL, "short length");
	CHECK(devstats(g, STATS_VA, PGSIZE + 1) == -E_INVAL, "long length");
	CHECK(devstats(g, (char *)STATS_VA + 8, n) == -E_INVAL, "unaligned");
	CHECK(devstats(g, VA_NONE, n) == -E_INVAL, "unmapped page");
	CHECK(devstats(g, VA_RO, n) == -E_INVAL, "read-only page");
	CHECK(devstats(g, (void *)UTOP, n) == -E_INVAL, "page at UTOP");
	CHECK(devstats(g, STATS_VA, n) == 0, "good VMMCTL_DEVSTATS");
	CHECK(devstats(g, STATS_VA, n) == -E_INVAL, "a second page");
}

static void garbage(struct devstats *s)
{
	unsigned i, j, b = 0;

	memset(s, 0, sizeof(*s));
	s->version = DEVSTATS_ABI_VERSION;
	s->ndevs = s->nunclaimed = ~0U;
	s->other_reads = s->other_writes = ALL_ONES;
	for (i = 0; i < DEVSTATS_DEVS_MAX; i++) {
		for (j = 0; j < DEVSTATS_NAME_MAX; j++, b += NAME_STEP)
			s->dev[i].name[j] = 1 + b % BYTE_VALUES;
		s->dev[i].space = i ? ODD_SPACE : DEVSTATS_MMIO;
		s->dev[i].base = s->dev[i].len = ALL_ONES - i;
		s->dev[i].nreads = s->dev[i].nwrites = ALL_ONES;
	}
	for (i = 0; i < DEVSTATS_UNCLAIMED_MAX; i++) {
		s->unclaimed[i].space = ODD_SPACE + i;
		s->unclaimed[i].addr = ALL_ONES;
		s->unclaimed[i].nreads = s->unclaimed[i].nwrites = ALL_ONES;
	}
}

void umain(int argc, char **argv)
{
	int64_t before, after;
	envid_t g;

	binaryname = "devstatsbad";
	if (sys_page_alloc(0, VA_RO, PERM_RO) < 0)
		panic("devstatsbad: no memory");
	other_env();
	fresh_pages();
	before = sys_page_free_count();
	if ((g = pc_guest()) < 0)
		return;
	bad_args(g);
	garbage(STATS_VA);
	show(g, "garbage");
	STATS_VA->version = BAD_VERSION;
	show(g, "bad-version");
	/* The kernel's reference keeps the page: the report still reads. */
	sys_page_unmap(0, STATS_VA);
	show(g, "unmapped");
	sys_env_destroy(g);
	sys_page_alloc(0, STATS_VA, PERM_RW);
	after = sys_page_free_count();
	CHECK(before == after, "free pages %ld before, %ld after",
	      (long)before, (long)after);
	if (nfailed == 0)
		cprintf("devstatsbad: all %d checks passed\n", nchecks);
}
