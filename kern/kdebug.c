/*
 * Debug information about kernel code addresses, read at run time: which
 * function, source file and line a %rip lies in, and where that function's
 * arguments sit in its stack frame. `backtrace` in the monitor uses it.
 *
 * Where the information comes from
 * --------------------------------
 * gcc -g writes DWARF into the kernel's object files, but the boot loader
 * loads only allocated sections, so DWARF never reaches memory by itself.
 * The kern/kernel rule in kern/Makefrag therefore links twice:
 *
 *   pass 1  the kernel objects + a placeholder object whose blobs are empty
 *           -> obj/kern/kernel.pass1
 *   blobs   conf/kdebug-blobs.sh copies out of pass 1 the sections
 *           .debug_line, .debug_info and .debug_abbrev (already relocated:
 *           they hold final addresses) and turns `nm -n` output into a
 *           table of text symbols, then writes obj/kern/kdebug-blobs.S,
 *           which .incbin's the three sections and lists the symbols
 *   pass 2  the same objects + that blob object -> obj/kern/kernel
 *
 * Every blob goes into the allocated section .kdebug, which kern/kernel.ld
 * places after everything else (past `end`, in its own PT_LOAD segment).
 * So nothing before it moves between the passes and the addresses in the
 * blobs are those of the final kernel; the rule checks that and fails the
 * build if not. The full DWARF stays in obj/kern/kernel for gdb.
 *
 * The blobs, as the generated assembler file labels them:
 *   kdebug_line_start .. kdebug_line_end      raw .debug_line
 *   kdebug_info_start .. kdebug_info_end      raw .debug_info
 *   kdebug_abbrev_start .. kdebug_abbrev_end  raw .debug_abbrev
 *   kdebug_syms .. kdebug_syms_end            struct KdebugSym[], sorted by
 *       address; the last entry (name NULL) marks the end of kernel text.
 *   kdebug_symstr_start .. kdebug_symstr_end  the names they point to
 * In pass 1 all are empty.
 *
 * What is decoded (DWARF 4 standard, www.dwarfstd.org)
 * -----------------------------------------------------
 * - File and line: the line-number programs of .debug_line (versions 2-4,
 *   section 6.2), run until a row range covers the address.
 * - Function name and start: the symbol table above.
 * - Arguments: the DW_TAG_subprogram of .debug_info (versions 2-5) whose
 *   [DW_AT_low_pc, DW_AT_high_pc) holds the address; its
 *   DW_TAG_formal_parameter children give DW_AT_location = DW_OP_fbreg(N)
 *   (N bytes from the frame base) and a DW_AT_type with a byte size.
 *   gcc's frame base is DW_OP_call_frame_cfa, the %rsp before the call
 *   instruction, which is %rbp + 16 once the prologue has pushed %rbp.
 *
 * All reads go through struct Reader, which checks every byte against the
 * end of its blob: malformed data ends a lookup with "unknown", never with
 * a fault. Nothing is cached between calls and nothing is allocated, so a
 * lookup works at any time, even from a panic.
 */
#include <inc/types.h>
#include <inc/string.h>
#include <inc/error.h>

#include <kern/kdebug.h>

/* ---- The blobs (see above and conf/kdebug-blobs.sh) --------------------- */

struct KdebugSym {
	uintptr_t ks_addr;   /* where the symbol's code starts */
	const char *ks_name; /* NULL in the end-of-text entry */
};

extern const uint8_t kdebug_line_start[], kdebug_line_end[];
extern const uint8_t kdebug_info_start[], kdebug_info_end[];
extern const uint8_t kdebug_abbrev_start[], kdebug_abbrev_end[];
extern const struct KdebugSym kdebug_syms[], kdebug_syms_end[];
extern const char kdebug_symstr_start[], kdebug_symstr_end[];

/* ---- DWARF constants (DWARF 4 section 7; DWARF 5 for its forms) -------- */

/* A 32-bit initial length of this value announces the 64-bit format. */
#define DWARF64_ESCAPE 0xffffffffULL
/* Initial lengths from here up to the escape are reserved. */
#define DWARF_LENGTH_RESERVED 0xfffffff0ULL
#define DWARF32_OFFSET_SIZE 4
#define DWARF64_OFFSET_SIZE 8

#define DW_TAG_formal_parameter 0x05
#define DW_TAG_subprogram 0x2e
#define DW_TAG_compile_unit 0x11
#define DW_CHILDREN_yes 1

#define DW_AT_sibling 0x01
#define DW_AT_location 0x02
#define DW_AT_byte_size 0x0b
#define DW_AT_low_pc 0x11
#define DW_AT_high_pc 0x12
#define DW_AT_frame_base 0x40
#define DW_AT_type 0x49
#define DW_AT_ranges 0x55

