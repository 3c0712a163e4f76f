/*
 * The kernel monitor: reads a line at the "K> " prompt, splits it into
 * words and runs the command the first word names.
 *
 * monitor_query() runs one line for a user program (SYS_kmon, the host's
 * `kmon` command) while the host keeps running. Invariant: it runs only
 * commands marked QUERY, which read and print and never resume, step or
 * otherwise change what they look at; it never gets a trap frame. The
 * one QUERY command that sets anything, envmsgs, only chooses which
 * console lines the kernel prints.
 */
#include <inc/stdio.h>
#include <inc/string.h>
#include <inc/memlayout.h>
#include <inc/error.h>

#include <kern/monitor.h>
#include <kern/kdebug.h>
#include <kern/trap.h>
#include <kern/env.h>

/* Most words a command line may have, the command name included. */
#define MAXARGS 16
/* Characters that separate words. */
#define WHITESPACE " \t\r\n"

struct Command {
	const char *name;
	const char *desc;
	/* Returns < 0 to make the monitor return to its caller. */
	int (*func)(int argc, char **argv, struct Trapframe *tf);
	/* QUERY: read-only, so a user program may run it (monitor_query). */
	int flags;
};

#define QUERY 1

static int mon_envmsgs(int argc, char **argv, struct Trapframe *tf);

static const struct Command commands[] = {
	{ "help", "List the monitor's commands", mon_help, 0 },
	{ "kerninfo", "Show where the kernel lies and how big it is",
	  mon_kerninfo, 0 },
	{ "backtrace", "Show the call stack: frames, arguments, source lines",
	  mon_backtrace, 0 },
	{ "continue", "Resume the user environment that trapped here",
	  mon_continue, 0 },
	{ "si", "Run one instruction of that environment, then come back",
	  mon_si, 0 },
	{ "envmsgs", "envmsgs [on|off]: print the per-env lines ([id] new "
	  "env, exiting gracefully, destroying, free env) or not",
	  mon_envmsgs, QUERY },
	{ "vms", "List the guests: id, name, vendor, state, exits, vCPUs "
	  "(each vCPU's state)", mon_vms, QUERY },
	{ "vmstate", "vmstate ID[.CPU]: a guest vCPU's registers, control "
	  "state, events (ID.CPU: vCPU CPU of ID's VM)",
	  mon_vmstate, QUERY },
	{ "gpa", "gpa ID ADDR: walk the nested tables for a guest-physical "
	  "address", mon_gpa, QUERY },
	{ "gva", "gva ID[.CPU] ADDR: the guest's page-table walk (that "
	  "vCPU's CR3), then the gpa walk",
	  mon_gva, QUERY },
	{ "exits", "exits ID[.CPU]: a guest vCPU's exits per reason, average "
	  "host TSC",
	  mon_exits, QUERY },
	{ "devices", "devices ID: a PC guest's devices, the accesses each "
	  "emulated, the ports and MMIO addresses no device claims",
	  mon_devices, QUERY },
#ifndef VMM_GUEST
	{ "insntest", "Self-test the MMIO instruction decoder and the guest "
	  "page-table walk", mon_insntest, 0 },
#endif
};

/* ---- help and kerninfo ---------------------------------------------------- */

int mon_help(int argc, char **argv, struct Trapframe *tf)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		cprintf("%s - %s\n", commands[i].name, commands[i].desc);
	return 0;
}

/*
 * Defined by kern/kernel.ld and kern/entry.S. _start is the physical
 * address the boot loader jumps to; the others are link (virtual)
 * addresses in the KERNLINK window, which maps physical address p at
 * KERNLINK + p.
 */
extern char _start[], entry[], etext[], edata[], end[];

#define BYTES_PER_KIB 1024

static void show_symbol(const char *name, const char *va)
{
	cprintf("  %-6s %016llx (virt)  %016llx (phys)\n", name,
		(unsigned long long)(uintptr_t)va,
		(unsigned long long)((uintptr_t)va - KERNLINK));
}

int mon_kerninfo(int argc, char **argv, struct Trapframe *tf)
{
	cprintf("Special kernel symbols:\n");
	cprintf("  %-6s %16s         %016llx (phys)\n", "_start", "",
		(unsigned long long)(uintptr_t)_start);
	show_symbol("entry", entry);
	show_symbol("etext", etext);
	show_symbol("edata", edata);
	show_symbol("end", end);
	cprintf("Kernel executable memory footprint: %llu KiB\n",
		(unsigned long long)ROUNDUP(end - entry, BYTES_PER_KIB) /
			BYTES_PER_KIB);
	return 0;
}

