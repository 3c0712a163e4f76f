/*
 * vmrunbad: the hand-off of a PC-kind guest's device exits (vmm/devexit.c,
 * inc/vmrun.h) must refuse bad arguments and survive a VMM program that
 * writes garbage into the run page. VMMCTL_PC gets bad lengths, kinds
 * and pages; sys_vcpu_run gets envs that are no guest, or not a PC guest.
 * Then a tiny real-mode guest (OUT, IN, OUT of what IN read, REP INSB of
 * 4 KiB, again) runs under us as its VMM: every exit must be the one its
 * code makes, the kernel must take only the low byte of an IN's answer
 * and only its own count of a string transfer whatever we write, and
 * clamp the console lengths and ignore bad interrupt vectors we ask for.
 * Two rounds; the second must end with the free pages it started with.
 * Last, a VMM program (a child) that dies, with its guest running or
 * waiting for its answer, takes the guest with it, every page back.
 *
 * Invariants:
 * - "vmrunbad: FAIL: ..." for each failed check; "vmrunbad: all N
 *   checks passed" only when none failed.
 * - Our pages (run page, code page, data page) are mapped before the
 *   free pages are counted.
 */
#include <inc/lib.h>
#include <inc/vmx.h>
#include <inc/vmrun.h>
#include <inc/vmmctl.h>

#define CHECK_PROG "vmrunbad"
#include "check.h"

#define RUN_VA ((struct vmrun *)0x10000000UL)
#define VA_RO (0x10000000UL + PGSIZE)     /* read-only */
#define VA_NONE (0x10000000UL + 2 * PGSIZE)
#define VA_CODE (0x10000000UL + 3 * PGSIZE) /* guest page 0x7000 */
#define VA_DATA (0x10000000UL + 4 * PGSIZE) /* guest page 0x8000 */
#define VA_CHILD_RUN (0x10000000UL + 5 * PGSIZE) /* the child's own */
#define VA_CHILD_CODE (0x10000000UL + 6 * PGSIZE)
#define PERM_RW (PTE_P | PTE_U | PTE_W)
#define PERM_RO (PTE_P | PTE_U)
#define GPA_CODE 0x7000UL
#define GPA_DATA 0x8000UL
#define BAD_ENVID ((envid_t)-1)
#define PORT 0x80
#define OUT_VALUE 0x41
#define IN_ANSWER 0x1234567890ULL  /* only 0x90 may reach AL */
#define IN_LOW 0x90
#define STRING_BYTES 4096
#define ROUNDS 2
#define LOOPS 2

/*
 * At GUEST_BOOT_PA, real mode (SDM Vol. 2 encodings):
 *   mov al, 0x41; out 0x80, al; in al, 0x80; out 0x80, al;
 *   cld; mov cx, 0x1000; mov di, 0x8000; mov dx, 0x80; rep insb;
 *   jmp to the start
 */
static const uint8_t guest_code[] = {
	0xB0, OUT_VALUE, 0xE6, PORT, 0xE4, PORT, 0xE6, PORT,
	0xFC, 0xB9, 0x00, 0x10, 0xBF, 0x00, 0x80, 0xBA, PORT, 0x00,
	0xF3, 0x6C, 0xEB, 0xEA,
};

/* sti; jmp $ (host interrupts exit it), and out 0x80, al; jmp back. */
static const uint8_t spin_code[] = { 0xFB, 0xEB, 0xFE };
static const uint8_t out_code[] = { 0xE6, PORT, 0xEB, 0xFC };

static struct vmrun *const run = RUN_VA;

static int pc_setup(envid_t g, int kind, void *page, size_t len)
{
	struct vmm_pc pc = { kind, page };

	return sys_vmm_ctl(VMMCTL_PC, g, &pc, len);
}