#define DW_FORM_addr 0x01
#define DW_FORM_block2 0x03
#define DW_FORM_block4 0x04
#define DW_FORM_data2 0x05
#define DW_FORM_data4 0x06
#define DW_FORM_data8 0x07
#define DW_FORM_string 0x08
#define DW_FORM_block 0x09
#define DW_FORM_block1 0x0a
#define DW_FORM_data1 0x0b
#define DW_FORM_flag 0x0c
#define DW_FORM_sdata 0x0d
#define DW_FORM_strp 0x0e
#define DW_FORM_udata 0x0f
#define DW_FORM_ref_addr 0x10
#define DW_FORM_ref1 0x11
#define DW_FORM_ref2 0x12
#define DW_FORM_ref4 0x13
#define DW_FORM_ref8 0x14
#define DW_FORM_ref_udata 0x15
#define DW_FORM_indirect 0x16
#define DW_FORM_sec_offset 0x17
#define DW_FORM_exprloc 0x18
#define DW_FORM_flag_present 0x19
#define DW_FORM_strx 0x1a
#define DW_FORM_addrx 0x1b
#define DW_FORM_ref_sup4 0x1c
#define DW_FORM_strp_sup 0x1d
#define DW_FORM_data16 0x1e
#define DW_FORM_line_strp 0x1f
#define DW_FORM_ref_sig8 0x20
#define DW_FORM_implicit_const 0x21
#define DW_FORM_loclistx 0x22
#define DW_FORM_rnglistx 0x23
#define DW_FORM_ref_sup8 0x24
#define DW_FORM_strx1 0x25
#define DW_FORM_strx2 0x26
#define DW_FORM_strx3 0x27
#define DW_FORM_strx4 0x28
#define DW_FORM_addrx1 0x29
#define DW_FORM_addrx2 0x2a
#define DW_FORM_addrx3 0x2b
#define DW_FORM_addrx4 0x2c
/* Size of the data16 form's value. */
#define DATA16_SIZE 16

/* Compilation unit types of DWARF 5 headers. */
#define DW_UT_compile 0x01
#define DW_UT_partial 0x03

/* Location expression operations; x86-64 DWARF register 6 is %rbp. */
#define DW_OP_breg6 0x76
#define DW_OP_fbreg 0x91
#define DW_OP_call_frame_cfa 0x9c
/* The CFA is %rbp + 16 in a frame-pointer frame: above the saved %rbp
 * and the return address. */
#define CFA_FROM_RBP 16

/* Line-number program opcodes. */
#define DW_LNS_copy 0x01
#define DW_LNS_advance_pc 0x02
#define DW_LNS_advance_line 0x03
#define DW_LNS_set_file 0x04
#define DW_LNS_const_add_pc 0x08
#define DW_LNS_fixed_advance_pc 0x09
#define DW_LNE_end_sequence 0x01
#define DW_LNE_set_address 0x02
/* The highest opcode value; const_add_pc advances like special opcode 255. */
#define LINE_OPCODE_MAX 255

/* Versions decoded here. */
#define LINE_VERSION_MIN 2
#define LINE_VERSION_MAX 4
#define INFO_VERSION_MIN 2
#define INFO_VERSION_MAX 5
/* Line tables of version 4 and up have maximum_operations_per_instruction. */
#define LINE_VERSION_MAX_OPS 4
/* DWARF 5 reordered the unit header. */
#define INFO_VERSION_UNIT_TYPE 5
/* Address sizes a unit may declare. */
#define ADDR_SIZE_32 4
#define ADDR_SIZE_64 8
/* In DWARF 2, DW_FORM_ref_addr was address-sized. */
#define INFO_VERSION_REF_ADDR_IS_ADDR 2

/* Sanity limits for malformed or unexpected data. */
#define MAX_TYPE_HOPS 8          /* typedef/const chains followed for a size */
#define MAX_ARG_FRAME_OFFSET 4096 /* an argument lies this close to %rbp */
#define MAX_ARG_SIZE 4096         /* larger byte sizes are not believed */

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

static const char unknown[] = "<unknown>";

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

static struct Reader reader_of(const uint8_t *start, const uint8_t *end)
{
	struct Reader r = { start, (size_t)(end - start), 0, false };

	if (end < start)
		r.size = 0;
	return r;
}

/* Marks r malformed; every later read returns 0. */
static void reader_fail(struct Reader *r)
{
	r->bad = true;
	r->pos = r->size;
}

static bool reader_done(const struct Reader *r)
{
	return r->bad || r->pos >= r->size;
}

/* Moves to section offset pos, which must lie inside the reader. */
static void reader_seek(struct Reader *r, uint64_t pos)
{
	if (pos > r->size)
		reader_fail(r);
	else
		r->pos = pos;
}

static void reader_skip(struct Reader *r, uint64_t n)
{
	if (n > r->size - r->pos)
		reader_fail(r);
	else
		r->pos += n;
}

/* Returns a reader for the next n bytes and moves r past them. */
static struct Reader reader_window(struct Reader *r, uint64_t n)
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
static uint64_t read_uint(struct Reader *r, int nbytes)
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

static uint8_t read_u8(struct Reader *r)
{
	return read_uint(r, sizeof(uint8_t));
}

/*
 * The bits of a LEB128 number; *last gets its last byte. Bits beyond 64
 * are dropped: no DWARF value needs them.
 */
