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
 * What is decoded, and where (DWARF 4 standard, www.dwarfstd.org)
 * ----------------------------------------------------------------
 * - Function name and start: the symbol table above (this file).
 * - File and line: .debug_line's line-number programs
 *   (kern/kdebug_line.c, dwarf_find_line).
 * - Arguments: the function's DIE in .debug_info and its parameters'
 *   locations and types (kern/kdebug_info.c, dwarf_find_args).
 * kern/kdebug_dwarf.h holds what those two share: the blobs' bounds, the
 * common encodings, and struct Reader.
 *
 * Invariants: every read of a blob is bounds-checked (struct Reader; here,
 * symbol_name_ok), so malformed data ends a lookup with "unknown", never
 * with a fault. Nothing is cached between calls and nothing is allocated,
 * so a lookup works at any time, even from a panic.
 */
#include <inc/types.h>
#include <inc/string.h>
#include <inc/error.h>

#include <kern/kdebug.h>
#include <kern/kdebug_dwarf.h>

/* ---- The blobs (see above and conf/kdebug-blobs.sh) --------------------- */

struct KdebugSym {
	uintptr_t ks_addr;   /* where the symbol's code starts */
	const char *ks_name; /* NULL in the end-of-text entry */
};

extern const struct KdebugSym kdebug_syms[], kdebug_syms_end[];
extern const char kdebug_symstr_start[], kdebug_symstr_end[];

static const char unknown[] = "<unknown>";

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
	found_line = dwarf_find_line(rip, info);
	dwarf_find_args(rip, info);
	return found_fn || found_line ? 0 : -E_NOT_FOUND;
}
