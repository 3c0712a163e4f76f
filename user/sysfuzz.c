/*
 * sysfuzz: a system-call fuzzer. It makes TOTAL_CALLS system calls with
 * random call numbers (invalid ones included) and random, adversarial
 * arguments: env ids 0, our own, our parent's, other live envs', stale and
 * made-up ones; addresses around 0, UTOP, ULIM, the kernel, unaligned,
 * non-canonical; random permissions, lengths and values. The kernel must
 * survive all of it, reject what is invalid, and leak nothing: when
 * sysfuzz is done every env is gone, so the kernel's final "Free pages"
 * equals its "Free pages before the first env".
 *
 * The fuzzing runs in forked children, because a random call may well
 * kill its caller (a bad pointer to sys_cputs, sys_env_destroy(0), ...).
 * A child counts its calls in a page it shares with the parent (PTE_SHARE,
 * so fork leaves it shared), bumping the count before each call, so the
 * one that kills it counts too. The parent restarts children until the
 * total is reached, and destroys a child that can make no more progress:
 * at once if it is blocked (ENV_NOT_RUNNABLE: in sys_ipc_recv, or stopped
 * by its own sys_env_set_status), or if it is runnable but has started no
 * call for STALL_MSEC.
 *
 * So that IPC can succeed (and pass pages), each child has a partner, a
 * receiver env the parent forks alongside it: it does nothing but
 * sys_ipc_recv at random addresses, and its id is in the child's pool of
 * env ids. The parent destroys it when the child is done.
 *
 * What the random mix leaves out, and why (a fuzz child must leave nothing
 * the parent cannot reclaim, and must not stop the whole test):
 *  - sys_exofork and sys_env_mkguest: they create envs whose parent is the
 *    fuzz child. When the child dies they would be orphans that nobody may
 *    destroy (only an env's parent may), leaking their memory and slots.
 *    The parent exercises sys_exofork itself instead (exo_round): it makes
 *    an env, aims random calls at it, and destroys it. That env is never
 *    made runnable, because with an empty or random address space it
 *    would run random bytes as code.
 *  - sys_poweroff: it ends the emulator, and the test with it.
 *  - Entry points in our own memory: a self-aimed sys_env_set_pgfault_upcall
 *    or sys_env_set_trapframe only gets addresses at or above UTOP (never
 *    mappable by us; the kernel must refuse or fault them). Jumping into
 *    our own code or data could run anything, the user panic path or an
 *    int3 included, and a breakpoint enters the kernel monitor, which
 *    stops the test without finding any kernel bug. For the same reason a
 *    frame never gets the trap flag (single-step enters the monitor).
 *  - Calls that end or stall the child (listed in disruptive()) are
 *    allowed only once in DISRUPT_ODDS tries, so a child lives long enough
 *    to make many calls; they are all still made.
 */
#include <inc/lib.h>

#define TOTAL_CALLS 100000
#define DEFAULT_SEED 20260611u
/* A disruptive call is kept with probability 1 / DISRUPT_ODDS. */
#define DISRUPT_ODDS 64
/* A runnable child that made no call for this long is destroyed. */
#define STALL_MSEC 3000
/* Random calls aimed at each env the parent makes with sys_exofork. */
#define EXO_CALLS 16
/* Calls in one exo_round: sys_exofork, EXO_CALLS, sys_env_destroy. */
#define EXO_ROUND_CALLS (EXO_CALLS + 2)
/* Call numbers past the last valid one that the mix includes. */
#define BAD_NUMS 4

#define PERM_RW (PTE_P | PTE_U | PTE_W)
/* Where the counting page is shared with the children. */
#define SHARED_VA 0xB0000000UL
/* Random page-aligned addresses that calls may map land in this window
 * (64 MiB, away from the program, its stacks and SHARED_VA). */
#define FUZZ_LO 0x10000000UL
#define FUZZ_PAGES 16384
/* The parent's page that it lets the exofork'ed env map. */
#define SCRATCH_VA 0xA0000000UL

/* The page parent and child share. */
struct shared {
	volatile uint64_t calls;  /* calls the current child has started */
	volatile uint64_t budget; /* calls it may make */
	volatile uint64_t seed;   /* its random seed */
	volatile envid_t receiver; /* its IPC partner */
};

