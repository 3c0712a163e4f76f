/*
 * Decoding the instruction that touched an MMIO address (SDM Vol. 2A
 * chapter 2, the instruction format; Vol. 2B for each opcode): prefixes,
 * opcode, ModRM/SIB/displacement only to find the length and the
 * register operand, then the immediate. The address is not computed: the
 * hardware reported it (the faulting guest-physical address).
 *
 * Known: MOV (88, 89, 8A, 8B, C6 /0, C7 /0, A0-A3), MOVZX (0F B6, 0F B7),
 * MOVSX (0F BE, 0F BF), MOVSXD (63, 64-bit mode); reads that compute
 * with the value: ADD/OR/AND/SUB/XOR r, r/m (02/03, 0A/0B, 22/23, 2A/2B,
 * 32/33), CMP (38, 39, 3A, 3B, 80 /7, 81 /7, 83 /7), TEST (84, 85, F6 /0,
 * F7 /0). Memory-destination ALU forms (a read and a write of the device
 * register in one instruction) are recognised and refused by name: a
 * struct mmio_insn describes one access.
 *
 * Invariants:
 * - Pure: reads only code[0..n) and regs; never more than INSN_MAX_LEN
 *   bytes, so any byte string is a result or an error, never a fault.
 * - struct mmio_insn's dst is this file's private encoding (DST_*
 *   below); only insn_dst_reg and insn_read_apply read it.
 * - A read's wval holds the other operand of CMP/TEST/ALU forms (the
 *   register or immediate as the instruction saw it), 0 for plain loads.
 */
#include <inc/error.h>
#include <inc/mmu.h>
#include <inc/string.h>

#include <vmm/insndec.h>
#include <vmm/vmm.h>

/* Outside 64-bit mode linear addresses are 32 bits, and 16-bit code's
 * instruction pointer is 16 (SDM Vol. 3A 3.4, Vol. 1 3.6). */
#define LINEAR32_MASK 0xFFFFFFFFUL
#define IP16_MASK 0xFFFFUL

/* struct mmio_insn.dst: register, how it is written, what computes. */
#define DST_REG_MASK 0xF
#define DST_HIGH8 0x10        /* AH, CH, DH, BH: bits 15:8 */
#define DST_CLEAR_UPPER 0x20  /* a 32-bit write in 64-bit mode */
#define DST_MEM_FIRST 0x40    /* the value read is the first operand */
#define DST_NO_STORE 0x80     /* CMP, TEST: flags only */
#define DST_OP_SHIFT 8
#define DST_OP_MASK 0xF

/* What a read does with its value. */
enum alu_op { OP_MOV, OP_ADD, OP_OR, OP_AND, OP_SUB, OP_XOR, OP_CMP,
	      OP_TEST };

enum kind {
	K_STORE_REG,    /* r/m <- r */
	K_STORE_IMM,    /* r/m <- imm */
	K_LOAD,         /* r <- r/m, with MOVZX/MOVSX/MOVSXD widths */
	K_MOFFS_LOAD,   /* AL/eAX <- [moffs] */
	K_MOFFS_STORE,  /* [moffs] <- AL/eAX */
	K_ALU_REG,      /* r op r/m, or r/m op r (F_MEM_FIRST) */
	K_ALU_IMM,      /* r/m op imm */
	K_RMW,          /* r/m <- r/m op x: refused */
};

/* An opcode's properties. */
#define F_BYTE 0x01      /* 8-bit operands (the opcode's low bit clear) */
#define F_SRC8 0x02      /* MOVZX/MOVSX: an 8-bit source */
#define F_SRC16 0x04     /* ... a 16-bit source */
#define F_SX 0x08        /* sign-extend the source */
#define F_MEM_FIRST 0x10 /* memory is the first operand (CMP m, r) */
#define F_IMM8 0x20      /* imm8, sign-extended to the operand size */
#define F_SXD 0x40       /* MOVSXD: 64-bit mode only */

/* Two-byte opcodes (0F xx) in the table. */
#define OP_0F 0x100
#define ESCAPE_0F 0x0F
/* The entry applies whatever ModRM.reg is. */
#define ANY_SUB 0xFF

