/*
 * The EPT self-test (make test-ept-img): sys_ept_map and the EPT helpers
 * of vmm/ept.c, run once at boot by a kernel built with -DTEST_EPT_MAP
 * (obj/test-ept/, the only image it is linked into; testpayload/Makefrag).
 * It needs no VMX, so it runs under QEMU too: the guest env only gets its
 * struct Vm, vCPU and EPT (vm_create), never a VMCS.
 *
 * Invariants:
 * - Runs on the boot CPU with the kernel lock held and no env running;
 *   it borrows curenv (the source env) so that sys_ept_map's envid
 *   permission checks pass, and sets it back to NULL before returning.
 * - Leaves the machine as it found it: every env and page it makes is
 *   freed, and it checks that the free page count is back where it was.
 * - Prints "test_ept_map: FAILED: ..." for each failed check, and the
 *   "Cheers!" line only when none failed (the grader looks for it).
 */
#include <inc/error.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/stdarg.h>
#include <inc/env.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <vmm/ept.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>
#include <vmm/vmm.h>
#include <testpayload/ept_test.h>

#ifndef TEST_EPT_MAP
#error "the EPT self-test is built only into the test-ept kernel"
#endif

/* kern/syscall.c's sys_ept_map, exported for this test. */
extern int _export_sys_ept_map(envid_t srcenvid, void *srcva, envid_t guest,
			       void *guest_pa, int perm);

/* Guest-physical memory of the test guest. */
#define TEST_GPHYSZ (16UL << 20)

/* Pages of the source env (all below UTOP, in one page table). */
#define SRC_VA_RW 0x10000000UL                 /* user, writable */
#define SRC_VA_RO (SRC_VA_RW + PGSIZE)         /* user, read-only */
#define SRC_VA_KERN (SRC_VA_RW + 2 * PGSIZE)   /* mapped without PTE_U */
#define SRC_VA_NONE (SRC_VA_RW + 3 * PGSIZE)   /* never mapped */

/* Guest-physical addresses, all RAM of a TEST_GPHYSZ guest. */
#define GPA_MAPPED 0x200000UL   /* sys_ept_map's good mapping */
#define GPA_FREE 0x201000UL     /* the bad calls aim here: stays empty */
#define GPA_RO 0x202000UL       /* the read-only page, mapped read-only */
#define GPA_NO_TABLE (8UL << 20) /* no page table covers it at first */
#define GPA_SWAP 0x300000UL     /* ept_map_hva2gpa replaces pages here */
#define GPA_SAME 0x301000UL     /* ... and re-maps one page here */
#define GPA_LAZY 0x400000UL     /* populated on demand by guest_gpa2kva */
#define GPA_GEN 0x500000UL      /* ept_gen's checks map and replace here */
/* Beyond what a 4-level EPT translates (48 bits). */
#define GPA_TOO_BIG (1UL << 52)

/* An offset inside a page, for guest_gpa2kva's returned address. */
#define TEST_OFF 0x10
/* A permission bit sys_ept_map does not know (EPT memory type). */
#define EPTE_BOGUS 0x8
/* No env ever has this id. */
#define BAD_ENVID ((envid_t)-1)

#define EPTE_RW (EPTE_R | EPTE_W)
#define EPTE_RX (EPTE_R | EPTE_X)

/* The envs and the source's pages every part of the test uses. */
struct fixture {
	struct Env *src;
	struct Env *guest;
	struct Vm *g;
	struct PageInfo *rw;    /* at SRC_VA_RW */
	struct PageInfo *ro;    /* at SRC_VA_RO */
	struct PageInfo *kern;  /* at SRC_VA_KERN */
};

static int nchecks, nfailed;

