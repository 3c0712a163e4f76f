/*
 * vmmbad: the VMM's system calls must refuse bad arguments and leak
 * nothing. sys_env_mkguest gets impossible memory sizes and entry points;
 * sys_ept_map gets every kind of bad mapping (the checks listed in
 * vmm/ept.c), each of which must fail without touching the page's
 * reference count. Then one good mapping, and destroying the guest must
 * give back every page it took.
 *
 * On a CPU without VMX (QEMU's TCG) sys_env_mkguest reports that before
 * looking at its arguments; vmmbad then checks that each call said so,
 * and that sys_ept_map still refuses a non-guest and a bad env id.
 *
 * Invariants:
 * - The guest is never made runnable: it only holds memory.
 * - Every page vmmbad maps for itself is mapped before the free page
 *   count is measured, so the guest's teardown alone must restore it.
 *   (Other envs that allocate meanwhile would upset the count; from the
 *   shell they are all blocked.)
 * - "vmmbad: FAIL: ..." for each failed check; "vmmbad: all N checks
 *   passed" only when none failed.
 */
#include <inc/lib.h>
#include <inc/vmx.h>

/* Our own pages (all below UTOP). */
#define VA_RW 0x10000000UL               /* writable */
#define VA_RO (VA_RW + PGSIZE)           /* read-only */
#define VA_COW (VA_RW + 2 * PGSIZE)      /* VA_RW's page, copy-on-write */
#define VA_NONE (VA_RW + 3 * PGSIZE)     /* never mapped */

#define PERM_RW (PTE_P | PTE_U | PTE_W)
#define PERM_RO (PTE_P | PTE_U)

/* The guest: the smallest allowed, starting where a boot sector would. */
#define TEST_GPHYSZ GUEST_MEM_MIN
#define TEST_RIP GUEST_BOOT_PA

/* Guest-physical addresses in its RAM. */
#define GPA_GOOD 0x200000UL     /* the one good mapping */
#define GPA_FREE 0x201000UL     /* the bad mappings aim here */

/* A size no machine has (and beyond what the EPT translates). */
#define HUGE_GPHYSZ (1UL << 62)
/* A permission bit sys_ept_map does not know. */
#define EPTE_BOGUS 0x8
#define EPT_R __EPTE_READ
#define EPT_RW (__EPTE_READ | __EPTE_WRITE)
/* No env ever has this id. */
#define BAD_ENVID ((envid_t)-1)

static int nchecks, nfailed;

static void check_failed(const char *fmt, ...)
{
	va_list ap;

	nfailed++;
	cprintf("vmmbad: FAIL: ");
	va_start(ap, fmt);
	vcprintf(fmt, ap);
	va_end(ap);
	cprintf("\n");
}

/* Count a check; report it (printf-style) when cond is false. */
#define CHECK(cond, ...)                          \
	do {                                      \
		nchecks++;                        \
		if (!(cond))                      \
			check_failed(__VA_ARGS__); \
	} while (0)

/* A sys_env_mkguest call that must fail. */
struct bad_guest {
	const char *what;
	uint64_t gphysz;
	uint64_t rip;
};

static const struct bad_guest bad_guests[] = {
	{ "gphysz 0", 0, TEST_RIP },
	{ "gphysz not page-aligned", GUEST_MEM_MIN + 1, TEST_RIP },
	{ "gphysz below GUEST_MEM_MIN", GUEST_MEM_MIN - PGSIZE, TEST_RIP },
	{ "gphysz above GUEST_MEM_MAX", GUEST_MEM_MAX + PGSIZE, TEST_RIP },
	{ "huge gphysz", HUGE_GPHYSZ, TEST_RIP },
	{ "rip at gphysz", TEST_GPHYSZ, TEST_GPHYSZ },
};

/* A sys_ept_map call that must fail with `want`. */
struct bad_map {
	const char *what;
	envid_t srcid;
	uintptr_t srcva;
	envid_t guestid;
	uint64_t gpa;
	int perm;
	int want;
};

/*
 * Run the bad sys_env_mkguest calls; all must give `want`. A call that
 * wrongly makes a guest has it destroyed again.
 */
static void try_bad_guests(int want)
{
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(bad_guests); i++) {
		const struct bad_guest *b = &bad_guests[i];

		r = sys_env_mkguest(b->gphysz, b->rip);
		CHECK(r == want, "sys_env_mkguest with %s: got %e, want %e",
		      b->what, r, want);
		if (r > 0)
			sys_env_destroy(r);
	}
}

/* One bad sys_ept_map: it fails as it should and no reference changes. */
static void try_bad_map(const struct bad_map *m)
{
	int rw = pageref((void *)VA_RW), ro = pageref((void *)VA_RO);
	int r;

	r = sys_ept_map(m->srcid, (void *)m->srcva, m->guestid,
			(void *)m->gpa, m->perm);
	CHECK(r == m->want, "sys_ept_map with %s: got %e, want %e", m->what,
	      r, m->want);
	CHECK(pageref((void *)VA_RW) == rw && pageref((void *)VA_RO) == ro,
	      "sys_ept_map with %s changed a reference count", m->what);
}

/* Map our test pages: VA_RW writable, VA_RO read-only, VA_COW as COW. */
static bool map_test_pages(void)
{
	int r;

	if ((r = sys_page_alloc(0, (void *)VA_RW, PERM_RW)) < 0 ||
	    (r = sys_page_alloc(0, (void *)VA_RO, PERM_RO)) < 0 ||
	    (r = sys_page_map(0, (void *)VA_RW, 0, (void *)VA_COW,
			      PERM_RO | PTE_COW)) < 0) {
		CHECK(false, "mapping the test pages: %e", r);
		return false;
	}
	return true;
}