static struct shared *const sh = (struct shared *)SHARED_VA;

/* From user/user.ld: the end of the program's memory image. */
extern char end[];

/* ---- Randomness: xorshift64 ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Uniform in [0, n). */
static uint64_t below(uint64_t n)
{
	return rnd() % n;
}

/* ---- Argument pools ---------------------------------------------------- */

/* Our image, stacks and shared page: a call that changes their mapping
 * in our own address space is disruptive. */
static bool vital(uint64_t va)
{
	va = ROUNDDOWN(va, PGSIZE);
	return (va >= UTEXT && va < ROUNDUP((uint64_t)end, PGSIZE)) ||
	       (va >= USTACKTOP - 4 * PGSIZE && va < UTOP) || va == SHARED_VA;
}

/* Pages this env mapped with a successful sys_page_alloc: sources that
 * sys_page_map and sys_ipc_try_send can actually use. */
#define NREMEMBER 16
static uint64_t remembered[NREMEMBER];
static int nremembered;

static void remember(uint64_t va)
{
	remembered[nremembered++ % NREMEMBER] = va;
}

static uint64_t rand_addr(void)
{
	static const uint64_t fixed[] = {
		0, 1, PGSIZE - 1, PGSIZE, (uint64_t)UTEMP, (uint64_t)PFTEMP,
		UTEXT, UTEXT + PGSIZE + 8, USTACKTOP - PGSIZE, USTACKTOP,
		UXSTACKTOP - PGSIZE, UXSTACKTOP - 8, UTOP - 1, UTOP,
		UTOP + PGSIZE, 0x100000000UL, UENVS, UPAGES, UVPT,
		ULIM - PGSIZE, ULIM - 1, ULIM, KERNBASE, KERNLINK,
		KERNLINK + 0x100000, ~0UL, ~0UL - PGSIZE + 1,
		0x8000000000000000UL, SHARED_VA,
	};

	switch (below(5)) {
	case 0:
		return fixed[below(ARRAY_SIZE(fixed))];
	case 1: /* aligned, where mapping is harmless */
		return FUZZ_LO + below(FUZZ_PAGES) * PGSIZE;
	case 2: /* unaligned, same window */
		return FUZZ_LO + below(FUZZ_PAGES * PGSIZE);
	case 3:
		if (nremembered > 0)
			return remembered[below(MIN(nremembered, NREMEMBER))];
		/* fall through */
	default:
		return below(2) ? rnd() : (uint32_t)rnd();
	}
}

/* Entry points that can never be inside our address space (see top). */
static uint64_t rand_far_addr(void)
{
	static const uint64_t far[] = {
		UTOP, UTOP + PGSIZE, 0x100000000UL, ULIM, KERNBASE, KERNLINK,
		KERNLINK + 0x100000, ~0UL & ~(uint64_t)(PGSIZE - 1),
		0x8000000000000000UL, 0x0000800000001000UL,
	};

	return below(4) ? far[below(ARRAY_SIZE(far))] : rnd() | ULIM;
}

static uint64_t rand_env(void)
{
	envid_t self = thisenv->env_id;

	switch (below(9)) {
	case 0:
		return 0;
	case 1:
		return self;
	case 8:
		return sh->receiver;
	case 2:
		return thisenv->env_parent_id;
	case 3: /* whoever is in a random slot now, live or not */
		return envs[below(NENV)].env_id;
	case 4: /* our slot, another generation */
		return self + NENV * (1 + below(4));
	case 5:
		return (uint64_t)-1;
	case 6:
		return (uint32_t)rnd();
	default:
		return rnd();
	}
}

/* The env a call acts on: often ourselves, the only env whose memory a
 * call of ours may change. */
static uint64_t rand_target(void)
{
	switch (below(4)) {
	case 0:
		return 0;
	case 1:
		return thisenv->env_id;
	default:
		return rand_env();
	}
}