static void check_failed(const char *fmt, ...)
{
	va_list ap;

	nfailed++;
	cprintf("test_ept_map: FAILED: ");
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

/* Map a zeroed page in e at va with perm; NULL when out of memory. */
static struct PageInfo *give_page(struct Env *e, uintptr_t va, int perm)
{
	struct PageInfo *pp = page_alloc(ALLOC_ZERO);

	if (!pp)
		return NULL;
	if (page_insert(e->env_pml4e, pp, (void *)va, perm) < 0) {
		page_free(pp);
		return NULL;
	}
	return pp;
}

/* Make the source env, its guest child and the source's pages. */
static bool setup(struct fixture *f)
{
	int r;

	memset(f, 0, sizeof(*f));
	r = env_alloc(&f->src, 0, ENV_TYPE_USER);
	CHECK(r == 0, "env_alloc(source): %e", r);
	if (r < 0)
		return false;
	r = env_alloc(&f->guest, f->src->env_id, ENV_TYPE_GUEST);
	CHECK(r == 0, "env_alloc(guest): %e", r);
	if (r < 0)
		return false;
	r = vm_create(f->guest, TEST_GPHYSZ);
	CHECK(r == 0, "vm_create: %e", r);
	if (r < 0)
		return false;
	f->g = f->guest->env_vcpu->vm;
	CHECK(f->g && f->g->ept_root && f->g->gphysz == TEST_GPHYSZ &&
	      f->guest->env_vcpu->last_cpu == -1 &&
	      page2kva(f->g->page) == f->g,
	      "vm_create left a wrong struct Vm");
	r = vm_create(f->guest, TEST_GPHYSZ);
	CHECK(r == -E_INVAL && f->guest->env_vcpu->vm == f->g,
	      "vm_create twice: %e", r);

	f->rw = give_page(f->src, SRC_VA_RW, PTE_U | PTE_W);
	f->ro = give_page(f->src, SRC_VA_RO, PTE_U);
	f->kern = give_page(f->src, SRC_VA_KERN, PTE_W);
	CHECK(f->rw && f->ro && f->kern, "out of memory for the source pages");
	return f->rw && f->ro && f->kern;
}

/* One good sys_ept_map: the page gains exactly one reference. */
static void test_good_map(struct fixture *f)
{
	int ref = f->rw->pp_ref, perm = 0, r;

	r = _export_sys_ept_map(f->src->env_id, (void *)SRC_VA_RW,
				f->guest->env_id, (void *)GPA_MAPPED,
				__EPTE_FULL);
	CHECK(r == 0, "good sys_ept_map: %e", r);
	CHECK(f->rw->pp_ref == ref + 1, "good sys_ept_map: pp_ref %d, want %d",
	      f->rw->pp_ref, ref + 1);
	CHECK(ept_page_lookup(f->g->ept_root, GPA_MAPPED, &perm) == f->rw &&
	      perm == EPTE_PERM,
	      "good sys_ept_map: not mapped R|W|X at the gpa");
}

/* A sys_ept_map call that must fail with `want`. */
struct bad_case {
	const char *what;
	envid_t srcid;
	uintptr_t srcva;
	envid_t guestid;
	uint64_t gpa;
	int perm;
	int want;
};

/* Run one bad call: it fails as it should and changes nothing. */
static void run_bad_case(struct fixture *f, const struct bad_case *c)
{
	int rw = f->rw->pp_ref, ro = f->ro->pp_ref, kern = f->kern->pp_ref;
	size_t nfree = page_free_count();
	int perm = 0, r;

	r = _export_sys_ept_map(c->srcid, (void *)c->srcva, c->guestid,
				(void *)c->gpa, c->perm);
	CHECK(r == c->want, "sys_ept_map with %s: got %e, want %e", c->what,
	      r, c->want);
	CHECK(f->rw->pp_ref == rw && f->ro->pp_ref == ro &&
	      f->kern->pp_ref == kern && page_free_count() == nfree,
	      "sys_ept_map with %s changed a reference count", c->what);
	CHECK(!ept_page_lookup(f->g->ept_root, GPA_FREE, NULL),
	      "sys_ept_map with %s mapped something", c->what);
	CHECK(ept_page_lookup(f->g->ept_root, GPA_MAPPED, &perm) == f->rw &&
	      perm == EPTE_PERM,
	      "sys_ept_map with %s changed the existing mapping", c->what);
}

/* Every check of ept_map_from_env, through the system call. */
static void test_bad_maps(struct fixture *f)
{
	envid_t s = f->src->env_id, g = f->guest->env_id;
	const struct bad_case cases[] = {
		{ "unaligned srcva", s, SRC_VA_RW + 1, g, GPA_FREE, EPTE_RW,
		  -E_INVAL },
		{ "srcva at UTOP", s, UTOP, g, GPA_FREE, EPTE_R, -E_INVAL },
		{ "unmapped srcva", s, SRC_VA_NONE, g, GPA_FREE, EPTE_R,
		  -E_INVAL },
		{ "srcva without PTE_U", s, SRC_VA_KERN, g, GPA_FREE, EPTE_R,
		  -E_INVAL },
		{ "unaligned gpa", s, SRC_VA_RW, g, GPA_FREE + 8, EPTE_RW,
		  -E_INVAL },
		{ "gpa at gphysz", s, SRC_VA_RW, g, TEST_GPHYSZ, EPTE_RW,
		  -E_INVAL },
		{ "gpa far beyond gphysz", s, SRC_VA_RW, g, GPA_TOO_BIG,
		  EPTE_RW, -E_INVAL },
		{ "gpa in the hole", s, SRC_VA_RW, g, GUEST_LOWMEM_END,
		  EPTE_RW, -E_INVAL },
		{ "gpa at the hole's last page", s, SRC_VA_RW, g,
		  GUEST_HIGHMEM_START - PGSIZE, EPTE_RW, -E_INVAL },
		{ "perm 0", s, SRC_VA_RW, g, GPA_FREE, 0, -E_INVAL },
		{ "perm with other bits", s, SRC_VA_RW, g, GPA_FREE,
		  EPTE_R | EPTE_BOGUS, -E_INVAL },
		{ "write without read", s, SRC_VA_RW, g, GPA_FREE, EPTE_W,
		  -E_INVAL },
		{ "write from a read-only page", s, SRC_VA_RO, g, GPA_FREE,
		  EPTE_RW, -E_INVAL },
		{ "remap of a mapped gpa", s, SRC_VA_RO, g, GPA_MAPPED, EPTE_R,
		  -E_INVAL },
		{ "a non-guest target", s, SRC_VA_RW, s, GPA_FREE, EPTE_RW,
		  -E_INVAL },
		{ "a guest as the source", g, SRC_VA_RW, g, GPA_FREE, EPTE_R,
		  -E_INVAL },
		{ "a bad guest env id", s, SRC_VA_RW, BAD_ENVID, GPA_FREE,
		  EPTE_RW, -E_BAD_ENV },
		{ "a bad source env id", BAD_ENVID, SRC_VA_RW, g, GPA_FREE,
		  EPTE_RW, -E_BAD_ENV },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_bad_case(f, &cases[i]);
}

/* ept_lookup_gpa: missing tables, creating them, existing leaves. */
static void test_lookup(struct fixture *f)
{
	epte_t *root = f->g->ept_root, *e = NULL;
	size_t nfree;
	int r;

	r = ept_lookup_gpa(NULL, (void *)GPA_MAPPED, 0, &e);
	CHECK(r == -E_INVAL, "ept_lookup_gpa(NULL root): %e", r);
	r = ept_lookup_gpa(root, (void *)GPA_TOO_BIG, 1, &e);
	CHECK(r == -E_INVAL, "ept_lookup_gpa(gpa beyond 48 bits): %e", r);

	nfree = page_free_count();
	r = ept_lookup_gpa(root, (void *)GPA_NO_TABLE, 0, &e);
	CHECK(r == -E_NOT_FOUND && page_free_count() == nfree,
	      "ept_lookup_gpa(missing table, create 0): %e", r);
	e = NULL;
	r = ept_lookup_gpa(root, (void *)GPA_NO_TABLE, 1, &e);
	CHECK(r == 0 && e && *e == 0, "ept_lookup_gpa(create 1): %e", r);
	/* Only the page table was missing: one page for it. */
	CHECK(page_free_count() == nfree - 1,
	      "ept_lookup_gpa(create 1) used %ld pages, want 1",
	      (long)(nfree - page_free_count()));

	e = NULL;
	r = ept_lookup_gpa(root, (void *)GPA_MAPPED, 0, &e);
	CHECK(r == 0 && e && EPTE_ADDR(*e) == page2pa(f->rw),
	      "ept_lookup_gpa(mapped gpa): %e or wrong address", r);
	CHECK(r == 0 && e &&
	      (*e & nested_fmt->leaf_attr) == nested_fmt->leaf_attr &&
	      !(*e & nested_fmt->walk.large),
	      "ept_lookup_gpa(mapped gpa): not a write-back 4 KiB leaf");
}

/* A page of our own, with a reference we hold until release_page. */
static struct PageInfo *hold_page(void)
{
	struct PageInfo *pp = page_alloc(ALLOC_ZERO);

	if (pp)
		pp->pp_ref++;
	return pp;
}

static void release_page(struct PageInfo *pp)
{
	if (pp)
		page_decref(pp);
}

/* Is pp mapped at gpa with exactly perm? */
static bool mapped_as(struct fixture *f, uint64_t gpa, struct PageInfo *pp,
		      int perm)
{
	int got = 0;

	return ept_page_lookup(f->g->ept_root, gpa, &got) == pp && got == perm;
}

/* Re-mapping the page a leaf already holds must not free it on the way. */
static void test_same_page(struct fixture *f)
{
	epte_t *root = f->g->ept_root;
	struct PageInfo *c = page_alloc(ALLOC_ZERO);
	size_t nfree;
	int r;

	CHECK(c != NULL, "out of memory for the re-mapped page");
	if (!c)
		return;
	r = ept_map_hva2gpa(root, page2kva(c), (void *)GPA_SAME, EPTE_RW, 0);
	CHECK(r == 0 && c->pp_ref == 1, "ept_map_hva2gpa(fresh page): %e", r);
	if (r < 0) {
		page_free(c);
		return;
	}
	/* The EPT holds the only reference: an early drop would free c. */
	nfree = page_free_count();
	r = ept_map_hva2gpa(root, page2kva(c), (void *)GPA_SAME, EPTE_R, 1);
	CHECK(r == 0 && c->pp_ref == 1 && c->pp_link == NULL &&
	      page_free_count() == nfree && mapped_as(f, GPA_SAME, c, EPTE_R),
	      "re-mapping the same page: %e, pp_ref %d", r, c->pp_ref);
}

/* ept_map_hva2gpa with and without overwrite, and ept_page_insert. */
static void test_hva2gpa(struct fixture *f)
{
	epte_t *root = f->g->ept_root;
	struct PageInfo *a = hold_page(), *b = hold_page();
	int r;

	CHECK(a && b, "out of memory for the ept_map_hva2gpa pages");
	if (!a || !b)
		goto out;

	r = ept_map_hva2gpa(root, page2kva(a), (void *)GPA_SWAP, EPTE_RW, 0);
	CHECK(r == 0 && a->pp_ref == 2 && mapped_as(f, GPA_SWAP, a, EPTE_RW),
	      "ept_map_hva2gpa(new gpa): %e, pp_ref %d", r, a->pp_ref);

	r = ept_map_hva2gpa(root, page2kva(b), (void *)GPA_SWAP, EPTE_RW, 0);
	CHECK(r == -E_INVAL, "ept_map_hva2gpa(mapped gpa, overwrite 0): %e",
	      r);
	CHECK(a->pp_ref == 2 && b->pp_ref == 1 &&
	      mapped_as(f, GPA_SWAP, a, EPTE_RW),
	      "ept_map_hva2gpa(overwrite 0) changed something");

	r = ept_map_hva2gpa(root, page2kva(b), (void *)GPA_SWAP, EPTE_RW, 1);
	CHECK(r == 0 && a->pp_ref == 1 && b->pp_ref == 2 &&
	      mapped_as(f, GPA_SWAP, b, EPTE_RW),
	      "ept_map_hva2gpa(overwrite 1): %e, refs %d %d", r, a->pp_ref,
	      b->pp_ref);

	r = ept_map_hva2gpa(root, page2kva(a), (void *)GPA_SWAP, EPTE_W, 1);
	CHECK(r == -E_INVAL && mapped_as(f, GPA_SWAP, b, EPTE_RW),
	      "ept_map_hva2gpa(write without read): %e", r);
	r = ept_map_hva2gpa(root, (uint8_t *)page2kva(a) + TEST_OFF,
			    (void *)GPA_SWAP, EPTE_R, 1);
	CHECK(r == -E_INVAL && mapped_as(f, GPA_SWAP, b, EPTE_RW),
	      "ept_map_hva2gpa(unaligned hva): %e", r);

	r = ept_page_insert(root, a, (void *)GPA_SWAP, EPTE_RX);
	CHECK(r == 0 && a->pp_ref == 2 && b->pp_ref == 1 &&
	      mapped_as(f, GPA_SWAP, a, EPTE_RX),
	      "ept_page_insert(replacing): %e, refs %d %d", r, a->pp_ref,
	      b->pp_ref);
	r = ept_page_insert(root, a, (void *)GPA_SWAP, EPTE_R);
	CHECK(r == 0 && a->pp_ref == 2 && mapped_as(f, GPA_SWAP, a, EPTE_R),
	      "ept_page_insert(same page): %e, pp_ref %d", r, a->pp_ref);

	CHECK(!ept_page_lookup(root, GPA_FREE, NULL),
	      "ept_page_lookup(unmapped gpa) found a page");
	test_same_page(f);
out:
	/* a stays mapped at GPA_SWAP: the guest's teardown frees it. */
	release_page(a);
	release_page(b);
}

/*
 * struct Vm's ept_gen (the MMIO decoder's fetch cache relies on it,
 * vmm/insn.c): the same when an absent leaf is filled (guest_page_insert,
 * guest_populate), bumped each time a present one is replaced, by
 * another page or the same one with another permission.
 */
static void test_gen(struct fixture *f)
{
	struct Vm *g = f->g;
	struct PageInfo *a = hold_page(), *b = hold_page();
	uint64_t gen = g->ept_gen;
	int r;

	CHECK(a && b, "out of memory for the ept_gen pages");
	if (!a || !b)
		goto out;
	r = guest_page_insert(g, a, GPA_GEN, EPTE_RW);
	CHECK(r == 0 && g->ept_gen == gen,
	      "guest_page_insert(absent leaf): %e, ept_gen %lu -> %lu", r,
	      gen, g->ept_gen);
	r = guest_populate(g, GPA_GEN + PGSIZE);
	CHECK(r == 0 && g->ept_gen == gen,
	      "guest_populate(absent leaf): %e, ept_gen %lu -> %lu", r, gen,
	      g->ept_gen);
	r = guest_page_insert(g, b, GPA_GEN, EPTE_RW);
	CHECK(r == 0 && g->ept_gen == gen + 1 &&
	      mapped_as(f, GPA_GEN, b, EPTE_RW),
	      "guest_page_insert(replacing a page): %e, ept_gen %lu -> %lu",
	      r, gen, g->ept_gen);
	r = guest_page_insert(g, b, GPA_GEN, EPTE_R);
	CHECK(r == 0 && g->ept_gen == gen + 2 &&
	      mapped_as(f, GPA_GEN, b, EPTE_R),
	      "guest_page_insert(same page, R only): %e, ept_gen %lu -> %lu",
	      r, gen, g->ept_gen);
out:
	/* b stays mapped at GPA_GEN: the guest's teardown frees it. */
	release_page(a);
	release_page(b);
}

/* A guest_gpa2kva call that must return NULL. */
struct bad_range {
	const char *what;
	uint64_t gpa;
	size_t len;
	int perm;
};

/* guest_ram, guest_populate and the checks of guest_gpa2kva. */
static void test_gpa2kva(struct fixture *f)
{
	struct Vm *g = f->g;
	const struct bad_range bad[] = {
		{ "at gphysz", TEST_GPHYSZ, 1, EPTE_R },
		{ "crossing a page", GPA_LAZY + PGSIZE - 4, 8, EPTE_R },
		{ "in the hole", GUEST_LOWMEM_END + TEST_OFF, 4, EPTE_R },
		{ "overflowing", ~0UL - 3, 16, EPTE_R },
		{ "of length 0", GPA_LAZY, 0, EPTE_R },
		{ "with perm 0", GPA_LAZY, 1, 0 },
		{ "with a bad perm bit", GPA_LAZY, 1, EPTE_R | EPTE_BOGUS },
	};
	size_t nfree = page_free_count(), i;
	struct PageInfo *pp;
	uint8_t *k, *k2;
	int r, ro, perm = 0;

	CHECK(guest_ram(g, 0) && guest_ram(g, GUEST_LOWMEM_END - 1) &&
	      !guest_ram(g, GUEST_LOWMEM_END) &&
	      !guest_ram(g, GUEST_HIGHMEM_START - 1) &&
	      guest_ram(g, GUEST_HIGHMEM_START) &&
	      guest_ram(g, TEST_GPHYSZ - 1) && !guest_ram(g, TEST_GPHYSZ),
	      "guest_ram: wrong RAM boundaries");
	r = guest_populate(g, GUEST_LOWMEM_END);
	CHECK(r == -E_INVAL, "guest_populate(hole): %e", r);
	r = guest_populate(g, TEST_GPHYSZ);
	CHECK(r == -E_INVAL, "guest_populate(at gphysz): %e", r);

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(!guest_gpa2kva(g, bad[i].gpa, bad[i].len, bad[i].perm),
		      "guest_gpa2kva %s gave an address", bad[i].what);
	CHECK(page_free_count() == nfree,
	      "failed guest_gpa2kva calls allocated pages");

	/* A RAM page nobody mapped: populated, zeroed, R|W|X. */
	k = guest_gpa2kva(g, GPA_LAZY + TEST_OFF, 4, EPTE_RW);
	pp = ept_page_lookup(g->ept_root, GPA_LAZY, &perm);
	CHECK(k && pp && perm == EPTE_PERM &&
	      k == (uint8_t *)page2kva(pp) + TEST_OFF && k[0] == 0,
	      "guest_gpa2kva(unpopulated RAM) gave no or a wrong address");
	nfree = page_free_count();
	k2 = guest_gpa2kva(g, GPA_LAZY + TEST_OFF, 4, EPTE_RW);
	r = guest_populate(g, GPA_LAZY);
	CHECK(k2 == k && r == 0 && page_free_count() == nfree,
	      "guest_gpa2kva/guest_populate of a populated page: %e", r);

	/* The page sys_ept_map put there is the one the host sees. */
	k = guest_gpa2kva(g, GPA_MAPPED + TEST_OFF, 8, EPTE_RW);
	CHECK(k == (uint8_t *)page2kva(f->rw) + TEST_OFF,
	      "guest_gpa2kva(sys_ept_map's page) gave a wrong address");

	/* A read-only mapping: readable, never writable. */
	ro = f->ro->pp_ref;
	r = _export_sys_ept_map(f->src->env_id, (void *)SRC_VA_RO,
				f->guest->env_id, (void *)GPA_RO, EPTE_RX);
	CHECK(r == 0 && f->ro->pp_ref == ro + 1,
	      "sys_ept_map(read-only page, R|X): %e", r);
	CHECK(!guest_gpa2kva(g, GPA_RO, 1, EPTE_W),
	      "guest_gpa2kva(read-only page, write) gave an address");
	CHECK(guest_gpa2kva(g, GPA_RO, 1, EPTE_R) == page2kva(f->ro),
	      "guest_gpa2kva(read-only page, read) gave a wrong address");
}

/* Free both envs (the guest first, through env_free's VMM hook). */
static void teardown(struct fixture *f)
{
	curenv = NULL;
	if (f->guest) {
		env_free(f->guest);
		CHECK(f->guest->env_vcpu == NULL,
		      "env_free(guest) left its struct Vcpu");
	}
	if (f->src)
		env_free(f->src);
}

void test_ept_map(void)
{
	size_t nfree = page_free_count(), nenvs = env_count_live();
	struct fixture f;

	cprintf("test_ept_map: starting\n");
	/* vmm_init() chose the format of this CPU's vendor. */
	cprintf("test_ept_map: %s entries (%s)\n", nested_fmt->walk.name,
		vmm_ops->name);
	nchecks = nfailed = 0;
	if (setup(&f)) {
		curenv = f.src;
		test_good_map(&f);
		test_bad_maps(&f);
		test_lookup(&f);
		test_hva2gpa(&f);
		test_gpa2kva(&f);
		test_gen(&f);
	}
	teardown(&f);
	CHECK(page_free_count() == nfree, "%ld pages leaked",
	      (long)(nfree - page_free_count()));
	CHECK(env_count_live() == nenvs, "envs left alive");

	if (nfailed == 0) {
		cprintf("test_ept_map: all %d checks passed\n", nchecks);
		cprintf("Cheers! sys_ept_map seems to work correctly\n");
	} else {
		cprintf("test_ept_map: %d of %d checks failed\n", nfailed,
			nchecks);
	}
}