struct opdesc {
	uint16_t op;
	uint8_t sub;   /* ModRM.reg a group opcode needs, or ANY_SUB */
	uint8_t kind;
	uint8_t alu;
	uint8_t flags;
};

/* Searched in order: a group's specific /n entries come before its
 * ANY_SUB entry. */
static const struct opdesc optab[] = {
	{ 0x88, ANY_SUB, K_STORE_REG, OP_MOV, F_BYTE },
	{ 0x89, ANY_SUB, K_STORE_REG, OP_MOV, 0 },
	{ 0x8A, ANY_SUB, K_LOAD, OP_MOV, F_BYTE },
	{ 0x8B, ANY_SUB, K_LOAD, OP_MOV, 0 },
	{ 0xC6, 0, K_STORE_IMM, OP_MOV, F_BYTE },
	{ 0xC7, 0, K_STORE_IMM, OP_MOV, 0 },
	{ 0xA0, ANY_SUB, K_MOFFS_LOAD, OP_MOV, F_BYTE },
	{ 0xA1, ANY_SUB, K_MOFFS_LOAD, OP_MOV, 0 },
	{ 0xA2, ANY_SUB, K_MOFFS_STORE, OP_MOV, F_BYTE },
	{ 0xA3, ANY_SUB, K_MOFFS_STORE, OP_MOV, 0 },
	{ OP_0F | 0xB6, ANY_SUB, K_LOAD, OP_MOV, F_SRC8 },
	{ OP_0F | 0xB7, ANY_SUB, K_LOAD, OP_MOV, F_SRC16 },
	{ OP_0F | 0xBE, ANY_SUB, K_LOAD, OP_MOV, F_SRC8 | F_SX },
	{ OP_0F | 0xBF, ANY_SUB, K_LOAD, OP_MOV, F_SRC16 | F_SX },
	{ 0x63, ANY_SUB, K_LOAD, OP_MOV, F_SXD },
	{ 0x02, ANY_SUB, K_ALU_REG, OP_ADD, F_BYTE },
	{ 0x03, ANY_SUB, K_ALU_REG, OP_ADD, 0 },
	{ 0x0A, ANY_SUB, K_ALU_REG, OP_OR, F_BYTE },
	{ 0x0B, ANY_SUB, K_ALU_REG, OP_OR, 0 },
	{ 0x22, ANY_SUB, K_ALU_REG, OP_AND, F_BYTE },
	{ 0x23, ANY_SUB, K_ALU_REG, OP_AND, 0 },
	{ 0x2A, ANY_SUB, K_ALU_REG, OP_SUB, F_BYTE },
	{ 0x2B, ANY_SUB, K_ALU_REG, OP_SUB, 0 },
	{ 0x32, ANY_SUB, K_ALU_REG, OP_XOR, F_BYTE },
	{ 0x33, ANY_SUB, K_ALU_REG, OP_XOR, 0 },
	{ 0x38, ANY_SUB, K_ALU_REG, OP_CMP, F_BYTE | F_MEM_FIRST },
	{ 0x39, ANY_SUB, K_ALU_REG, OP_CMP, F_MEM_FIRST },
	{ 0x3A, ANY_SUB, K_ALU_REG, OP_CMP, F_BYTE },
	{ 0x3B, ANY_SUB, K_ALU_REG, OP_CMP, 0 },
	{ 0x84, ANY_SUB, K_ALU_REG, OP_TEST, F_BYTE | F_MEM_FIRST },
	{ 0x85, ANY_SUB, K_ALU_REG, OP_TEST, F_MEM_FIRST },
	{ 0x80, 7, K_ALU_IMM, OP_CMP, F_BYTE | F_MEM_FIRST },
	{ 0x81, 7, K_ALU_IMM, OP_CMP, F_MEM_FIRST },
	{ 0x83, 7, K_ALU_IMM, OP_CMP, F_MEM_FIRST | F_IMM8 },
	{ 0xF6, 0, K_ALU_IMM, OP_TEST, F_BYTE | F_MEM_FIRST },
	{ 0xF7, 0, K_ALU_IMM, OP_TEST, F_MEM_FIRST },
	{ 0x00, ANY_SUB, K_RMW, OP_ADD, F_BYTE },
	{ 0x01, ANY_SUB, K_RMW, OP_ADD, 0 },
	{ 0x08, ANY_SUB, K_RMW, OP_OR, F_BYTE },
	{ 0x09, ANY_SUB, K_RMW, OP_OR, 0 },
	{ 0x20, ANY_SUB, K_RMW, OP_AND, F_BYTE },
	{ 0x21, ANY_SUB, K_RMW, OP_AND, 0 },
	{ 0x28, ANY_SUB, K_RMW, OP_SUB, F_BYTE },
	{ 0x29, ANY_SUB, K_RMW, OP_SUB, 0 },
	{ 0x30, ANY_SUB, K_RMW, OP_XOR, F_BYTE },
	{ 0x31, ANY_SUB, K_RMW, OP_XOR, 0 },
	{ 0x80, ANY_SUB, K_RMW, OP_ADD, F_BYTE },
	{ 0x81, ANY_SUB, K_RMW, OP_ADD, 0 },
	{ 0x83, ANY_SUB, K_RMW, OP_ADD, F_IMM8 },
};