/* VMMCTL_PC and sys_vcpu_run refuse what they must. */
static void bad_args(envid_t g)
{
	size_t n = sizeof(struct vmm_pc);

	CHECK(sys_vcpu_run(BAD_ENVID) == -E_BAD_ENV, "vcpu_run(bad id)");
	CHECK(sys_vcpu_run(0) == -E_BAD_ENV, "vcpu_run(ourselves)");
	CHECK(sys_vcpu_run(g) == -E_INVAL, "vcpu_run of a JOS-kind guest");
	CHECK(pc_setup(g, VMM_KIND_PC, run, n - 1) == -E_INVAL, "short arg");
	CHECK(pc_setup(g, VMM_KIND_JOS, run, n) == -E_INVAL, "kind jos");
	CHECK(pc_setup(g, VMM_NKINDS, run, n) == -E_INVAL, "kind too big");
	CHECK(pc_setup(g, VMM_KIND_PC, (char *)run + 8, n) == -E_INVAL,
	      "unaligned run page");
	CHECK(pc_setup(g, VMM_KIND_PC, (void *)VA_NONE, n) == -E_INVAL,
	      "unmapped run page");
	CHECK(pc_setup(g, VMM_KIND_PC, (void *)VA_RO, n) == -E_INVAL,
	      "read-only run page");
	CHECK(pc_setup(g, VMM_KIND_PC, (void *)UTOP, n) == -E_INVAL,
	      "run page at UTOP");
	CHECK(pc_setup(g, VMM_KIND_PC, run, n) == 0, "good VMMCTL_PC");
	CHECK(pc_setup(g, VMM_KIND_PC, run, n) == -E_INVAL, "VMMCTL_PC twice");
}

/* One exit: it must be PIO on PORT of size 1, `in` and `string` as said. */
static bool next_exit(envid_t g, bool in, bool string)
{
	int r = sys_vcpu_run(g);

	CHECK(r == 0, "sys_vcpu_run: %e", r);
	if (r < 0)
		return false;
	CHECK(run->exit == VMRUN_EXIT_PIO && run->pio.port == PORT &&
	      run->pio.size == 1 && run->pio.in == in &&
	      run->pio.string == string,
	      "exit %u port %x size %u in %u string %u, wanted in %d "
	      "string %d", run->exit, run->pio.port, run->pio.size,
	      run->pio.in, run->pio.string, in, string);
	return true;
}

/* Garbage the kernel must bound or ignore, before each answer. */
static void garbage(unsigned i)
{
	run->cons_out_len = i % 2 ? ~0U : VMRUN_CONS_OUT_MAX + 1;
	run->cons_in_room = ~0U;
	run->intr_vector = i % 2 ? 3 : 1000;
	run->pio.count = ~0U;
	run->pio.size = 8;
}

static void one_loop(envid_t g, unsigned *n)
{
	uint32_t got = 0, i;

	if (!next_exit(g, false, false))
		return;
	CHECK(run->pio.value == OUT_VALUE, "OUT value %x", run->pio.value);
	garbage((*n)++);
	if (!next_exit(g, true, false))
		return;
	run->value = IN_ANSWER;
	garbage((*n)++);
	if (!next_exit(g, false, false))
		return;
	CHECK(run->pio.value == IN_LOW, "IN gave AL %x, not %x",
	      run->pio.value, IN_LOW);
	while (got < STRING_BYTES) {
		garbage((*n)++);
		if (!next_exit(g, true, true))
			return;
		CHECK(run->pio.count > 0 && run->pio.count <= VMRUN_DATA_MAX,
		      "string count %u", run->pio.count);
		for (i = 0; i < run->pio.count; i++)
			run->data[i] = (uint8_t)(got + i);
		got += run->pio.count;
	}
	CHECK(got == STRING_BYTES, "string moved %u bytes", got);
	garbage((*n)++);
}

static void rogue_round(int round)
{
	int64_t before, after;
	unsigned n = 0;
	envid_t g;
	int i;

	before = sys_page_free_count();
	if ((g = sys_env_mkguest(GUEST_MEM_MIN, GUEST_BOOT_PA)) < 0) {
		cprintf("vmrunbad: no guest: %e\n", g);
		nfailed++;
		return;
	}
	bad_args(g);
	memset(RUN_VA, 0, PGSIZE);
	memcpy((uint8_t *)VA_CODE + (GUEST_BOOT_PA - GPA_CODE), guest_code,
	       sizeof(guest_code));
	CHECK(sys_ept_map(0, (void *)VA_CODE, g, (void *)GPA_CODE,
			  __EPTE_FULL) == 0, "mapping the code");
	CHECK(sys_ept_map(0, (void *)VA_DATA, g, (void *)GPA_DATA,
			  __EPTE_FULL) == 0, "mapping the data page");
	for (i = 0; i < LOOPS; i++)
		one_loop(g, &n);
	/* The kernel's own count: the guest's page has our bytes. */
	for (i = 0; i < STRING_BYTES; i++)
		if (((uint8_t *)VA_DATA)[i] != (uint8_t)i)
			break;
	CHECK(i == STRING_BYTES, "guest byte %d is %x", i,
	      ((uint8_t *)VA_DATA)[i]);
	CHECK(sys_env_destroy(g) == 0, "destroying the guest");
	CHECK(sys_vcpu_run(g) == -E_BAD_ENV, "vcpu_run of a dead guest");
	after = sys_page_free_count();
	if (round > 0)
		CHECK(before == after, "free pages %ld before, %ld after",
		      (long)before, (long)after);
}