static uint64_t read_leb_bits(struct Reader *r, unsigned *shift,
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

static uint64_t read_uleb(struct Reader *r)
{
	unsigned shift;
	uint8_t last;

	return read_leb_bits(r, &shift, &last);
}

static int64_t read_sleb(struct Reader *r)
{
	unsigned shift;
	uint8_t last;
	uint64_t v = read_leb_bits(r, &shift, &last);

	if (shift < LEB128_MAX_SHIFT && (last & LEB128_SIGN))
		v |= ~(uint64_t)0 << shift; /* sign-extend */
	return (int64_t)v;
}

/* A NUL-terminated string; NULL (and r bad) if the NUL is missing. */
static const char *read_cstr(struct Reader *r)
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
static uint64_t read_initial_length(struct Reader *r, int *offsize)
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

/* ---- Function names: the symbol table ----------------------------------- */

/* Trusts a name pointer only if it points at a string in the name blob. */
static bool symbol_name_ok(const char *name)
{
	size_t room;

	if (name < kdebug_symstr_start || name >= kdebug_symstr_end)
		return false;
	room = kdebug_symstr_end - name;
	return (size_t)strnlen(name, room) < room;
}

static bool find_function(uintptr_t rip, struct Ripdebuginfo *info)
{
	size_t n = kdebug_syms_end - kdebug_syms;
	size_t lo = 0, hi;

	/* At least one symbol and the end-of-text entry. */
	if (n < 2 || rip < kdebug_syms[0].ks_addr ||
	    rip >= kdebug_syms[n - 1].ks_addr)
		return false;

	/* Binary search keeping syms[lo].ks_addr <= rip < syms[hi].ks_addr. */
	hi = n - 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (kdebug_syms[mid].ks_addr <= rip)
			lo = mid;
		else
			hi = mid;
	}
	if (!symbol_name_ok(kdebug_syms[lo].ks_name))
		return false;
	info->rip_fn_name = kdebug_syms[lo].ks_name;
	info->rip_fn_namelen = strlen(info->rip_fn_name);
	info->rip_fn_addr = kdebug_syms[lo].ks_addr;
	return true;
}

/* ---- File and line: .debug_line ----------------------------------------- */

/* The header of one line-number program (DWARF 4 section 6.2.4). */
struct LineProgram {
	uint8_t min_inst_len; /* code bytes per address-advance unit */
	int8_t line_base;     /* special opcodes: smallest line advance */
	uint8_t line_range;   /* ... and how many line advances they encode */
	uint8_t opcode_base;  /* the first special opcode */
	struct Reader std_lengths; /* operand counts of standard opcodes */
	struct Reader dirs;   /* include_directories */
	struct Reader files;  /* file_names */
	struct Reader ops;    /* the program itself */
};

/* The state machine's registers that matter here. */
struct LineRow {
	uint64_t addr;
	uint64_t file;
	int64_t line;
	bool end_sequence;
};

/* Skips strings up to and including an empty one. */
static void skip_string_list(struct Reader *r)
{
	const char *s;

	do
		s = read_cstr(r);
	while (s && *s);
}

/* Reads a header (unit positioned after unit_length). False if unusable. */
static bool read_line_header(struct Reader *unit, int offsize,
			     struct LineProgram *lp)
{
	int version = read_uint(unit, UHALF_SIZE);
	uint64_t header_len;
	size_t program;

	if (version < LINE_VERSION_MIN || version > LINE_VERSION_MAX)
		return false;
	header_len = read_uint(unit, offsize);
	program = unit->pos;
	lp->min_inst_len = read_u8(unit);
	if (version >= LINE_VERSION_MAX_OPS)
		read_u8(unit); /* maximum_operations_per_instruction: 1 on x86 */
	read_u8(unit);         /* default_is_stmt */
	lp->line_base = (int8_t)read_u8(unit);
	lp->line_range = read_u8(unit);
	lp->opcode_base = read_u8(unit);
	if (unit->bad || lp->line_range == 0 || lp->opcode_base == 0)
		return false;
	lp->std_lengths = reader_window(unit, lp->opcode_base - 1);

	/* include_directories, then file_names: each list ends with "". */
	lp->dirs = *unit;
	skip_string_list(unit);
	lp->files = *unit;

	lp->ops = *unit;
	if (header_len > unit->size - program)
		return false;
	reader_seek(&lp->ops, program + header_len);
	return !unit->bad;
}

/* The n'th string (1-based) of include_directories; "" for 0 or none. */
static const char *line_dir_name(const struct LineProgram *lp, uint64_t n)
{
	struct Reader r = lp->dirs;
	const char *dir = "";

	for (; n > 0; n--) {
		dir = read_cstr(&r);
		if (!dir || !*dir)
			return "";
	}
	return dir;
}

/* Appends s to the string in buf (size bytes), truncating quietly. */
static void append(char *buf, size_t size, const char *s)
{
	size_t len = strnlen(buf, size);

	while (*s && len + 1 < size)
		buf[len++] = *s++;
	if (len < size)
		buf[len] = '\0';
}

