/*
 * Checks that a page fault handled at user level is invisible to the
 * faulting code: the kernel must save every register in the UTrapframe,
 * and lib/pfentry.S must restore every one of them (and rflags and %rsp)
 * before resuming.
 *
 * fault_probe (assembly below) loads a distinct known value into every
 * general register and sets a known flag pattern (the direction flag
 * too, which the upcall must clear for C and then restore), records %rsp,
 * writes to an unmapped page, and then records every register as it
 * finds it afterwards. The handler records what the UTrapframe holds and
 * maps the page so the write can complete.
 */
#include <inc/lib.h>

#define PERM_RW (PTE_P | PTE_U | PTE_W)
/* The page fault_probe writes; unmapped until the handler maps it. */
#define PROBE_PAGE 0x400000
/* Flags fault_probe sets (CF PF AF ZF SF DF OF, plus the always-one
 * bit 1 and IF, which ring 3 cannot change anyway). */
#define PROBE_FLAGS (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_DF | FL_OF | \
		     0x2 | FL_IF)
/* The flags we compare: the CPU may add RF to a fault's saved rflags. */
#define CHECKED_FLAGS PROBE_FLAGS

/* Register state as fault_probe records it: struct PushRegs order. */
struct regs {
	struct PushRegs r;
	uint64_t rflags;
	uint64_t rsp;
};

/* Written by fault_probe (assembly) and by the handler. */
struct regs after;       /* what fault_probe sees after the fault */
uint64_t probe_rsp;      /* %rsp at the faulting instruction */
struct UTrapframe utf_seen; /* the handler's copy of its UTrapframe */
extern char fault_insn[]; /* the faulting instruction */
void fault_probe(void);

/* The value fault_probe puts in register number i (PushRegs order). */
static uint64_t expected(int i)
{
	return (0x0101010101010101UL * (i + 1)) ^ 0x8000000000000000UL;
}

/*
 * The probe. Every register gets expected(i), with i its position in
 * struct PushRegs (r15 = 0 ... rax = 14): the constants are spelled out
 * below and must match expected().
 */
asm(".text\n"
    ".globl fault_probe\n"
    "fault_probe:\n"
    /* Callee-saved registers of our C caller. */
    "	pushq %rbx\n"
    "	pushq %rbp\n"
    "	pushq %r12\n"
    "	pushq %r13\n"
    "	pushq %r14\n"
    "	pushq %r15\n"
    "	movabsq $0x8101010101010101, %r15\n"
    "	movabsq $0x8202020202020202, %r14\n"
    "	movabsq $0x8303030303030303, %r13\n"
    "	movabsq $0x8404040404040404, %r12\n"
    "	movabsq $0x8505050505050505, %r11\n"
    "	movabsq $0x8606060606060606, %r10\n"
    "	movabsq $0x8707070707070707, %r9\n"
    "	movabsq $0x8808080808080808, %r8\n"
    "	movabsq $0x8909090909090909, %rsi\n"
    "	movabsq $0x8a0a0a0a0a0a0a0a, %rdi\n"
    "	movabsq $0x8b0b0b0b0b0b0b0b, %rbp\n"
    "	movabsq $0x8c0c0c0c0c0c0c0c, %rdx\n"
    "	movabsq $0x8d0d0d0d0d0d0d0d, %rcx\n"
    "	movabsq $0x8e0e0e0e0e0e0e0e, %rbx\n"
    "	movabsq $0x8f0f0f0f0f0f0f0f, %rax\n"
    /* The flags last: mov does not change them. */
    "	pushq $0xed7\n" /* PROBE_FLAGS */
    "	popfq\n"
    "	movq %rsp, probe_rsp\n"
    ".globl fault_insn\n"
    "fault_insn:\n"
    "	movq %rax, 0x400000\n" /* PROBE_PAGE */
    /* Record everything without touching a register first. */
    "	movq %r15, after+0\n"
    "	movq %r14, after+8\n"
    "	movq %r13, after+16\n"
    "	movq %r12, after+24\n"
    "	movq %r11, after+32\n"
    "	movq %r10, after+40\n"
    "	movq %r9, after+48\n"
    "	movq %r8, after+56\n"
    "	movq %rsi, after+64\n"
    "	movq %rdi, after+72\n"
    "	movq %rbp, after+80\n"
    "	movq %rdx, after+88\n"
    "	movq %rcx, after+96\n"
    "	movq %rbx, after+104\n"
    "	movq %rax, after+112\n"
    "	movq %rsp, after+128\n"
    "	pushfq\n"
    "	popq after+120\n"
    "	cld\n"
    "	popq %r15\n"
    "	popq %r14\n"
    "	popq %r13\n"
    "	popq %r12\n"
    "	popq %rbp\n"
    "	popq %rbx\n"
    "	ret\n");

