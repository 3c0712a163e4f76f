/*
 * Where a kernel function keeps its arguments: the DW_TAG_subprogram of
 * .debug_info (versions 2-5) whose [DW_AT_low_pc, DW_AT_high_pc) holds the
 * address; its DW_TAG_formal_parameter children give DW_AT_location =
 * DW_OP_fbreg(N) (N bytes from the frame base) and a DW_AT_type with a
 * byte size. gcc's frame base is DW_OP_call_frame_cfa, the %rsp before
 * the call instruction, which is %rbp + 16 once the prologue has pushed
 * %rbp. The DIEs' shapes come from .debug_abbrev. debuginfo_rip
 * (kern/kdebug.c) calls dwarf_find_args.
 *
 * Invariants: as for every kdebug reader (kern/kdebug_dwarf.h), bytes are
 * read only through struct Reader, nothing is cached between calls and
 * nothing allocated (a unit's abbreviation index lives on the stack); a
 * DIE is read only with its own unit's abbreviations.
 */
#include <inc/types.h>
#include <inc/string.h>

#include <kern/kdebug.h>
#include <kern/kdebug_dwarf.h>

/* ---- DWARF constants (DWARF 4 section 7; DWARF 5 for its forms) -------- */

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

/* Versions decoded here. */
#define INFO_VERSION_MIN 2
#define INFO_VERSION_MAX 5
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

void dwarf_find_args(uintptr_t rip, struct Ripdebuginfo *info)
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
