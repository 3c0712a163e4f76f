/*
 * Internal to kdebug (kern/kdebug.c, kern/kdebug_line.c,
 * kern/kdebug_info.c): the debug blobs the DWARF readers decode, the
 * encodings all DWARF sections share, and struct Reader, through which
 * every byte of a blob is read.
 *
 * Invariants:
 * - All reads go through struct Reader, which checks every byte against
 *   the end of its blob: malformed data ends a lookup with "unknown",
 *   never with a fault.
 * - Nothing is cached between calls and nothing is allocated, so a lookup
 *   works at any time, even from a panic.
 * - The reader's helpers are static inline: the decoders call them for
 *   every byte, and each file that includes them keeps its own inlinable
 *   copy (kern/Makefrag builds the kdebug files at KDEBUG_OPT).
 */
#ifndef JOS_KERN_KDEBUG_DWARF_H
#define JOS_KERN_KDEBUG_DWARF_H
#ifndef JOS_KERNEL
#error "This is a JOS kernel header; user programs should not #include it"
#endif

#include <inc/types.h>
#include <inc/string.h>

#include <kern/kdebug.h>

/* The DWARF sections linked into .kdebug (the top of kern/kdebug.c). */
extern const uint8_t kdebug_line_start[], kdebug_line_end[];
extern const uint8_t kdebug_info_start[], kdebug_info_end[];
extern const uint8_t kdebug_abbrev_start[], kdebug_abbrev_end[];

/* ---- Encodings every section uses (DWARF 4 section 7) ------------------- */

/* A 32-bit initial length of this value announces the 64-bit format. */
#define DWARF64_ESCAPE 0xffffffffULL
/* Initial lengths from here up to the escape are reserved. */
#define DWARF_LENGTH_RESERVED 0xfffffff0ULL
#define DWARF32_OFFSET_SIZE 4
#define DWARF64_OFFSET_SIZE 8

/* LEB128: 7 value bits a byte, low first; the top bit says "more follow",
 * and in the signed form bit 6 of the last byte is the sign. */
#define LEB128_VALUE_BITS 7
#define LEB128_VALUE_MASK 0x7f
#define LEB128_MORE 0x80
#define LEB128_SIGN 0x40
#define LEB128_MAX_SHIFT 64

#define BITS_PER_BYTE 8
/* Fixed-size fields: a version number, a DW_LNS_fixed_advance_pc operand. */
#define UHALF_SIZE 2

/* ---- Bounds-checked reading of a blob ------------------------------------ */

/*
 * A cursor over bytes [base + pos, base + size). Positions are offsets
 * from the start of the blob (which makes them DWARF section offsets);
 * a window onto part of a blob keeps the same base and a smaller size.
 * A read past size sets `bad`, returns 0 and leaves pos at size: callers
 * may read on and check `bad` once at the end.
 */
struct Reader {
	const uint8_t *base;
	size_t size;
	size_t pos;
	bool bad;
};

static inline struct Reader reader_of(const uint8_t *start, const uint8_t *end)
{
	struct Reader r = { start, (size_t)(end - start), 0, false };

	if (end < start)
		r.size = 0;
	return r;
}

/* Marks r malformed; every later read returns 0. */
static inline void reader_fail(struct Reader *r)
{
	r->bad = true;
	r->pos = r->size;
}

static inline bool reader_done(const struct Reader *r)
{
	return r->bad || r->pos >= r->size;
}

/* Moves to section offset pos, which must lie inside the reader. */
static inline void reader_seek(struct Reader *r, uint64_t pos)
{
	if (pos > r->size)
		reader_fail(r);
	else
		r->pos = pos;
}

static inline void reader_skip(struct Reader *r, uint64_t n)
{
	if (n > r->size - r->pos)
		reader_fail(r);
	else
		r->pos += n;
}

/* Returns a reader for the next n bytes and moves r past them. */
static inline struct Reader reader_window(struct Reader *r, uint64_t n)
{
	struct Reader w = *r;

	reader_skip(r, n);
	if (!r->bad)
		w.size = r->pos;
	else
		w.bad = true;
	return w;
}

/* A little-endian unsigned integer of nbytes (at most 8) bytes. */
static inline uint64_t read_uint(struct Reader *r, int nbytes)
{
	uint64_t v = 0;
	int i;

	if (nbytes > (int)sizeof(v) || (size_t)nbytes > r->size - r->pos) {
		reader_fail(r);
		return 0;
	}
	for (i = 0; i < nbytes; i++)
		v |= (uint64_t)r->base[r->pos + i] << (BITS_PER_BYTE * i);
	r->pos += nbytes;
	return v;
}

static inline uint8_t read_u8(struct Reader *r)
{
	return read_uint(r, sizeof(uint8_t));
}

/*
 * The bits of a LEB128 number; *last gets its last byte. Bits beyond 64
 * are dropped: no DWARF value needs them.
 */
static inline uint64_t read_leb_bits(struct Reader *r, unsigned *shift,
				     uint8_t *last)
{
	uint64_t v = 0;

	*shift = 0;
	do {
		*last = read_u8(r);
		if (*shift < LEB128_MAX_SHIFT)
			v |= (uint64_t)(*last & LEB128_VALUE_MASK) << *shift;
		*shift += LEB128_VALUE_BITS;
	} while ((*last & LEB128_MORE) && !r->bad);
	return v;
}

static inline uint64_t read_uleb(struct Reader *r)
{
	unsigned shift;
	uint8_t last;

	return read_leb_bits(r, &shift, &last);
}

static inline int64_t read_sleb(struct Reader *r)
{
	unsigned shift;
	uint8_t last;
	uint64_t v = read_leb_bits(r, &shift, &last);

	if (shift < LEB128_MAX_SHIFT && (last & LEB128_SIGN))
		v |= ~(uint64_t)0 << shift; /* sign-extend */
	return (int64_t)v;
}

/* A NUL-terminated string; NULL (and r bad) if the NUL is missing. */
static inline const char *read_cstr(struct Reader *r)
{
	const char *s = (const char *)r->base + r->pos;
	size_t n;

	if (reader_done(r)) {
		reader_fail(r);
		return NULL;
	}
	n = strnlen(s, r->size - r->pos);
	if (n == r->size - r->pos) {
		reader_fail(r);
		return NULL;
	}
	r->pos += n + 1;
	return s;
}

/*
 * A unit's "initial length": 32 bits, or an escape and then 64 bits.
 * Sets *offsize to the size of section offsets within the unit.
 */
static inline uint64_t read_initial_length(struct Reader *r, int *offsize)
{
	uint64_t len = read_uint(r, DWARF32_OFFSET_SIZE);

	*offsize = DWARF32_OFFSET_SIZE;
	if (len == DWARF64_ESCAPE) {
		*offsize = DWARF64_OFFSET_SIZE;
		return read_uint(r, DWARF64_OFFSET_SIZE);
	}
	if (len >= DWARF_LENGTH_RESERVED)
		reader_fail(r);
	return len;
}

/* ---- The lookups debuginfo_rip makes (kern/kdebug.c) --------------------- */

/* File and line of rip, from .debug_line (kern/kdebug_line.c). */
bool dwarf_find_line(uintptr_t rip, struct Ripdebuginfo *info);
/* Where rip's function keeps its arguments, from .debug_info
 * (kern/kdebug_info.c); leaves rip_fn_narg alone if it finds nothing. */
void dwarf_find_args(uintptr_t rip, struct Ripdebuginfo *info);

#endif /* !JOS_KERN_KDEBUG_DWARF_H */