/* ---- backtrace ------------------------------------------------------------ */

/*
 * A frame-pointer frame, as every kernel C function builds one
 * (push %rbp; mov %rsp, %rbp): %rbp points at the caller's saved %rbp,
 * with the return address into the caller just above it.
 */
struct Frame {
	uintptr_t saved_rbp;
	uintptr_t return_rip;
};

/* Bytes of an argument shown: a register's worth. */
#define ARG_SHOW_BYTES sizeof(uint64_t)

/*
 * The memory a backtrace may read: the KSTKSIZE bytes above
 * mon_backtrace's own frame. Every frame of the current kernel stack
 * lies there, and checking each address against it (and against
 * KERNBASE and alignment) keeps a corrupt chain from faulting.
 */
struct StackWindow {
	uintptr_t lo, hi;
};

static bool in_window(const struct StackWindow *w, uintptr_t addr,
		      size_t len)
{
	return addr >= KERNBASE && addr >= w->lo && addr < w->hi &&
	       len <= w->hi - addr;
}

static bool frame_ok(const struct StackWindow *w, uintptr_t rbp)
{
	return rbp != 0 && rbp % sizeof(uintptr_t) == 0 &&
	       in_window(w, rbp, sizeof(struct Frame));
}

/*
 * Prints " args" and the argument values of the function info describes,
 * whose frame is at rbp: " ?" if they are not known, nothing more if it
 * takes none. Each is shown zero-extended as 16 hex digits.
 */
static void print_args(const struct StackWindow *w, uintptr_t rbp,
		       const struct Ripdebuginfo *info)
{
	int i;

	cprintf("  args");
	if (info->rip_fn_narg < 0) {
		cprintf(" ?");
		return;
	}
	for (i = 0; i < info->rip_fn_narg; i++)
		if (!frame_ok(w, rbp) ||
		    !in_window(w, rbp + info->rip_fn_argoff[i],
			       info->rip_fn_argsize[i])) {
			cprintf(" ?");
			return;
		}
	for (i = 0; i < info->rip_fn_narg; i++) {
		uint64_t v = 0;
		memcpy(&v, (const void *)(rbp + info->rip_fn_argoff[i]),
		       MIN((size_t)info->rip_fn_argsize[i], ARG_SHOW_BYTES));
		cprintf(" %016llx", (unsigned long long)v);
	}
}

/*
 * One frame: its %rbp and return address, then, for the function that
 * address returns into (the caller, whose own frame is at saved_rbp),
 * its arguments and the source line of the call.
 */
static void print_frame(const struct StackWindow *w, uintptr_t rbp,
			const struct Frame *f)
{
	struct Ripdebuginfo info;
	/* The return address may begin the next line: look up the call. */
	int r = debuginfo_rip(f->return_rip - 1, &info);
	uintptr_t offset = r < 0 ? 0 : f->return_rip - info.rip_fn_addr;

	cprintf("  rbp %016llx  rip %016llx", (unsigned long long)rbp,
		(unsigned long long)f->return_rip);
	print_args(w, f->saved_rbp, &info);
	cprintf("\n         %s:%d: %.*s+%llu\n", info.rip_file, info.rip_line,
		info.rip_fn_namelen, info.rip_fn_name,
		(unsigned long long)offset);
}

/*
 * Walks the saved frame pointers from our own frame up. kern/entry.S
 * calls the first C function with %rbp = 0, which ends the chain; so
 * does anything outside the stack window, and a chain that stops
 * going up the stack.
 *
 * Our own %rbp comes from the compiler rather than read_rbp(): at -O0
 * gcc does not inline that function, so it would see its own frame.
 */
int mon_backtrace(int argc, char **argv, struct Trapframe *tf)
{
	uintptr_t rbp = (uintptr_t)__builtin_frame_address(0);
	struct StackWindow w = { rbp, rbp + KSTKSIZE };

	cprintf("Stack backtrace:\n");
	while (frame_ok(&w, rbp)) {
		const struct Frame *f = (const struct Frame *)rbp;

		print_frame(&w, rbp, f);
		if (f->saved_rbp <= rbp)
			break;
		rbp = f->saved_rbp;
	}
	return 0;
}