/*
 * Writes "dir/name" for file number n (1-based) into buf, dropping a
 * leading "./" so that names print like kern/init.c. gcc names files
 * relative to the compilation directory, which is the top of the tree.
 */
static bool line_file_name(const struct LineProgram *lp, uint64_t n,
			   char *buf, size_t size)
{
	struct Reader r = lp->files;
	const char *name = NULL, *dir;
	uint64_t i, dirno = 0;

	for (i = 1; i <= n; i++) {
		name = read_cstr(&r);
		if (!name || !*name)
			return false;
		dirno = read_uleb(&r);
		read_uleb(&r); /* modification time */
		read_uleb(&r); /* file length */
	}
	if (!name || r.bad)
		return false;

	dir = line_dir_name(lp, dirno);
	buf[0] = '\0';
	if (*dir && *name != '/') {
		append(buf, size, dir);
		append(buf, size, "/");
	}
	append(buf, size, name);
	while (buf[0] == '.' && buf[1] == '/')
		memmove(buf, buf + 2, strlen(buf + 2) + 1);
	return true;
}

static void line_reset(struct LineRow *row)
{
	row->addr = 0;
	row->file = 1;
	row->line = 1;
	row->end_sequence = false;
}

/* Skips the operands of a standard opcode this decoder has no use for. */
static void skip_standard_operands(const struct LineProgram *lp,
				   struct Reader *r, uint8_t op)
{
	struct Reader lengths = lp->std_lengths;
	uint8_t n;

	reader_skip(&lengths, op - 1);
	n = read_u8(&lengths);
	if (lengths.bad)
		reader_fail(r);
	while (n-- > 0 && !r->bad)
		read_uleb(r);
}

/* Runs a standard opcode; true if it appends a row. */
static bool line_standard_op(const struct LineProgram *lp, struct Reader *r,
			     uint8_t op, struct LineRow *row)
{
	uint8_t adj;

	switch (op) {
	case DW_LNS_copy:
		return true;
	case DW_LNS_advance_pc:
		row->addr += read_uleb(r) * lp->min_inst_len;
		break;
	case DW_LNS_advance_line:
		row->line += read_sleb(r);
		break;
	case DW_LNS_set_file:
		row->file = read_uleb(r);
		break;
	case DW_LNS_const_add_pc:
		adj = LINE_OPCODE_MAX - lp->opcode_base;
		row->addr += (adj / lp->line_range) * lp->min_inst_len;
		break;
	case DW_LNS_fixed_advance_pc:
		row->addr += read_uint(r, UHALF_SIZE);
		break;
	default:
		/* Columns, statement flags, ISA...: not needed for file:line. */
		skip_standard_operands(lp, r, op);
		break;
	}
	return false;
}

/* Runs an extended opcode (after its 0 escape byte). */
static void line_extended_op(struct Reader *r, struct LineRow *row)
{
	uint64_t len = read_uleb(r);
	struct Reader op = reader_window(r, len);

	switch (read_u8(&op)) {
	case DW_LNE_end_sequence:
		row->end_sequence = true;
		break;
	case DW_LNE_set_address:
		row->addr = read_uint(&op, op.size - op.pos);
		break;
	default:
		/* define_file, set_discriminator, vendor extensions. */
		break;
	}
	if (op.bad)
		reader_fail(r);
}

/* A special opcode advances address and line at once and appends a row. */
static void line_special_op(const struct LineProgram *lp, uint8_t op,
			    struct LineRow *row)
{
	uint8_t adj = op - lp->opcode_base;

	row->addr += (adj / lp->line_range) * lp->min_inst_len;
	row->line += lp->line_base + adj % lp->line_range;
}

/*
 * Runs a line-number program. Each row covers the addresses from its own
 * up to the next row of its sequence; returns the row covering rip.
 */
static bool line_find_row(struct LineProgram *lp, uintptr_t rip,
			  struct LineRow *hit)
{
	struct Reader *r = &lp->ops;
	struct LineRow row, prev;
	bool have_prev = false;

	line_reset(&row);
	line_reset(&prev);
	while (!reader_done(r)) {
		uint8_t op = read_u8(r);
		bool append_row = false;

		if (op >= lp->opcode_base) {
			line_special_op(lp, op, &row);
			append_row = true;
		} else if (op == 0) {
			line_extended_op(r, &row);
			append_row = row.end_sequence;
		} else {
			append_row = line_standard_op(lp, r, op, &row);
		}
		if (r->bad || !append_row)
			continue;

		if (have_prev && prev.addr <= rip && rip < row.addr) {
			*hit = prev;
			return true;
		}
		prev = row;
		have_prev = !row.end_sequence;
		if (row.end_sequence)
			line_reset(&row);
	}
	return false;
}

