/*
 * File and line of a kernel code address: the line-number programs of
 * .debug_line (DWARF 4 section 6.2, versions 2-4), run until a row range
 * covers the address. debuginfo_rip (kern/kdebug.c) calls dwarf_find_line.
 *
 * Invariants: as for every kdebug reader (kern/kdebug_dwarf.h), bytes are
 * read only through struct Reader, nothing is cached and nothing
 * allocated; a malformed program is skipped, never trusted.
 */
#include <inc/types.h>
#include <inc/string.h>

#include <kern/kdebug.h>
#include <kern/kdebug_dwarf.h>

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
/* Line tables of version 4 and up have maximum_operations_per_instruction. */
#define LINE_VERSION_MAX_OPS 4

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
bool dwarf_find_line(uintptr_t rip, struct Ripdebuginfo *info)
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