static uint64_t rand_perm(void)
{
	static const uint64_t fixed[] = {
		0, PTE_P, PTE_U, PTE_P | PTE_U, PERM_RW, PTE_SYSCALL,
		PERM_RW | PTE_SHARE, PTE_P | PTE_U | PTE_COW, PERM_RW | PTE_PS,
		PERM_RW | PTE_G, PERM_RW | PTE_PCD, 0xFFF, ~0UL, PTE_NX | PERM_RW,
	};

	return below(4) ? fixed[below(ARRAY_SIZE(fixed))] : rnd();
}

/* Small numbers (statuses, lengths, values) and some big ones. */
static uint64_t rand_value(void)
{
	static const uint64_t fixed[] = {
		0, 1, 2, 3, 4, 5, 8, PGSIZE, ~0UL, 0x7FFFFFFF, 0x80000000UL,
		0x100000000UL,
	};

	return below(2) ? fixed[below(ARRAY_SIZE(fixed))] : rnd();
}

static uint64_t rand_any(void)
{
	switch (below(4)) {
	case 0:
		return rand_addr();
	case 1:
		return rand_env();
	case 2:
		return rand_perm();
	default:
		return rand_value();
	}
}

/* ---- One call ------------------------------------------------------------ */

struct call {
	uint64_t num;
	uint64_t a[5];
};

/* A trap frame for sys_env_set_trapframe to read, rewritten per call. */
static struct Trapframe fuzz_tf;

/* Random frame contents, with a rip and rsp the kernel must check. */
static uint64_t rand_frame(bool self)
{
	uint64_t w[sizeof(fuzz_tf) / sizeof(uint64_t)];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(w); i++)
		w[i] = rand_any();
	memcpy(&fuzz_tf, w, sizeof(w));
	fuzz_tf.tf_rip = self ? rand_far_addr() : rand_addr();
	fuzz_tf.tf_rsp = rand_addr();
	fuzz_tf.tf_eflags &= ~(uint64_t)FL_TF;
	return (uint64_t)&fuzz_tf;
}

static bool is_self(uint64_t envid)
{
	/* The kernel reads env ids as 32 bits. */
	return (envid_t)envid == 0 || (envid_t)envid == thisenv->env_id;
}

/* Random arguments for call c->num, each of the kind the call takes. */
static void rand_args(struct call *c)
{
	int i;

	for (i = 0; i < 5; i++)
		c->a[i] = rand_any();
	switch (c->num) {
	case SYS_cputs:
		c->a[0] = rand_addr();
		c->a[1] = below(4) ? 0 : rand_value();
		break;
	case SYS_env_destroy:
	case SYS_env_destroy_tree:
		c->a[0] = rand_env();
		break;
	case SYS_page_alloc:
		c->a[0] = rand_target();
		c->a[1] = rand_addr();
		c->a[2] = rand_perm();
		break;
	case SYS_page_map:
		c->a[0] = rand_target();
		c->a[1] = rand_addr();
		c->a[2] = rand_target();
		c->a[3] = rand_addr();
		c->a[4] = rand_perm();
		break;
	case SYS_page_unmap:
		c->a[0] = rand_target();
		c->a[1] = rand_addr();
		break;
	case SYS_env_set_status:
		c->a[0] = rand_env();
		c->a[1] = rand_value();
		break;
	case SYS_env_set_trapframe:
		c->a[0] = rand_env();
		c->a[1] = below(2) ? rand_addr() : rand_frame(is_self(c->a[0]));
		break;
	case SYS_env_set_pgfault_upcall:
		c->a[0] = rand_env();
		c->a[1] = is_self(c->a[0]) ? rand_far_addr() : rand_addr();
		break;
	case SYS_ipc_try_send:
		c->a[0] = rand_env();
		c->a[1] = rand_value();
		c->a[2] = rand_addr();
		c->a[3] = rand_perm();
		break;
	case SYS_ipc_recv:
		c->a[0] = rand_addr();
		break;
	case SYS_ept_map:
		c->a[0] = rand_env();
		c->a[1] = rand_addr();
		c->a[2] = rand_env();
		c->a[3] = rand_addr();
		c->a[4] = rand_perm();
		break;
	}
}