static_assert(offsetof(struct regs, rflags) == 120);
static_assert(offsetof(struct regs, rsp) == 128);
static_assert(PROBE_FLAGS == 0xed7);

static void handler(struct UTrapframe *utf)
{
	int r;

	utf_seen = *utf;
	if (utf->utf_fault_va != PROBE_PAGE)
		panic("unexpected fault at %lx, rip %lx", utf->utf_fault_va,
		      utf->utf_rip);
	r = sys_page_alloc(0, (void *)PROBE_PAGE, PERM_RW);
	if (r < 0)
		panic("sys_page_alloc: %e", r);
}

static const char *const regname[] = {
	"r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8",
	"rsi", "rdi", "rbp", "rdx", "rcx", "rbx", "rax",
};

/* Compare a register set with the probe's values; print each mismatch
 * and "<what> OK" or "<what> MISMATCH". */
static bool check(const char *what, const struct PushRegs *regs,
		  uint64_t rflags, uint64_t rsp, uint64_t rip)
{
	uint64_t v[ARRAY_SIZE(regname)];
	bool ok = true;
	int i;

	/* struct PushRegs is packed: copy rather than cast. */
	memcpy(v, regs, sizeof(v));
	for (i = 0; i < (int)ARRAY_SIZE(regname); i++)
		if (v[i] != expected(i)) {
			cprintf("  %s: %s is %016lx, expected %016lx\n", what,
				regname[i], v[i], expected(i));
			ok = false;
		}
	if ((rflags & CHECKED_FLAGS) != PROBE_FLAGS) {
		cprintf("  %s: rflags is %08lx, expected %08lx\n", what,
			rflags & CHECKED_FLAGS, (uint64_t)PROBE_FLAGS);
		ok = false;
	}
	if (rsp != probe_rsp) {
		cprintf("  %s: rsp is %016lx, expected %016lx\n", what, rsp,
			probe_rsp);
		ok = false;
	}
	if (rip && rip != (uint64_t)fault_insn) {
		cprintf("  %s: rip is %016lx, expected %016lx\n", what, rip,
			(uint64_t)fault_insn);
		ok = false;
	}
	cprintf("%s %s\n", what, ok ? "OK" : "MISMATCH");
	return ok;
}

void umain(int argc, char **argv)
{
	static_assert(ARRAY_SIZE(regname) == sizeof(struct PushRegs) / 8);
	set_pgfault_handler(handler);
	fault_probe();

	if (utf_seen.utf_fault_va != PROBE_PAGE)
		panic("the handler never ran");
	if ((utf_seen.utf_err & (FEC_WR | FEC_U)) != (FEC_WR | FEC_U))
		cprintf("  fault error code is %lx, expected a user write\n",
			utf_seen.utf_err);
	check("Registers in UTrapframe", &utf_seen.utf_regs,
	      utf_seen.utf_eflags, utf_seen.utf_rsp, utf_seen.utf_rip);
	check("Registers after page-fault", &after.r, after.rflags, after.rsp,
	      0);
}