/* Tries every line-number program in .debug_line in turn. */
static bool find_line(uintptr_t rip, struct Ripdebuginfo *info)
{
	struct Reader sec = reader_of(kdebug_line_start, kdebug_line_end);

	while (!reader_done(&sec)) {
		struct LineProgram lp;
		struct LineRow row;
		int offsize;
		uint64_t len = read_initial_length(&sec, &offsize);
		struct Reader unit = reader_window(&sec, len);

		if (unit.bad || !read_line_header(&unit, offsize, &lp))
			continue;
		if (!line_find_row(&lp, rip, &row))
			continue;
		if (line_file_name(&lp, row.file, info->rip_file_buf,
				   sizeof(info->rip_file_buf)))
			info->rip_file = info->rip_file_buf;
		info->rip_line = row.line;
		return true;
	}
	return false;
}

/* ---- Abbreviations: .debug_abbrev ---------------------------------------- */

/*
 * One abbreviation declaration: the shape shared by many DIEs (tag,
 * whether children follow, and the list of attribute names and forms).
 */
struct Abbrev {
	uint64_t code; /* 0: a null entry, which ends a list of siblings */
	uint64_t tag;
	bool has_children;
	size_t attr_pos; /* (name, form) pairs in .debug_abbrev */
};

/* Codes below this are found through an index; gcc numbers them 1, 2, ... */
#define ABBREV_INDEX_SIZE 256

static struct Reader abbrev_reader(void)
{
	return reader_of(kdebug_abbrev_start, kdebug_abbrev_end);
}

/* Reads the declaration at r; false at the end of a table or if bad. */
static bool read_abbrev(struct Reader *r, struct Abbrev *ab)
{
	uint64_t name, form;

	ab->code = read_uleb(r);
	if (ab->code == 0 || r->bad)
		return false;
	ab->tag = read_uleb(r);
	ab->has_children = read_u8(r) == DW_CHILDREN_yes;
	ab->attr_pos = r->pos;
	do {
		name = read_uleb(r);
		form = read_uleb(r);
		if (form == DW_FORM_implicit_const)
			read_sleb(r);
	} while ((name || form) && !r->bad);
	return !r->bad;
}

/* ---- Debugging information entries: .debug_info --------------------------- */

/* A compilation unit's header and an index of its abbreviation table. */
struct Cu {
	size_t start;      /* offset of the unit header in .debug_info */
	size_t end;        /* offset just past the unit */
	size_t dies;       /* offset of the first DIE */
	int version;
	int offsize;       /* 4 or 8: 32- or 64-bit DWARF */
	int addrsize;
	uint64_t abbrev_off;
	/* Whether abbrev_index is filled: only for a unit we search, as
	 * filling it reads the unit's whole abbreviation table. */
	bool indexed;
	/* code -> 1 + position of its declaration; 0: no such code */
	uint32_t abbrev_index[ABBREV_INDEX_SIZE];
};

static void index_abbrevs(struct Cu *cu)
{
	struct Reader r = abbrev_reader();
	struct Abbrev ab;
	size_t pos;

	memset(cu->abbrev_index, 0, sizeof(cu->abbrev_index));
	reader_seek(&r, cu->abbrev_off);
	for (pos = r.pos; read_abbrev(&r, &ab); pos = r.pos)
		if (ab.code < ABBREV_INDEX_SIZE && !cu->abbrev_index[ab.code])
			cu->abbrev_index[ab.code] = pos + 1;
	cu->indexed = true;
}

static bool find_abbrev(const struct Cu *cu, uint64_t code, struct Abbrev *ab)
{
	struct Reader r = abbrev_reader();

	if (cu->indexed && code < ABBREV_INDEX_SIZE) {
		if (!cu->abbrev_index[code])
			return false;
		reader_seek(&r, cu->abbrev_index[code] - 1);
		return read_abbrev(&r, ab) && ab->code == code;
	}
	reader_seek(&r, cu->abbrev_off);
	while (read_abbrev(&r, ab))
		if (ab->code == code)
			return true;
	return false;
}

/* What reading a unit header found. */
enum CuStatus { CU_USABLE, CU_SKIP, CU_END };

/* Reads the unit header at sec and moves sec past the whole unit. */
static enum CuStatus read_cu_header(struct Reader *sec, struct Cu *cu)
{
	struct Reader unit;
	uint64_t len;
	int unit_type = DW_UT_compile;

	cu->start = sec->pos;
	len = read_initial_length(sec, &cu->offsize);
	unit = reader_window(sec, len);
	if (unit.bad)
		return CU_END;
	cu->end = unit.size;

	cu->version = read_uint(&unit, UHALF_SIZE);
	if (cu->version < INFO_VERSION_MIN || cu->version > INFO_VERSION_MAX)
		return CU_SKIP;
	if (cu->version >= INFO_VERSION_UNIT_TYPE) {
		unit_type = read_u8(&unit);
		cu->addrsize = read_u8(&unit);
		cu->abbrev_off = read_uint(&unit, cu->offsize);
	} else {
		cu->abbrev_off = read_uint(&unit, cu->offsize);
		cu->addrsize = read_u8(&unit);
	}
	cu->dies = unit.pos;
	cu->indexed = false;
	if (unit.bad || (unit_type != DW_UT_compile && unit_type != DW_UT_partial) ||
	    (cu->addrsize != ADDR_SIZE_32 && cu->addrsize != ADDR_SIZE_64))
		return CU_SKIP;
	return CU_USABLE;
}