/* Is it a call that would kill or stall the calling child? */
static bool disruptive(const struct call *c)
{
	switch (c->num) {
	case SYS_cputs: /* prints, or kills us if the range is bad */
		return c->a[1] != 0;
	case SYS_env_destroy:
	case SYS_env_destroy_tree:
		return is_self(c->a[0]);
	case SYS_env_set_status:
		return is_self(c->a[0]) && c->a[1] == ENV_NOT_RUNNABLE;
	case SYS_env_set_trapframe:
	case SYS_env_set_pgfault_upcall:
		return is_self(c->a[0]);
	case SYS_page_alloc:
	case SYS_page_unmap:
		return is_self(c->a[0]) && vital(c->a[1]);
	case SYS_page_map:
		return is_self(c->a[2]) && vital(c->a[3]);
	case SYS_ipc_recv: /* blocks unless the address is bad */
		return c->a[0] >= UTOP || PGOFF(c->a[0]) == 0;
	default:
		return false;
	}
}

static struct call rand_call(void)
{
	struct call c;

	for (;;) {
		if (below(4))
			c.num = below(NSYSCALLS + BAD_NUMS);
		else
			c.num = rand_value() | (below(2) ? 0 : 1UL << 32);
		/* Left out: see the top of the file. */
		if (c.num == SYS_exofork || c.num == SYS_env_mkguest ||
		    c.num == SYS_poweroff)
			continue;
		rand_args(&c);
		if (!disruptive(&c) || below(DISRUPT_ODDS) == 0)
			return c;
	}
}

/* The raw trap: any number, any arguments, no checking. */
static int64_t raw_syscall(const struct call *c)
{
	int64_t ret;

	asm volatile("int %1"
		     : "=a"(ret)
		     : "i"(T_SYSCALL), "a"(c->num), "d"(c->a[0]), "c"(c->a[1]),
		       "b"(c->a[2]), "D"(c->a[3]), "S"(c->a[4])
		     : "cc", "memory");
	return ret;
}

/* ---- The fuzz child ------------------------------------------------------ */

/* Has env id left the system (its slot free or reused)? */
static bool gone(envid_t id)
{
	const volatile struct Env *e = &envs[ENVX(id)];

	return e->env_id != id || e->env_status == ENV_FREE;
}

/* Any fault from here on means a call broke our memory: just go. */
static void fuzz_fault(struct UTrapframe *utf)
{
	sys_env_destroy(0);
}

/* Take private copies of our copy-on-write pages now, while fork's
 * handler still makes them, before installing fuzz_fault. */
static void break_cow(void)
{
	volatile char *p;
	char here;

	for (p = (char *)UTEXT; p < end; p += PGSIZE)
		*p = *p;
	p = (char *)ROUNDDOWN((uintptr_t)&here, PGSIZE);
	*p = *p;
}

static void fuzz_child(void)
{
	struct call c;

	break_cow();
	set_pgfault_handler(fuzz_fault);
	rng_state = sh->seed;
	while (sh->calls < sh->budget) {
		c = rand_call();
		sh->calls++;
		if (raw_syscall(&c) == 0 && c.num == SYS_page_alloc &&
		    is_self(c.a[0]))
			remember(c.a[1]);
	}
	exit();
}

/* The IPC partner: receive, anywhere but over our own image and stacks,
 * forever. */
static void receiver(void)
{
	uint64_t va;

	rng_state ^= (uint64_t)thisenv->env_id << 32;
	for (;;) {
		va = rand_addr();
		if (va >= UTOP || !vital(va))
			sys_ipc_recv((void *)va);
	}
}

/* Destroy env id, our child, and wait until it is gone. */
static void destroy(envid_t id)
{
	sys_env_destroy(id);
	/* It may still be running on another CPU: the kernel frees it at
	 * its next trap. */
	while (!gone(id))
		sys_yield();
}

/* ---- The parent ---------------------------------------------------------- */

/*
 * Run one fuzz child with a budget of calls; return how many it made.
 * Stops it when it cannot make progress (see the top of the file).
 */
