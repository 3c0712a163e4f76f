/*
 * vmmfuzz: the VMM's system calls with random arguments, and racing with
 * guest destruction. Seeded, so a failing run can be repeated.
 *
 *  - sys_env_mkguest with random sizes and entry points (most invalid);
 *  - sys_ept_map with random source addresses, guest-physical addresses
 *    and permissions, into live guests, destroyed guests and non-guests;
 *  - the same page mapped twice, and at two addresses;
 *  - on a 2-CPU host, a child destroys each guest while the parent is
 *    still mapping into it (it may be dying, or gone).
 * No call may panic the kernel; at the end every guest is gone and the
 * free page count is what it was (pages mapped here stay mapped).
 *
 * Prints "vmmfuzz: seed N", then "vmmfuzz: N calls, M guests, kernel
 * survived, free pages equal" or "vmmfuzz: FAIL: ...".
 */
#include <inc/lib.h>
#include <inc/vmx.h>

#define NROUNDS 40
#define CALLS_PER_ROUND 200
#define NPAGES 8
#define VA_BASE 0x10000000UL
#define PERM_RW (PTE_P | PTE_U | PTE_W)
/* Guest memory: the smallest a guest may have. */
#define FUZZ_GPHYSZ GUEST_MEM_MIN

static uint64_t rng_state;

/* xorshift64: small and good enough to spread arguments around. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A mostly plausible, sometimes wild, 64-bit value. */
static uint64_t pick(uint64_t plausible, uint64_t span)
{
	switch (rnd() % 4) {
	case 0: return rnd();
	case 1: return plausible + (rnd() % span);
	case 2: return ROUNDDOWN(plausible + (rnd() % span), PGSIZE);
	default: return plausible;
	}
}

static envid_t fuzz_mkguest(void)
{
	uint64_t size = (rnd() % 4) ? FUZZ_GPHYSZ : pick(FUZZ_GPHYSZ, 1UL << 32);
	uint64_t rip = (rnd() % 4) ? GUEST_BOOT_PA : rnd();

	return sys_env_mkguest(size, rip);
}

static void fuzz_map(envid_t guest, envid_t other)
{
	uint64_t srcva = pick(VA_BASE, NPAGES * PGSIZE);
	uint64_t gpa = pick(0, FUZZ_GPHYSZ + PGSIZE);
	int perm = (rnd() % 3) ? __EPTE_FULL : (int)(rnd() & 0xF);
	envid_t dst = (rnd() % 8) ? guest : (rnd() % 2) ? other : (envid_t)rnd();

	sys_ept_map(0, (void *)srcva, dst, (void *)gpa, perm);
}

/* The same page at one address twice (the second must fail), and at a
 * second address. */
static void map_twice(envid_t guest)
{
	sys_ept_map(0, (void *)VA_BASE, guest, (void *)GUEST_HIGHMEM_START,
		    __EPTE_FULL);
	sys_ept_map(0, (void *)VA_BASE, guest, (void *)GUEST_HIGHMEM_START,
		    __EPTE_FULL);
	sys_ept_map(0, (void *)VA_BASE, guest,
		    (void *)(GUEST_HIGHMEM_START + PGSIZE), __EPTE_FULL);
}

/* One round: a guest, random calls, and its destruction by a child
 * racing with the calls. */
static int round(int n, envid_t self)
{
	envid_t guest = fuzz_mkguest(), killer;
	int i;

	if (guest < 0)
		return 0;
	map_twice(guest);
	if ((killer = fork()) < 0)
		panic("fork: %e", killer);
	if (killer == 0) {
		/* Let the parent start mapping, then pull the rug. */
		for (i = 0; i < n % 5; i++)
			sys_yield();
		sys_env_destroy(guest);
		exit();
	}
	for (i = 0; i < CALLS_PER_ROUND; i++) {
		if (rnd() % 8 == 0) {
			envid_t g2 = fuzz_mkguest();
			if (g2 >= 0)
				sys_env_destroy(g2);
		}
		fuzz_map(guest, self);
	}
	wait(killer);
	/* Gone already, or destroyed now; either way not twice. */
	sys_env_destroy(guest);
	return 1;
}

void umain(int argc, char **argv)
{
	size_t before;
	int i, guests = 0;
	envid_t self = sys_getenvid();

	binaryname = "vmmfuzz";
	rng_state = argc > 1 ? strtol(argv[1], NULL, 0) : sys_time_msec() + 1;
	if (rng_state == 0)
		rng_state = 1;
	printf("vmmfuzz: seed %ld\n", (long)rng_state);
	for (i = 0; i < NPAGES; i++)
		if (sys_page_alloc(0, (void *)(VA_BASE + i * PGSIZE), PERM_RW) < 0)
			panic("sys_page_alloc");
	/* A first round before counting: one-time costs (per-CPU VMX/SVM
	 * pages, our own copy-on-write copies after a fork) are paid. The
	 * kernel's own count when every env is gone (the grader's "Free
	 * pages" check) covers the rest. */
	guests += round(0, self);
	before = sys_page_free_count();
	for (i = 1; i < NROUNDS; i++)
		guests += round(i, self);
	if (sys_page_free_count() != before)
		printf("vmmfuzz: FAIL: %ld free pages before, %ld after\n",
		       (long)before, (long)sys_page_free_count());
	else
		printf("vmmfuzz: %d calls, %d guests, kernel survived, free "
		       "pages equal\n", NROUNDS * CALLS_PER_ROUND, guests);
}