/* One attribute's value, in the form its class needs. */
struct AttrValue {
	uint64_t form;
	uint64_t num;       /* constants, addresses, offsets, references */
	struct Reader expr; /* exprloc and block forms: the bytes */
};

/* How many bytes a fixed-size form takes; 0 if not fixed-size. */
static int form_fixed_size(const struct Cu *cu, uint64_t form)
{
	switch (form) {
	case DW_FORM_flag_present:
	case DW_FORM_implicit_const:
		return 0;
	case DW_FORM_data1: case DW_FORM_ref1: case DW_FORM_flag:
	case DW_FORM_strx1: case DW_FORM_addrx1:
		return 1;
	case DW_FORM_data2: case DW_FORM_ref2:
	case DW_FORM_strx2: case DW_FORM_addrx2:
		return 2;
	case DW_FORM_strx3: case DW_FORM_addrx3:
		return 3;
	case DW_FORM_data4: case DW_FORM_ref4: case DW_FORM_ref_sup4:
	case DW_FORM_strx4: case DW_FORM_addrx4:
		return 4;
	case DW_FORM_data8: case DW_FORM_ref8: case DW_FORM_ref_sig8:
	case DW_FORM_ref_sup8:
		return 8;
	case DW_FORM_addr:
		return cu->addrsize;
	case DW_FORM_ref_addr:
		return cu->version == INFO_VERSION_REF_ADDR_IS_ADDR ?
			       cu->addrsize : cu->offsize;
	case DW_FORM_strp: case DW_FORM_sec_offset: case DW_FORM_line_strp:
	case DW_FORM_strp_sup:
		return cu->offsize;
	default:
		return -1;
	}
}

/* Reads a value of the given form at r. False for unknown forms. */
static bool read_attr_value(struct Reader *r, const struct Cu *cu,
			    uint64_t form, int64_t implicit,
			    struct AttrValue *v)
{
	int size;

	if (form == DW_FORM_indirect)
		form = read_uleb(r);
	memset(v, 0, sizeof(*v));
	v->form = form;
	size = form_fixed_size(cu, form);
	if (size >= 0) {
		v->num = form == DW_FORM_implicit_const ? (uint64_t)implicit :
			 form == DW_FORM_flag_present   ? 1 :
							  read_uint(r, size);
		return !r->bad;
	}

	switch (form) {
	case DW_FORM_udata: case DW_FORM_ref_udata: case DW_FORM_strx:
	case DW_FORM_addrx: case DW_FORM_loclistx: case DW_FORM_rnglistx:
		v->num = read_uleb(r);
		break;
	case DW_FORM_sdata:
		v->num = read_sleb(r);
		break;
	case DW_FORM_string:
		read_cstr(r);
		break;
	case DW_FORM_data16:
		reader_skip(r, DATA16_SIZE);
		break;
	case DW_FORM_block1:
		v->expr = reader_window(r, read_u8(r));
		break;
	case DW_FORM_block2:
		v->expr = reader_window(r, read_uint(r, sizeof(uint16_t)));
		break;
	case DW_FORM_block4:
		v->expr = reader_window(r, read_uint(r, sizeof(uint32_t)));
		break;
	case DW_FORM_block:
	case DW_FORM_exprloc:
		v->expr = reader_window(r, read_uleb(r));
		break;
	default:
		return false;
	}
	return !r->bad;
}

static bool form_is_constant(uint64_t form)
{
	return form == DW_FORM_data1 || form == DW_FORM_data2 ||
	       form == DW_FORM_data4 || form == DW_FORM_data8 ||
	       form == DW_FORM_sdata || form == DW_FORM_udata ||
	       form == DW_FORM_implicit_const;
}

static bool form_is_block(uint64_t form)
{
	return form == DW_FORM_exprloc || form == DW_FORM_block ||
	       form == DW_FORM_block1 || form == DW_FORM_block2 ||
	       form == DW_FORM_block4;
}

/* A reference form's target as a .debug_info offset; false if not one. */
static bool form_reference(const struct Cu *cu, const struct AttrValue *v,
			   size_t *off)
{
	switch (v->form) {
	case DW_FORM_ref1: case DW_FORM_ref2: case DW_FORM_ref4:
	case DW_FORM_ref8: case DW_FORM_ref_udata:
		*off = cu->start + v->num; /* relative to the unit */
		return true;
	case DW_FORM_ref_addr:
		*off = v->num; /* relative to the section */
		return true;
	default:
		return false;
	}
}

/* One DIE with the attributes this file looks at. */
struct Die {
	struct Abbrev ab;
	bool has_low_pc, has_high_pc, high_pc_is_size;
	uint64_t low_pc, high_pc;
	bool has_frame_base, has_location;
	struct Reader frame_base, location;
	bool has_type;
	size_t type_off;
	bool has_byte_size;
	uint64_t byte_size;
	bool has_ranges;     /* code in several ranges (.debug_ranges) */
	bool has_sibling;    /* where the next sibling starts */
	size_t sibling_off;
};