/* Prefixes (Vol. 2A 2.1.1). */
#define PFX_OPSIZE 0x66
#define PFX_ADSIZE 0x67
#define PFX_ES 0x26
#define PFX_CS 0x2E
#define PFX_SS 0x36
#define PFX_DS 0x3E
#define PFX_FS 0x64
#define PFX_GS 0x65
#define PFX_LOCK 0xF0
#define PFX_REPNE 0xF2
#define PFX_REP 0xF3
#define REX_MASK 0xF0
#define REX_BASE 0x40
#define REX_W 0x08
#define REX_R 0x04

/* ModRM (Vol. 2A 2.1.5, Tables 2-1 to 2-3). */
#define MOD(m) ((m) >> 6)
#define REG(m) (((m) >> 3) & 7)
#define RM(m) ((m) & 7)
#define MOD_REGISTER 3
#define MOD_DISP8 1
#define MOD_DISPFULL 2
#define RM_SIB 4
#define RM_DISP_ONLY 5     /* mod 0: disp32 (RIP-relative in 64-bit) */
#define RM16_DISP_ONLY 6   /* 16-bit addressing, mod 0: disp16 */
#define SIB_BASE(s) ((s) & 7)
#define SIB_NO_BASE 5      /* with mod 0: disp32, no base */
#define DISP32 4
#define DISP16 2
#define DISP8 1
/* Byte registers 4-7 without REX are AH, CH, DH, BH: bits 15:8 of 0-3. */
#define HIGH8_FIRST 4
#define HIGH8_SHIFT 8
#define BYTE_BITS 8
#define IMM32 4

struct dec {
	const uint8_t *code;
	unsigned n, pos;
	enum insn_mode mode;
	unsigned opsize, adsize;
	uint8_t rex;   /* the REX prefix, 0 if none */
	const char *why;
};

static uint64_t size_mask(unsigned size)
{
	return size >= sizeof(uint64_t) ? ~0UL : (1UL << (size * BYTE_BITS)) - 1;
}

