/* Run-time debug information about kernel code addresses (kern/kdebug.c). */
#ifndef JOS_KERN_KDEBUG_H
#define JOS_KERN_KDEBUG_H

#include <inc/types.h>

/* The most arguments of one function that debuginfo_rip describes. */
#define RIP_MAX_ARGS 16
/* Room for "directory/file" of a source file name. */
#define RIP_FILE_MAX 128

/* What the kernel's debug information says about one code address. */
struct Ripdebuginfo {
	const char *rip_file;  /* source file name, "<unknown>" if not known */
	int rip_line;          /* source line number, 0 if not known */

	const char *rip_fn_name; /* enclosing function ("<unknown>"), and */
	int rip_fn_namelen;      /* the length of its name */
	uintptr_t rip_fn_addr;   /* address of the function's first byte */

	/*
	 * The function's named arguments, from DWARF: -1 if not known.
	 * Argument i occupies rip_fn_argsize[i] bytes at
	 * (the function's own frame pointer, %rbp) + rip_fn_argoff[i],
	 * which is where gcc -O0 spills it on entry.
	 */
	int rip_fn_narg;
	int rip_fn_argoff[RIP_MAX_ARGS];
	int rip_fn_argsize[RIP_MAX_ARGS];

	/* Storage that rip_file may point into. */
	char rip_file_buf[RIP_FILE_MAX];
};

int debuginfo_rip(uintptr_t rip, struct Ripdebuginfo *info);

#endif /* !JOS_KERN_KDEBUG_H */