/* Keeps the attributes of interest from a DIE being read. */
static void note_attr(const struct Cu *cu, struct Die *d, uint64_t name,
		      const struct AttrValue *v)
{
	switch (name) {
	case DW_AT_low_pc:
		d->has_low_pc = v->form == DW_FORM_addr;
		d->low_pc = v->num;
		break;
	case DW_AT_high_pc:
		/* DWARF 4: an address, or a constant size from low_pc. */
		d->has_high_pc = v->form == DW_FORM_addr ||
				 form_is_constant(v->form);
		d->high_pc_is_size = form_is_constant(v->form);
		d->high_pc = v->num;
		break;
	case DW_AT_frame_base:
		d->has_frame_base = form_is_block(v->form);
		d->frame_base = v->expr;
		break;
	case DW_AT_location:
		d->has_location = form_is_block(v->form);
		d->location = v->expr;
		break;
	case DW_AT_type:
		d->has_type = form_reference(cu, v, &d->type_off);
		break;
	case DW_AT_byte_size:
		d->has_byte_size = form_is_constant(v->form);
		d->byte_size = v->num;
		break;
	case DW_AT_ranges:
		d->has_ranges = true;
		break;
	case DW_AT_sibling:
		d->has_sibling = form_reference(cu, v, &d->sibling_off);
		break;
	}
}

/*
 * Reads the DIE at r and moves r past its attributes (not its children).
 * False if malformed; d->ab.code == 0 for a null entry.
 */
static bool read_die(struct Reader *r, const struct Cu *cu, struct Die *d)
{
	struct Reader spec = abbrev_reader();
	struct AttrValue v;
	uint64_t name, form;
	int64_t implicit;

	memset(d, 0, sizeof(*d));
	d->ab.code = read_uleb(r);
	if (r->bad)
		return false;
	if (d->ab.code == 0)
		return true;
	if (!find_abbrev(cu, d->ab.code, &d->ab))
		return false;

	reader_seek(&spec, d->ab.attr_pos);
	for (;;) {
		name = read_uleb(&spec);
		form = read_uleb(&spec);
		implicit = form == DW_FORM_implicit_const ? read_sleb(&spec) : 0;
		if (spec.bad)
			return false;
		if (name == 0 && form == 0)
			return true;
		if (!read_attr_value(r, cu, form, implicit, &v))
			return false;
		note_attr(cu, d, name, &v);
	}
}

/* Whether a subprogram DIE's code range holds rip. */
static bool die_covers(const struct Die *d, uintptr_t rip)
{
	uint64_t high;

	if (!d->has_low_pc || !d->has_high_pc)
		return false;
	high = d->high_pc_is_size ? d->low_pc + d->high_pc : d->high_pc;
	return d->low_pc <= rip && rip < high;
}

/* The byte size of the type at .debug_info offset off, through typedefs,
 * const and volatile; a word if nothing says. */
static int type_size(const struct Cu *cu, size_t off)
{
	struct Reader r = reader_of(kdebug_info_start, kdebug_info_end);
	struct Die d;
	int hops;

	r.size = MIN(r.size, cu->end);
	for (hops = 0; hops < MAX_TYPE_HOPS; hops++) {
		/* Another unit's DIEs would need its abbreviations. */
		if (off < cu->dies || off >= cu->end)
			break;
		reader_seek(&r, off);
		if (!read_die(&r, cu, &d) || d.ab.code == 0)
			break;
		if (d.has_byte_size)
			return d.byte_size <= MAX_ARG_SIZE ? (int)d.byte_size :
							     MAX_ARG_SIZE;
		if (!d.has_type)
			break;
		off = d.type_off;
	}
	return cu->addrsize;
}

/* The frame base's offset from %rbp, if its expression is one we know. */
static bool frame_base_from_rbp(const struct Die *fn, int64_t *off)
{
	struct Reader e = fn->frame_base;

	if (!fn->has_frame_base)
		return false;
	switch (read_u8(&e)) {
	case DW_OP_call_frame_cfa:
		*off = CFA_FROM_RBP;
		break;
	case DW_OP_breg6:
		*off = read_sleb(&e);
		break;
	default:
		return false;
	}
	/* A longer expression computes something else. */
	return !e.bad && reader_done(&e);
}

/* The offset N of a location expression that is just DW_OP_fbreg(N). */
static bool location_fbreg(const struct Die *param, int64_t *off)
{
	struct Reader e = param->location;

	if (!param->has_location || read_u8(&e) != DW_OP_fbreg)
		return false;
	*off = read_sleb(&e);
	return !e.bad && reader_done(&e);
}