/* ---- Resuming a trapped environment ---------------------------------------- */

/* Only a trap from user mode (a breakpoint, a single step) can resume. */
static bool resumable(struct Trapframe *tf)
{
	if (tf == NULL || (tf->tf_cs & 3) != 3 ||
	    (tf->tf_trapno != T_BRKPT && tf->tf_trapno != T_DEBUG)) {
		cprintf("No user environment stopped at a breakpoint\n");
		return false;
	}
	return true;
}

int mon_continue(int argc, char **argv, struct Trapframe *tf)
{
	if (!resumable(tf))
		return 0;
	tf->tf_eflags &= ~(uint64_t)FL_TF;
	return -1;
}

/* The trap flag makes the CPU raise T_DEBUG after one instruction. */
int mon_si(int argc, char **argv, struct Trapframe *tf)
{
	if (!resumable(tf))
		return 0;
	tf->tf_eflags |= FL_TF;
	return -1;
}

/* ---- The command loop ----------------------------------------------------- */

static bool is_space(char c)
{
	return c != '\0' && strchr(WHITESPACE, c) != NULL;
}

/*
 * Splits line into words in place. Returns the number of words, or -1
 * if there are more than MAXARGS.
 */
static int split_words(char *line, char **argv)
{
	int argc = 0;

	for (;;) {
		while (is_space(*line))
			*line++ = '\0';
		if (*line == '\0')
			break;
		if (argc == MAXARGS)
			return -1;
		argv[argc++] = line;
		while (*line != '\0' && !is_space(*line))
			line++;
	}
	argv[argc] = NULL;
	return argc;
}

static const struct Command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* Runs one command line; returns what the command returned (0 if none). */
static int run_line(char *line, struct Trapframe *tf)
{
	char *argv[MAXARGS + 1];
	int argc = split_words(line, argv);
	const struct Command *cmd;

	if (argc < 0) {
		cprintf("Too many arguments (at most %d)\n", MAXARGS);
		return 0;
	}
	if (argc == 0)
		return 0;
	if (!(cmd = find_command(argv[0]))) {
		cprintf("Unknown command '%s'\n", argv[0]);
		return 0;
	}
	return cmd->func(argc, argv, tf);
}

/*
 * Runs line (a kernel copy, split in place) if it names a QUERY command:
 * 0 once it ran (its own argument errors are printed, as at K>),
 * -E_INVAL for an empty line, too many words, or a command that is
 * unknown or not read-only (nothing runs).
 */
int monitor_query(char *line)
{
	char *argv[MAXARGS + 1];
	int argc = split_words(line, argv);
	const struct Command *cmd;

	if (argc <= 0)
		return -E_INVAL;
	cmd = find_command(argv[0]);
	if (!cmd || !(cmd->flags & QUERY))
		return -E_INVAL;
	/* No trap frame: a query has nothing to resume. */
	cmd->func(argc, argv, NULL);
	return 0;
}

void monitor(struct Trapframe *tf)
{
	char *line;

	if (tf != NULL && tf->tf_trapno == T_DEBUG) {
		/* After `si`: just where the step ended. */
		cprintf("single step: rip %016lx\n", tf->tf_rip);
	} else {
		cprintf("Welcome to the JOS kernel monitor!\n");
		cprintf("Type 'help' for a list of commands.\n");
		/* Entered from a trap (a user breakpoint): show where. */
		if (tf != NULL)
			print_trapframe(tf);
	}
	for (;;) {
		line = readline("K> ");
		if (line != NULL && run_line(line, tf) < 0)
			break;
	}
}

/* envmsgs [on|off]: set env_msgs (kern/env.h), then say what it is. */
static int
mon_envmsgs(int argc, char **argv, struct Trapframe *tf)
{
	if (argc == 2 && strcmp(argv[1], "on") == 0)
		env_msgs = true;
	else if (argc == 2 && strcmp(argv[1], "off") == 0)
		env_msgs = false;
	else if (argc != 1) {
		cprintf("usage: envmsgs [on|off]\n");
		return 0;
	}
	cprintf("envmsgs: the per-env lines are %s\n", env_msgs ? "on" : "off");
	return 0;
}