static uint64_t sign_extend(uint64_t v, unsigned size)
{
	unsigned shift = (sizeof(uint64_t) - size) * BYTE_BITS;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

static int fetch(struct dec *d, uint8_t *b)
{
	if (d->pos >= INSN_MAX_LEN) {
		d->why = "longer than 15 bytes";
		return -E_INVAL;
	}
	if (d->pos >= d->n) {
		d->why = "runs past the bytes that could be fetched";
		return -E_FAULT;
	}
	*b = d->code[d->pos++];
	return 0;
}

/* A little-endian field of size bytes (displacement, immediate). */
static int fetch_le(struct dec *d, unsigned size, uint64_t *v)
{
	uint8_t b;
	unsigned i;
	int r;

	*v = 0;
	for (i = 0; i < size; i++) {
		if ((r = fetch(d, &b)) < 0)
			return r;
		*v |= (uint64_t)b << (i * BYTE_BITS);
	}
	return 0;
}

static bool legacy_prefix(uint8_t b)
{
	switch (b) {
	case PFX_OPSIZE: case PFX_ADSIZE:
	case PFX_ES: case PFX_CS: case PFX_SS: case PFX_DS:
	case PFX_FS: case PFX_GS:
	case PFX_LOCK: case PFX_REPNE: case PFX_REP:
		return true;
	}
	return false;
}

/*
 * Prefixes up to the opcode byte, then the operand and address sizes
 * (Vol. 2A 2.2.1.2, Table 3-4 of Vol. 1). A REX that a legacy prefix
 * follows is ignored (2.2.1); segment, LOCK and REP prefixes do not
 * change the access.
 */
static int prefixes(struct dec *d, uint8_t *op)
{
	bool opsz = false, adsz = false;
	uint8_t b;
	int r;

	for (;;) {
		if ((r = fetch(d, &b)) < 0)
			return r;
		if (legacy_prefix(b)) {
			opsz |= b == PFX_OPSIZE;
			adsz |= b == PFX_ADSIZE;
			d->rex = 0;
		} else if (d->mode == INSN_MODE64 &&
			   (b & REX_MASK) == REX_BASE) {
			d->rex = b;
		} else {
			break;
		}
	}
	*op = b;
	if (d->mode == INSN_MODE64) {
		d->opsize = (d->rex & REX_W) ? 8 : opsz ? 2 : 4;
		d->adsize = adsz ? 4 : 8;
	} else {
		/* 66 and 67 toggle between the two sizes of the mode. */
		d->opsize = (d->mode == INSN_MODE32) != opsz ? 4 : 2;
		d->adsize = (d->mode == INSN_MODE32) != adsz ? 4 : 2;
	}
	return 0;
}

/* ModRM, then SIB and displacement, skipped: the hardware gave us the
 * address. Only memory operands can have faulted on MMIO. */
static int modrm(struct dec *d, uint8_t *m)
{
	unsigned disp = 0;
	uint64_t skip;
	uint8_t sib;
	int r;

	if ((r = fetch(d, m)) < 0)
		return r;
	if (MOD(*m) == MOD_REGISTER) {
		d->why = "register operand, no memory access";
		return -E_INVAL;
	}
	if (d->adsize == INSN_MODE16) {   /* 16-bit addressing: no SIB */
		if (MOD(*m) == MOD_DISP8)
			disp = DISP8;
		else if (MOD(*m) == MOD_DISPFULL || RM(*m) == RM16_DISP_ONLY)
			disp = DISP16;
	} else {
		if (RM(*m) == RM_SIB) {
			if ((r = fetch(d, &sib)) < 0)
				return r;
			if (MOD(*m) == 0 && SIB_BASE(sib) == SIB_NO_BASE)
				disp = DISP32;
		}
		if (MOD(*m) == MOD_DISP8)
			disp = DISP8;
		else if (MOD(*m) == MOD_DISPFULL ||
			 (MOD(*m) == 0 && RM(*m) == RM_DISP_ONLY))
			disp = DISP32;
	}
	return fetch_le(d, disp, &skip);
}

/* The entry for op with ModRM.reg sub (ANY_SUB: the first for op). */
static const struct opdesc *lookup(uint16_t op, unsigned sub)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(optab); i++)
		if (optab[i].op == op &&
		    (sub == ANY_SUB || optab[i].sub == ANY_SUB ||
		     optab[i].sub == sub))
			return &optab[i];
	return NULL;
}

/* Register n (ModRM.reg with REX.R) as a size-byte operand. */
static uint64_t reg_value(const struct dec *d, const uint64_t *regs,
			  unsigned n, unsigned size)
{
	if (size == 1 && !d->rex && n >= HIGH8_FIRST && n < 2 * HIGH8_FIRST)
		return (regs[n - HIGH8_FIRST] >> HIGH8_SHIFT) & size_mask(1);
	return regs[n] & size_mask(size);
}

/* The dst encoding of register n written as a size-byte operand. */
static int dst_of(const struct dec *d, unsigned n, unsigned size)
{
	if (size == 1 && !d->rex && n >= HIGH8_FIRST && n < 2 * HIGH8_FIRST)
		return (n - HIGH8_FIRST) | DST_HIGH8;
	if (size == 4 && d->mode == INSN_MODE64)
		return n | DST_CLEAR_UPPER;
	return n;
}

/* An immediate of an operand of size bytes: at most 32 bits, sign-
 * extended to 64 (Vol. 2A 2.2.1.5); imm8 forms extend one byte. */