/* Records one DW_TAG_formal_parameter; false if its place is unknown. */
static bool add_arg(const struct Cu *cu, const struct Die *param,
		    int64_t frame_base, struct Ripdebuginfo *info)
{
	int64_t off;
	int i = info->rip_fn_narg;

	if (!location_fbreg(param, &off))
		return false;
	off += frame_base;
	if (off < -MAX_ARG_FRAME_OFFSET || off > MAX_ARG_FRAME_OFFSET)
		return false;
	if (i >= RIP_MAX_ARGS)
		return true; /* describe the first RIP_MAX_ARGS only */
	info->rip_fn_argoff[i] = off;
	info->rip_fn_argsize[i] =
		param->has_type ? type_size(cu, param->type_off) : cu->addrsize;
	info->rip_fn_narg++;
	return true;
}

/*
 * Reads the children of subprogram fn (r is just past fn's attributes)
 * and records its parameters; leaves rip_fn_narg -1 if any is unknown.
 */
static void read_args(const struct Cu *cu, struct Reader *r,
		      const struct Die *fn, struct Ripdebuginfo *info)
{
	struct Die d;
	int64_t frame_base;
	int depth = 1;

	if (!frame_base_from_rbp(fn, &frame_base))
		return;
	info->rip_fn_narg = 0;
	if (!fn->ab.has_children)
		return;
	while (depth > 0) {
		if (!read_die(r, cu, &d))
			goto unknown;
		if (d.ab.code == 0) {
			depth--;
			continue;
		}
		/* Only direct children: nested blocks hold locals. */
		if (depth == 1 && d.ab.tag == DW_TAG_formal_parameter &&
		    !add_arg(cu, &d, frame_base, info))
			goto unknown;
		if (d.ab.has_children)
			depth++;
	}
	return;
unknown:
	info->rip_fn_narg = -1;
}

/*
 * Whether the unit may hold code at rip, from its first DIE (the unit's
 * own): a [low_pc, high_pc) range says; several ranges (DW_AT_ranges,
 * whose section we do not carry) may; no range at all means no code.
 * Most units are ruled out here without reading their other DIEs.
 */
static bool cu_may_cover(const struct Cu *cu, uintptr_t rip)
{
	struct Reader r = reader_of(kdebug_info_start, kdebug_info_end);
	struct Die d;

	r.size = MIN(r.size, cu->end);
	reader_seek(&r, cu->dies);
	if (!read_die(&r, cu, &d) || d.ab.code == 0)
		return false;
	if (d.has_low_pc && d.has_high_pc)
		return die_covers(&d, rip);
	return d.has_ranges;
}

/*
 * Moves r past the children of d (r is just past d's attributes) when d
 * names its next sibling, which must lie ahead, inside the unit. With no
 * usable sibling, r stays: the children are read one by one instead.
 */
static void skip_children(struct Reader *r, const struct Die *d)
{
	if (d->ab.has_children && d->has_sibling && d->sibling_off > r->pos &&
	    d->sibling_off < r->size)
		reader_seek(r, d->sibling_off);
}

/* Looks through one unit's DIEs for the subprogram holding rip. */
static bool find_subprogram(const struct Cu *cu, uintptr_t rip,
			    struct Ripdebuginfo *info)
{
	struct Reader r = reader_of(kdebug_info_start, kdebug_info_end);
	struct Die d;

	r.size = MIN(r.size, cu->end);
	reader_seek(&r, cu->dies);
	while (!reader_done(&r)) {
		if (!read_die(&r, cu, &d))
			return false;
		if (d.ab.code == 0)
			continue;
		if (d.ab.tag == DW_TAG_subprogram && die_covers(&d, rip)) {
			read_args(cu, &r, &d, info);
			return true;
		}
		/* The unit's own DIE holds everything: never skip it. */
		if (d.ab.tag != DW_TAG_compile_unit)
			skip_children(&r, &d);
	}
	return false;
}

static void find_args(uintptr_t rip, struct Ripdebuginfo *info)
{
	struct Reader sec = reader_of(kdebug_info_start, kdebug_info_end);
	struct Cu cu;

	while (!reader_done(&sec)) {
		switch (read_cu_header(&sec, &cu)) {
		case CU_END:
			return;
		case CU_SKIP:
			break;
		case CU_USABLE:
			if (!cu_may_cover(&cu, rip))
				break;
			index_abbrevs(&cu);
			if (find_subprogram(&cu, rip, info))
				return;
			break;
		}
	}
}

/* ---- The entry point ----------------------------------------------------- */

/*
 * Fills *info with what is known about code address rip. Returns 0 if
 * the function or the source line is known, -E_NOT_FOUND if neither;
 * unknown fields read "<unknown>", 0 and rip_fn_narg -1.
 */
int debuginfo_rip(uintptr_t rip, struct Ripdebuginfo *info)
{
	bool found_fn, found_line;

	info->rip_file = unknown;
	info->rip_line = 0;
	info->rip_fn_name = unknown;
	info->rip_fn_namelen = sizeof(unknown) - 1;
	info->rip_fn_addr = rip;
	info->rip_fn_narg = -1;
	info->rip_file_buf[0] = '\0';

	found_fn = find_function(rip, info);
	found_line = find_line(rip, info);
	find_args(rip, info);
	return found_fn || found_line ? 0 : -E_NOT_FOUND;
}
