/*
 * The MMIO decoder's self-test (the monitor's `insntest`, test
 * insn-decoder): a table of instruction byte strings in 16-, 32- and
 * 64-bit code, each decoded by vmm/insndec.c and, for reads, completed
 * into a fake register file and RFLAGS, every result compared with what
 * the SDM says the instruction does; and the code's mode and linear
 * address from CS in real, 16/32-bit, virtual-8086, compatibility and
 * 64-bit mode.
 *
 * Invariants:
 * - Pure: no guest, no env, no memory allocated; it can run at any
 *   monitor prompt any number of times.
 * - Prints "insn: FAILED <case>: ..." for each mismatch and "insn: N ok"
 *   only when all N cases matched (the grader looks for both).
 * - The expected values are written out by hand from the SDM, never
 *   computed by the code under test.
 */
#include <inc/error.h>
#include <inc/mmu.h>
#include <inc/stdio.h>
#include <inc/string.h>

#include <vmm/insndec.h>
#include <vmm/vmm.h>
#include <kern/monitor.h>
#include <testpayload/selftest.h>

/* The fake register file: byte k of register i is 0x10 * (k + 1) + i,
 * so every byte of every register differs (AH is not AL, r8 not rax). */
#define REGS_BASE 0x8070605040302010UL
#define REGS_STEP 0x0101010101010101UL
/* RFLAGS before each read: every arithmetic flag set, and bit 1. */
#define RFLAGS_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define RFLAGS_INIT (RFLAGS_ARITH | 0x2)
/* A case that leaves the flags alone. */
#define SAME_FLAGS (~0UL)
#define NO_DST (-1)

#define RAX 0
#define RCX 1
#define RBX 3
#define RBP 5
#define R9 9
#define R15 15

struct icase {
	const char *name;
	enum insn_mode mode;
	const char *hex;     /* the bytes given to the decoder */
	int ret;             /* 0, -E_INVAL or -E_FAULT */
	bool write;
	unsigned size, len;
	uint64_t wval;       /* writes: the value stored */
	int dst;             /* reads: the register that changes */
	uint64_t val;        /* reads: what the device returns */
	uint64_t after;      /* ... and dst's value then */
	uint64_t flags;      /* RFLAGS' arithmetic flags then */
};

#define M16 INSN_MODE16
#define M32 INSN_MODE32
#define M64 INSN_MODE64
#define W(name, mode, hex, size, len, wval) \
	{ name, mode, hex, 0, true, size, len, wval, NO_DST, 0, 0, SAME_FLAGS }
#define R(name, mode, hex, size, len, dst, val, after) \
	{ name, mode, hex, 0, false, size, len, 0, dst, val, after, SAME_FLAGS }
#define F(name, mode, hex, size, len, dst, val, after, flags) \
	{ name, mode, hex, 0, false, size, len, 0, dst, val, after, flags }
#define BAD(name, mode, hex, err) \
	{ name, mode, hex, err, false, 0, 0, 0, NO_DST, 0, 0, SAME_FLAGS }