static int immediate(struct dec *d, unsigned size, bool imm8, uint64_t *v)
{
	unsigned bytes = imm8 ? 1 : size > IMM32 ? IMM32 : size;
	int r;

	if ((r = fetch_le(d, bytes, v)) < 0)
		return r;
	*v = sign_extend(*v, bytes) & size_mask(size);
	return 0;
}

/* A load: MOV, MOVZX, MOVSX, MOVSXD into register n. */
static int decode_load(struct dec *d, const struct opdesc *od, unsigned n,
		       struct mmio_insn *mi)
{
	mi->dst_size = d->opsize;
	if (od->flags & F_BYTE) {
		mi->size = mi->dst_size = 1;
	} else if (od->flags & F_SRC8) {
		mi->size = 1;
	} else if (od->flags & F_SRC16) {
		mi->size = 2;
	} else if (od->flags & F_SXD) {
		if (d->mode != INSN_MODE64) {
			d->why = "ARPL (63 outside 64-bit mode)";
			return -E_INVAL;
		}
		mi->size = d->opsize > 4 ? 4 : d->opsize;
		mi->sign_extend = d->opsize > 4;
	} else {
		mi->size = d->opsize;
	}
	mi->sign_extend |= (od->flags & F_SX) != 0;
	mi->dst = dst_of(d, n, mi->dst_size);
	return 0;
}

/* What one table entry does, once prefixes, opcode and ModRM are read. */
static int decode_kind(struct dec *d, const struct opdesc *od, uint8_t m,
		       const uint64_t *regs, struct mmio_insn *mi)
{
	unsigned size = (od->flags & F_BYTE) ? 1 : d->opsize;
	unsigned n = REG(m) | ((d->rex & REX_R) ? 8 : 0);
	uint64_t skip;
	int r;

	mi->size = mi->dst_size = size;
	switch (od->kind) {
	case K_STORE_REG:
		mi->write = true;
		mi->wval = reg_value(d, regs, n, size);
		return 0;
	case K_STORE_IMM:
		mi->write = true;
		return immediate(d, size, false, &mi->wval);
	case K_LOAD:
		return decode_load(d, od, n, mi);
	case K_MOFFS_LOAD:
	case K_MOFFS_STORE:
		if ((r = fetch_le(d, d->adsize, &skip)) < 0)
			return r;
		/* The register is AL, AX, EAX or RAX. */
		mi->write = od->kind == K_MOFFS_STORE;
		if (mi->write)
			mi->wval = regs[0] & size_mask(size);
		else
			mi->dst = dst_of(d, 0, size);
		return 0;
	case K_ALU_REG:
		mi->wval = reg_value(d, regs, n, size);
		mi->dst = dst_of(d, n, size);
		break;
	case K_ALU_IMM:
		if ((r = immediate(d, size, od->flags & F_IMM8, &mi->wval)) < 0)
			return r;
		break;
	default:
		d->why = "read-modify-write of an MMIO address (one "
			 "instruction both reads and writes the device)";
		return -E_INVAL;
	}
	mi->dst |= od->alu << DST_OP_SHIFT;
	if (od->flags & F_MEM_FIRST)
		mi->dst |= DST_MEM_FIRST;
	if (od->alu == OP_CMP || od->alu == OP_TEST || od->kind == K_ALU_IMM)
		mi->dst |= DST_NO_STORE;
	return 0;
}

enum insn_mode insn_code_mode(const struct guest_dbgstate *s,
			      uint64_t rflags)
{
	if ((s->efer & EFER_LMA) && s->cs_l)
		return INSN_MODE64;
	if (!(rflags & FL_VM) && s->cs_db)
		return INSN_MODE32;
	return INSN_MODE16;
}

uint64_t insn_code_linear(const struct guest_dbgstate *s,
			  enum insn_mode mode, uint64_t rip)
{
	if (mode == INSN_MODE64)
		return rip;
	if (mode == INSN_MODE16)
		rip &= IP16_MASK;
	return (s->cs_base + rip) & LINEAR32_MASK;
}