static bool alive(envid_t id)
{
	const volatile struct Env *e = &envs[ENVX(id)];

	return e->env_id == id && e->env_status != ENV_FREE;
}

/* The child: a PC guest running code, then the first exit (if any). */
static void __attribute__((noreturn)) child_vmm(envid_t parent,
						const uint8_t *code, size_t n)
{
	struct vmm_pc pc = { VMM_KIND_PC, (void *)VA_CHILD_RUN };
	envid_t g = sys_env_mkguest(GUEST_MEM_MIN, GUEST_BOOT_PA);

	if (g < 0 || sys_page_alloc(0, (void *)VA_CHILD_RUN, PERM_RW) < 0 ||
	    sys_page_alloc(0, (void *)VA_CHILD_CODE, PERM_RW) < 0 ||
	    sys_vmm_ctl(VMMCTL_PC, g, &pc, sizeof(pc)) < 0) {
		ipc_send(parent, BAD_ENVID, NULL, 0);
		exit();
	}
	memcpy((uint8_t *)VA_CHILD_CODE + (GUEST_BOOT_PA - GPA_CODE), code, n);
	sys_ept_map(0, (void *)VA_CHILD_CODE, g, (void *)GPA_CODE,
		    __EPTE_FULL);
	ipc_send(parent, g, NULL, 0);
	sys_vcpu_run(g);  /* spin_code: never returns; we are destroyed */
	exit();           /* out_code: the guest waits for our answer */
}

/* A VMM program dies; its guest must go too (devexit_env_free). */
static void vmm_dies(bool running, bool count)
{
	int64_t before = sys_page_free_count(), after;
	envid_t child, g = 0, from = 0;
	int i;

	if ((child = fork()) == 0)
		child_vmm(thisenv->env_parent_id,
			  running ? spin_code : out_code,
			  running ? sizeof(spin_code) : sizeof(out_code));
	CHECK(child > 0, "fork: %e", child);
	while (child > 0 && from != child)
		g = ipc_recv(&from, NULL, NULL);
	CHECK(g > 0, "the child made no guest");
	if (running) {
		for (i = 0; i < 10; i++)
			sys_yield();  /* the guest spins meanwhile */
		CHECK(alive(g), "the spinning guest died early");
		sys_env_destroy(child);
	}
	wait(child);
	for (i = 0; i < 1000 && g > 0 && alive(g); i++)
		sys_yield();  /* freed at its next exit if it ran elsewhere */
	CHECK(g > 0 && !alive(g), "guest %08x outlived its VMM (%s)", g,
	      running ? "destroyed, guest running" : "exited, guest waiting");
	after = sys_page_free_count();
	if (count)
		CHECK(before == after, "VMM death: free pages %ld before, %ld "
		      "after", (long)before, (long)after);
}

void umain(int argc, char **argv)
{
	int round;

	binaryname = "vmrunbad";
	if (sys_page_alloc(0, RUN_VA, PERM_RW) < 0 ||
	    sys_page_alloc(0, (void *)VA_RO, PERM_RO) < 0 ||
	    sys_page_alloc(0, (void *)VA_CODE, PERM_RW) < 0 ||
	    sys_page_alloc(0, (void *)VA_DATA, PERM_RW) < 0)
		panic("vmrunbad: no memory");
	for (round = 0; round < ROUNDS; round++)
		rogue_round(round);
	/* The first time, fork leaves us pages for good (our exception
	 * stack, a page table): count from the second on. */
	for (round = 0; round < ROUNDS; round++) {
		vmm_dies(true, round > 0);
		vmm_dies(false, round > 0);
	}
	if (nfailed == 0)
		cprintf("vmrunbad: all %d checks passed\n", nchecks);
}