static const struct icase cases[] = {
	/* 64-bit code: stores from registers. */
	W("mov [rbx],eax", M64, "89 03", 4, 2, 0x40302010),
	W("mov [rbx],rax", M64, "48 89 03", 8, 3, 0x8070605040302010),
	W("mov [rbx],ax", M64, "66 89 03", 2, 3, 0x2010),
	W("mov [rbx],ah", M64, "88 23", 1, 2, 0x20),
	W("mov [rbx],spl", M64, "40 88 23", 1, 3, 0x14),
	W("mov [rbx],r8d", M64, "44 89 03", 4, 3, 0x48382818),
	W("mov fs:[rbx],eax", M64, "64 89 03", 4, 3, 0x40302010),
	W("rex then 66: rex ignored", M64, "48 66 89 03", 2, 4, 0x2010),
	W("rex.w beats 66", M64, "66 48 89 03", 8, 4, 0x8070605040302010),
	W("lock tolerated", M64, "f0 89 03", 4, 3, 0x40302010),
	W("15 bytes exactly", M64, "2e 2e 2e 2e 2e 2e 2e 2e 2e c7 00 78 56 34 "
	  "12", 4, 15, 0x12345678),
	W("mov [moffs64],eax", M64, "a3 00 00 e0 fe 00 00 00 00", 4, 9,
	  0x40302010),
	/* 64-bit code: immediates. */
	W("mov dword [rax],imm32", M64, "c7 00 78 56 34 12", 4, 6,
	  0x12345678),
	W("mov qword [rax],-16", M64, "48 c7 00 f0 ff ff ff", 8, 7,
	  0xfffffffffffffff0),
	W("mov word [rax],imm16", M64, "66 c7 00 34 12", 2, 5, 0x1234),
	W("mov byte [rax+d32],imm8", M64, "c6 80 00 01 00 00 ab", 1, 7, 0xab),
	/* 64-bit code: loads; 32-bit results clear the upper half. */
	R("mov eax,[rip+d32]", M64, "8b 05 00 00 e0 fe", 4, 6, RAX,
	  0xdeadbeef, 0xdeadbeef),
	R("mov rax,[rsp+d8]", M64, "48 8b 44 24 08", 8, 5, RAX,
	  0x1122334455667788, 0x1122334455667788),
	R("mov cx,[rbx]", M64, "66 8b 0b", 2, 3, RCX, 0xbeef,
	  0x817161514131beef),
	R("mov ch,[rbx]", M64, "8a 2b", 1, 2, RCX, 0x5a, 0x8171615141315a11),
	R("mov bpl,[r11]", M64, "41 8a 2b", 1, 3, RBP, 0x5a,
	  0x857565554535255a),
	R("mov r15d,[r12]", M64, "45 8b 3c 24", 4, 4, R15, 0x12345678,
	  0x12345678),
	R("mov eax,[r13+0]", M64, "41 8b 45 00", 4, 4, RAX, 0xcafe, 0xcafe),
	R("mov eax,[d32] (sib)", M64, "8b 04 25 00 00 e0 fe", 4, 7, RAX, 1, 1),
	R("mov eax,[rsp+d32]", M64, "8b 84 24 00 01 00 00", 4, 7, RAX, 2, 2),
	R("mov rax,[moffs64]", M64, "48 a1 00 00 e0 fe 00 00 00 00", 8, 10,
	  RAX, 0x0123456789abcdef, 0x0123456789abcdef),
	R("mov eax,[moffs32] (67)", M64, "67 a1 00 00 e0 fe", 4, 6, RAX,
	  0xffffffff, 0xffffffff),
	R("movzx r9d,word", M64, "44 0f b7 0e", 2, 4, R9, 0xffff, 0xffff),
	R("movzx eax,byte", M64, "0f b6 03", 1, 3, RAX, 0xff, 0xff),
	R("movzx ax,byte", M64, "66 0f b6 03", 1, 4, RAX, 0x80,
	  0x8070605040300080),
	R("movsx rax,word", M64, "48 0f bf 03", 2, 4, RAX, 0x8000,
	  0xffffffffffff8000),
	R("movsx eax,byte", M64, "0f be 03", 1, 3, RAX, 0x80, 0xffffff80),
	R("movsxd rax,dword", M64, "48 63 03", 4, 3, RAX, 0x80000000,
	  0xffffffff80000000),
	/* 64-bit code: reads that compute (flags from the SDM's rules). */
	F("cmp eax,[rbx] equal", M64, "3b 03", 4, 2, RAX, 0x40302010,
	  0x8070605040302010, FL_ZF | FL_PF),
	F("cmp dword [rax],5", M64, "83 38 05", 4, 3, RAX, 3,
	  0x8070605040302010, FL_CF | FL_SF | FL_AF),
	F("cmp byte [rax],0x7f", M64, "80 38 7f", 1, 3, RAX, 0x80,
	  0x8070605040302010, FL_OF | FL_AF),
	F("test dword [rax],imm32", M64, "f7 00 00 00 00 80", 4, 6, RAX,
	  0x80000001, 0x8070605040302010, FL_SF | FL_PF),
	F("test [rbx],ah", M64, "84 23", 1, 2, RAX, 0x01, 0x8070605040302010,
	  FL_ZF | FL_PF),
	F("or eax,[rbx]", M64, "0b 03", 4, 2, RAX, 0x0f, 0x4030201f, 0),
	F("sub eax,[rbx]", M64, "2b 03", 4, 2, RAX, 0x40302011, 0xffffffff,
	  FL_CF | FL_SF | FL_PF | FL_AF),
	/* 64-bit code: refused. */
	BAD("or [rbx],eax (rmw)", M64, "09 03", -E_INVAL),
	BAD("or dword [rax],1 (rmw)", M64, "83 08 01", -E_INVAL),
	BAD("ud2", M64, "0f 0b", -E_INVAL),
	BAD("mov ebx,eax (no memory)", M64, "89 c3", -E_INVAL),
	BAD("c7 /1", M64, "c7 08 00 00 00 00", -E_INVAL),
	BAD("truncated modrm", M64, "8b 04", -E_FAULT),
	BAD("truncated imm", M64, "c7 00 78 56", -E_FAULT),
	BAD("15 prefixes", M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 "
	    "66 89 03", -E_INVAL),
	/* 32-bit code: 32-bit results keep the upper half. */
	W("32: mov [ebx],eax", M32, "89 03", 4, 2, 0x40302010),
	W("32: mov [ebp+0],eax", M32, "89 45 00", 4, 3, 0x40302010),
	W("32: mov [ebx],ax", M32, "66 89 03", 2, 3, 0x2010),
	W("32: movb [d32],1", M32, "c6 05 00 00 e0 fe 01", 1, 7, 1),
	R("32: mov eax,[d32]", M32, "8b 05 00 00 e0 fe", 4, 6, RAX,
	  0xdeadbeef, 0x80706050deadbeef),
	R("32: mov eax,[bx] (67)", M32, "67 8b 07", 4, 3, RAX, 7,
	  0x8070605000000007),
	R("32: mov eax,[d16] (67)", M32, "67 8b 06 00 e0", 4, 5, RAX, 7,
	  0x8070605000000007),
	R("32: mov eax,[moffs32]", M32, "a1 00 00 e0 fe", 4, 5, RAX, 9,
	  0x8070605000000009),
	BAD("32: 48 is dec eax", M32, "48 89 03", -E_INVAL),
	BAD("32: 63 is arpl", M32, "63 03", -E_INVAL),
	/* 16-bit code (real mode, 16-bit segments). */
	W("16: mov [bx],ax", M16, "89 07", 2, 2, 0x2010),
	W("16: mov [bp+0],ax", M16, "89 46 00", 2, 3, 0x2010),
	W("16: mov [bx],eax", M16, "66 89 07", 4, 3, 0x40302010),
	W("16: mov word [d16],imm16", M16, "c7 06 00 10 34 12", 2, 6, 0x1234),
	W("16: mov dword [d16],imm32", M16, "66 c7 06 00 10 78 56 34 12", 4, 9,
	  0x12345678),
	R("16: mov ax,[bp+d8]", M16, "8b 46 02", 2, 3, RAX, 0x1234,
	  0x8070605040301234),
	R("16: mov ax,[bp+d16]", M16, "8b 86 00 10", 2, 4, RAX, 0x1234,
	  0x8070605040301234),
	R("16: mov ax,[moffs16]", M16, "a1 00 10", 2, 3, RAX, 0x4321,
	  0x8070605040304321),
	R("16: mov ax,[d32] (67 sib)", M16, "67 8b 04 25 00 00 e0 fe", 2, 8,
	  RAX, 0x4321, 0x8070605040304321),
	R("16: mov bh,[si]", M16, "8a 3c", 1, 2, RBX, 0xee,
	  0x837363534333ee13),
};