int insn_decode_bytes(const uint8_t *code, unsigned n, enum insn_mode mode,
		      const uint64_t regs[INSN_NGPRS], struct mmio_insn *mi,
		      const char **why)
{
	struct dec d = { .code = code, .n = n, .mode = mode };
	const struct opdesc *od;
	uint8_t b, m = 0;
	uint16_t op;
	int r;

	memset(mi, 0, sizeof(*mi));
	if ((r = prefixes(&d, &b)) < 0)
		goto out;
	op = b;
	if (b == ESCAPE_0F) {
		if ((r = fetch(&d, &b)) < 0)
			goto out;
		op = OP_0F | b;
	}
	r = -E_INVAL;
	d.why = "an opcode the MMIO decoder does not know";
	if (!(od = lookup(op, ANY_SUB)))
		goto out;
	if (od->kind != K_MOFFS_LOAD && od->kind != K_MOFFS_STORE) {
		if ((r = modrm(&d, &m)) < 0)
			goto out;
		r = -E_INVAL;
		if (!(od = lookup(op, REG(m))))
			goto out;
	}
	if ((r = decode_kind(&d, od, m, regs, mi)) < 0)
		goto out;
	mi->len = d.pos;
	return 0;
out:
	if (why)
		*why = d.why;
	return r;
}

unsigned insn_dst_reg(const struct mmio_insn *mi)
{
	return mi->dst & DST_REG_MASK;
}

/* Write v into *reg as a dst_size-byte destination. */
static void store(const struct mmio_insn *mi, uint64_t *reg, uint64_t v)
{
	uint64_t mask = size_mask(mi->dst_size);

	if (mi->dst & DST_HIGH8)
		*reg = (*reg & ~(mask << HIGH8_SHIFT)) |
		       ((v & mask) << HIGH8_SHIFT);
	else if (mi->dst & DST_CLEAR_UPPER)
		*reg = v & mask;
	else
		*reg = (*reg & ~mask) | (v & mask);
}

static bool parity_even(uint64_t v)
{
	uint8_t x = v;

	x ^= x >> 4;
	x ^= x >> 2;
	x ^= x >> 1;
	return !(x & 1);
}

#define ARITH_FLAGS (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
/* The bit AF looks at: the carry out of bit 3. */
#define AF_BIT 0x10

/* a op b at size bytes, with the arithmetic flags as the CPU sets them
 * (AF, undefined after logical operations, is left clear). */
static uint64_t alu(unsigned op, uint64_t a, uint64_t b, unsigned size,
		    uint64_t *rflags)
{
	unsigned top = size * BYTE_BITS - 1;
	uint64_t mask = size_mask(size), r, f = 0;

	switch (op) {
	case OP_ADD:
		r = (a + b) & mask;
		f |= r < a ? FL_CF : 0;
		f |= (((a ^ r) & (b ^ r)) >> top) & 1 ? FL_OF : 0;
		f |= (a ^ b ^ r) & AF_BIT ? FL_AF : 0;
		break;
	case OP_SUB:
	case OP_CMP:
		r = (a - b) & mask;
		f |= a < b ? FL_CF : 0;
		f |= (((a ^ b) & (a ^ r)) >> top) & 1 ? FL_OF : 0;
		f |= (a ^ b ^ r) & AF_BIT ? FL_AF : 0;
		break;
	case OP_OR:
		r = a | b;
		break;
	case OP_XOR:
		r = a ^ b;
		break;
	default: /* AND, TEST */
		r = a & b;
		break;
	}
	f |= r == 0 ? FL_ZF : 0;
	f |= (r >> top) & 1 ? FL_SF : 0;
	f |= parity_even(r) ? FL_PF : 0;
	*rflags = (*rflags & ~(uint64_t)ARITH_FLAGS) | f;
	return r;
}

void insn_read_apply(const struct mmio_insn *mi, uint64_t val, uint64_t *reg,
		     uint64_t *rflags)
{
	unsigned op = (mi->dst >> DST_OP_SHIFT) & DST_OP_MASK;
	uint64_t v = val & size_mask(mi->size), a, b, res;

	if (op == OP_MOV) {
		store(mi, reg, mi->sign_extend ? sign_extend(v, mi->size) : v);
		return;
	}
	a = (mi->dst & DST_MEM_FIRST) ? v : mi->wval;
	b = (mi->dst & DST_MEM_FIRST) ? mi->wval : v;
	res = alu(op, a, b, mi->size, rflags);
	if (!(mi->dst & DST_NO_STORE))
		store(mi, reg, res);
}