/* Without VMX: every call says so; sys_ept_map still checks its target. */
static void test_no_vmx(int err)
{
	const struct bad_map maps[] = {
		{ "ourselves as the guest", 0, VA_RW, 0, GPA_FREE, EPT_R,
		  -E_INVAL },
		{ "a bad guest env id", 0, VA_RW, BAD_ENVID, GPA_FREE, EPT_R,
		  -E_BAD_ENV },
	};
	size_t i;

	cprintf("vmmbad: no VMX: %e\n", err);
	try_bad_guests(err);
	for (i = 0; i < ARRAY_SIZE(maps); i++)
		try_bad_map(&maps[i]);
}

/* Every check of sys_ept_map against a real guest. */
static void test_bad_maps(envid_t guest)
{
	envid_t self = thisenv->env_id;
	const struct bad_map maps[] = {
		{ "unaligned srcva", 0, VA_RW + 1, guest, GPA_FREE, EPT_RW,
		  -E_INVAL },
		{ "srcva at UTOP", 0, UTOP, guest, GPA_FREE, EPT_R, -E_INVAL },
		{ "unmapped srcva", 0, VA_NONE, guest, GPA_FREE, EPT_R,
		  -E_INVAL },
		{ "unaligned gpa", 0, VA_RW, guest, GPA_FREE + 8, EPT_RW,
		  -E_INVAL },
		{ "gpa at gphysz", 0, VA_RW, guest, TEST_GPHYSZ, EPT_RW,
		  -E_INVAL },
		{ "huge gpa", 0, VA_RW, guest, HUGE_GPHYSZ, EPT_RW, -E_INVAL },
		{ "gpa in the hole", 0, VA_RW, guest, GUEST_LOWMEM_END, EPT_RW,
		  -E_INVAL },
		{ "perm 0", 0, VA_RW, guest, GPA_FREE, 0, -E_INVAL },
		{ "perm with other bits", 0, VA_RW, guest, GPA_FREE,
		  EPT_R | EPTE_BOGUS, -E_INVAL },
		{ "write without read", 0, VA_RW, guest, GPA_FREE,
		  __EPTE_WRITE, -E_INVAL },
		{ "write from a read-only page", 0, VA_RO, guest, GPA_FREE,
		  EPT_RW, -E_INVAL },
		{ "write from a copy-on-write page", 0, VA_COW, guest,
		  GPA_FREE, EPT_RW, -E_INVAL },
		{ "remap of a mapped gpa", 0, VA_RO, guest, GPA_GOOD, EPT_R,
		  -E_INVAL },
		{ "ourselves as the guest", 0, VA_RW, self, GPA_FREE, EPT_RW,
		  -E_INVAL },
		{ "the guest as the source", guest, VA_RW, guest, GPA_FREE,
		  EPT_R, -E_INVAL },
		{ "a bad guest env id", 0, VA_RW, BAD_ENVID, GPA_FREE, EPT_RW,
		  -E_BAD_ENV },
		{ "a bad source env id", BAD_ENVID, VA_RW, guest, GPA_FREE,
		  EPT_RW, -E_BAD_ENV },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(maps); i++)
		try_bad_map(&maps[i]);
}

/* With VMX: a real guest, bad and good mappings, and a clean teardown. */
static void test_vmx(void)
{
	int64_t nfree;
	envid_t guest;
	int ref, r;

	try_bad_guests(-E_INVAL);
	if (!map_test_pages())
		return;
	nfree = sys_page_free_count();

	guest = sys_env_mkguest(TEST_GPHYSZ, TEST_RIP);
	CHECK(guest > 0, "sys_env_mkguest(%ld, %lx): %e", (long)TEST_GPHYSZ,
	      (unsigned long)TEST_RIP, guest);
	if (guest <= 0)
		return;

	ref = pageref((void *)VA_RW);
	r = sys_ept_map(0, (void *)VA_RW, guest, (void *)GPA_GOOD, EPT_RW);
	CHECK(r == 0 && pageref((void *)VA_RW) == ref + 1,
	      "good sys_ept_map: %e, pageref %d, want %d", r,
	      pageref((void *)VA_RW), ref + 1);
	test_bad_maps(guest);

	r = sys_env_destroy(guest);
	CHECK(r == 0, "sys_env_destroy(guest): %e", r);
	CHECK(pageref((void *)VA_RW) == ref,
	      "the guest's mapping kept a reference after it died");
	CHECK(sys_page_free_count() == nfree,
	      "%ld pages not given back when the guest died",
	      (long)(nfree - sys_page_free_count()));
}

void umain(int argc, char **argv)
{
	int r;

	/* A call that must fail either way tells us whether VMX is there. */
	r = sys_env_mkguest(0, TEST_RIP);
	if (r > 0) /* made a guest anyway: try_bad_guests reports it */
		sys_env_destroy(r);
	if (r == -E_NO_VMX || r == -E_NO_EPT) {
		if (map_test_pages())
			test_no_vmx(r);
	} else {
		test_vmx();
	}

	if (nfailed == 0)
		cprintf("vmmbad: all %d checks passed\n", nchecks);
	else
		cprintf("vmmbad: %d of %d checks failed\n", nfailed, nchecks);
}