/* The code's mode and linear address from CS (insn_code_mode/linear). */
struct mcase {
	const char *name;
	uint64_t efer, cs_base;
	bool cs_l, cs_db;
	uint64_t rflags, rip;
	enum insn_mode mode;
	uint64_t linear;
};

#define RFL 0x2  /* RFLAGS' fixed bit */

static const struct mcase mcases[] = {
	{ "real: reset vector", 0, 0xf0000, false, false, RFL, 0xfff0, M16,
	  0xffff0 },
	{ "real: ip is 16 bits", 0, 0x7c00, false, false, RFL, 0x10005, M16,
	  0x7c05 },
	{ "real: cs.d set (big real)", 0, 0, false, true, RFL, 0x100000, M32,
	  0x100000 },
	{ "32: flat", 0, 0, false, true, RFL, 0x80100000, M32, 0x80100000 },
	{ "32: base wraps at 4g", 0, 0xfffff000, false, true, RFL, 0x2000,
	  M32, 0x1000 },
	{ "16-bit protected", 0, 0x10000, false, false, RFL, 0x1234, M16,
	  0x11234 },
	{ "vm86: 16 whatever cs.d", 0, 0xb8000, false, true, RFL | FL_VM,
	  0x10, M16, 0xb8010 },
	{ "cs.l without lma", 0, 0, true, true, RFL, 0x1000, M32, 0x1000 },
	{ "compat: base counts", EFER_LMA, 0x1000, false, true, RFL, 0x400000,
	  M32, 0x401000 },
	{ "64: base ignored", EFER_LMA, 0x1000, true, false, RFL,
	  0xffffffff80100000, M64, 0xffffffff80100000 },
};