static uint64_t run_child(uint64_t budget, int *stopped)
{
	envid_t child, partner;
	uint64_t last_calls = 0;
	unsigned last_change;

	if ((partner = fork()) < 0)
		panic("fork: %e", partner);
	if (partner == 0)
		receiver();
	sh->calls = 0;
	sh->budget = budget;
	sh->seed = rnd() | 1;
	sh->receiver = partner;
	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0)
		fuzz_child();

	last_change = sys_time_msec();
	while (!gone(child)) {
		const volatile struct Env *e = &envs[ENVX(child)];
		bool blocked = e->env_status == ENV_NOT_RUNNABLE;

		if (sh->calls != last_calls) {
			last_calls = sh->calls;
			last_change = sys_time_msec();
		}
		if (blocked || sys_time_msec() - last_change > STALL_MSEC) {
			destroy(child);
			(*stopped)++;
			break;
		}
		sys_yield();
	}
	destroy(partner);
	return sh->calls;
}

/* An env id that is never valid, or the exofork'ed env's. */
static envid_t exo_env(envid_t exo)
{
	return below(4) ? exo : (envid_t)rand_env() | (1 << 31);
}

/*
 * Make an env with sys_exofork, aim EXO_CALLS random calls at it (it is
 * our child, so they can succeed), then destroy it. Nothing here may
 * touch our own memory except SCRATCH_VA's page (as a source), and the
 * env is never made runnable. Returns the number of calls made.
 */
static int exo_round(void)
{
	envid_t exo = sys_exofork();
	int i;

	if (exo == 0) /* never runs: see the top of the file */
		for (;;)
			sys_yield();
	if (exo < 0)
		return 1;
	for (i = 0; i < EXO_CALLS; i++) {
		struct call c = { 0 };
		switch (below(8)) {
		case 0:
			c.num = SYS_page_alloc;
			c.a[0] = exo_env(exo);
			c.a[1] = rand_addr();
			c.a[2] = rand_perm();
			break;
		case 1:
			c.num = SYS_page_map;
			c.a[0] = below(2) ? 0 : exo;
			c.a[1] = c.a[0] == 0 ? SCRATCH_VA : rand_addr();
			c.a[2] = exo_env(exo);
			c.a[3] = rand_addr();
			c.a[4] = rand_perm();
			break;
		case 2:
			c.num = SYS_page_unmap;
			c.a[0] = exo_env(exo);
			c.a[1] = rand_addr();
			break;
		case 3:
			c.num = SYS_env_set_status;
			c.a[0] = exo_env(exo);
			do
				c.a[1] = rand_value();
			while (c.a[1] == ENV_RUNNABLE);
			break;
		case 4:
			c.num = SYS_env_set_trapframe;
			c.a[0] = exo_env(exo);
			c.a[1] = below(2) ? rand_addr() : rand_frame(false);
			break;
		case 5:
			c.num = SYS_env_set_pgfault_upcall;
			c.a[0] = exo_env(exo);
			c.a[1] = rand_addr();
			break;
		case 6:
			c.num = SYS_ipc_try_send;
			c.a[0] = exo_env(exo);
			c.a[1] = rand_value();
			c.a[2] = below(2) ? SCRATCH_VA : rand_far_addr();
			c.a[3] = rand_perm();
			break;
		default:
			c.num = SYS_env_destroy;
			c.a[0] = exo;
			break;
		}
		raw_syscall(&c);
	}
	sys_env_destroy(exo); /* fails harmlessly if a call already did */
	return EXO_ROUND_CALLS;
}

void umain(int argc, char **argv)
{
	uint64_t total = 0;
	int children = 0, stopped = 0, r;
	unsigned seed = DEFAULT_SEED;

	if (argc > 1)
		seed = strtol(argv[1], NULL, 0);
	cprintf("sysfuzz: seed %u\n", seed);
	rng_state = seed ? seed : DEFAULT_SEED;

	if ((r = sys_page_alloc(0, sh, PERM_RW | PTE_SHARE)) < 0 ||
	    (r = sys_page_alloc(0, (void *)SCRATCH_VA, PERM_RW)) < 0)
		panic("sys_page_alloc: %e", r);

	/* Exactly TOTAL_CALLS: a child never exceeds its budget. */
	while (total < TOTAL_CALLS) {
		if (TOTAL_CALLS - total > EXO_ROUND_CALLS)
			total += exo_round();
		total += run_child(TOTAL_CALLS - total, &stopped);
		children++;
	}
	cprintf("sysfuzz: %d children, %d stopped for making no progress\n",
		children, stopped);
	cprintf("sysfuzz: %d system calls, kernel survived\n", (int)total);
}