static bool run_mcase(const struct mcase *c)
{
	struct guest_dbgstate s = { .efer = c->efer, .cs_base = c->cs_base,
				    .cs_l = c->cs_l, .cs_db = c->cs_db };
	enum insn_mode mode = insn_code_mode(&s, c->rflags);
	uint64_t lin = insn_code_linear(&s, mode, c->rip);

	if (mode != c->mode || lin != c->linear) {
		cprintf("insn: FAILED %s: %d-byte code at 0x%lx, not %d-byte "
			"at 0x%lx\n", c->name, mode, lin, c->mode, c->linear);
		return false;
	}
	return true;
}

/* "89 03" -> { 0x89, 0x03 }; the number of bytes. */
static unsigned parse_hex(const char *s, uint8_t *out, unsigned max)
{
	unsigned n = 0, digits = 0, v = 0;

	for (;; s++) {
		if (*s >= '0' && *s <= '9')
			v = v * 16 + (*s - '0'), digits++;
		else if (*s >= 'a' && *s <= 'f')
			v = v * 16 + (*s - 'a' + 10), digits++;
		if ((*s == ' ' || *s == '\0') && digits) {
			if (n < max)
				out[n++] = v;
			v = digits = 0;
		}
		if (*s == '\0')
			return n;
	}
}

static void regs_init(uint64_t *regs)
{
	unsigned i;

	for (i = 0; i < INSN_NGPRS; i++)
		regs[i] = REGS_BASE + i * REGS_STEP;
}

/* A read completed into the fake registers: every register and the
 * flags as the case says. */
static bool check_read(const struct icase *c, const struct mmio_insn *mi)
{
	uint64_t regs[INSN_NGPRS], want[INSN_NGPRS], rflags = RFLAGS_INIT;
	unsigned n = insn_dst_reg(mi), i;
	uint64_t wflags = c->flags == SAME_FLAGS ? RFLAGS_INIT :
			  (RFLAGS_INIT & ~RFLAGS_ARITH) | c->flags;

	regs_init(regs);
	regs_init(want);
	want[c->dst] = c->after;
	insn_read_apply(mi, c->val, &regs[n], &rflags);
	for (i = 0; i < INSN_NGPRS; i++)
		if (regs[i] != want[i]) {
			cprintf("insn: FAILED %s: register %u is 0x%lx, not "
				"0x%lx\n", c->name, i, regs[i], want[i]);
			return false;
		}
	if (rflags != wflags) {
		cprintf("insn: FAILED %s: rflags 0x%lx, not 0x%lx\n", c->name,
			rflags, wflags);
		return false;
	}
	return true;
}

static bool run_case(const struct icase *c)
{
	uint8_t code[2 * INSN_MAX_LEN];
	uint64_t regs[INSN_NGPRS];
	struct mmio_insn mi;
	const char *why = "";
	unsigned n = parse_hex(c->hex, code, sizeof(code));
	int r;

	regs_init(regs);
	r = insn_decode_bytes(code, n, c->mode, regs, &mi, &why);
	if (r != c->ret) {
		cprintf("insn: FAILED %s: returned %d (%s), not %d\n", c->name,
			r, r < 0 ? why : "decoded", c->ret);
		return false;
	}
	if (r < 0)
		return true;
	if (mi.write != c->write || mi.size != c->size || mi.len != c->len ||
	    (c->write && mi.wval != c->wval)) {
		cprintf("insn: FAILED %s: %s size %u len %u wval 0x%lx, not "
			"%s size %u len %u wval 0x%lx\n", c->name,
			mi.write ? "write" : "read", mi.size, mi.len, mi.wval,
			c->write ? "write" : "read", c->size, c->len,
			c->wval);
		return false;
	}
	return c->write || check_read(c, &mi);
}

int insn_selftest(void)
{
	unsigned i, bad = 0, total = ARRAY_SIZE(cases) + ARRAY_SIZE(mcases);

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		if (!run_case(&cases[i]))
			bad++;
	for (i = 0; i < ARRAY_SIZE(mcases); i++)
		if (!run_mcase(&mcases[i]))
			bad++;
	if (bad)
		cprintf("insn: %u of %u cases FAILED\n", bad, total);
	else
		cprintf("insn: %u ok\n", total);
	return bad ? -E_INVAL : 0;
}

/* The monitor's insntest: both self-tests, each with its own line. */
int mon_insntest(int argc, char **argv, struct Trapframe *tf)
{
	insn_selftest();
	gva_selftest();
	return 0;
}
