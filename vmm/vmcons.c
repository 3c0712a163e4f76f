/*
 * Guest consoles: which guest owns the host console (the foreground
 * guest), the escape keys that take it back, each guest's output ring and
 * its input queue.
 *
 * Invariants:
 * - fg is NULL or a live guest; a guest leaving (vmcons_free) or going to
 *   the background clears it. With fg NULL, console input is the host's.
 * - Every byte a guest prints lands in its output ring; it reaches the
 *   screen at once only in the foreground, else when it is next attached
 *   (the newest VMCONS_OUT_SIZE bytes; older ones are reported as lost).
 * - Console input while a guest is in the foreground goes to its own
 *   queue, escape keys aside: VMM_ESCAPE_CHAR then VMM_ESCAPE_DETACH
 *   detaches it, then VMM_ESCAPE_QUIT ends it; the escape char then any
 *   other byte passes both on. A guest's queue is never handed to another.
 * - Attach replays from the start of the line that holds out_shown (the
 *   line shown last, a prompt as a rule, is shown again: a guest
 *   detached at its prompt prints nothing more until it gets input),
 *   then every byte that arrived since.
 * - A guest is never destroyed under its own exit handler: when it is the
 *   current env here, it is only marked (kill_requested) and the run loop
 *   ends it (vmm_guest_hold) before entering it again.
 * - Notices (what the kernel says about a guest at a moment of its own:
 *   its first run on a CPU, its exit or stop, its freeing) start on a
 *   line of their own. The console's unfinished line (a prompt and what
 *   is typed after it) that a notice interrupted is printed again when
 *   someone next asks for console input (cons_getc, or the foreground
 *   guest's GETC), if nothing else has begun a line since. This works
 *   with any reader (readline, the guest's shell) and needs no help from
 *   the shell, which sits in readline and could print nothing before the
 *   next Enter.
 */
#include <inc/error.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/vmx.h>
#include <inc/stdarg.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <kern/sched.h>
#include <kern/console.h>
#include <vmm/vmm.h>
#include <vmm/vmcons.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>

/* Bytes of the console's unfinished line kept for reprinting. */
#define LINE_KEEP 256
/* Most bytes of a replayed line before the newline that ends it. */
#define REPLAY_LINE_MAX 256
/* Notices a guest may print about itself (VMCALL_PUTS_NOTICE). */
#define GUEST_NOTICES_MAX 4

static struct Vm *fg;
/* The foreground guest's last input byte was VMM_ESCAPE_CHAR. */
static bool esc_pending;

static void free_pages(char **pg, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (pg[i])
			page_decref(pa2page(PADDR(pg[i])));
		pg[i] = NULL;
	}
}

static int alloc_pages(char **pg, int n)
{
	struct PageInfo *pp;
	int i;

	for (i = 0; i < n; i++) {
		if (!(pp = page_alloc(0))) {
			free_pages(pg, i);
			return -E_NO_MEM;
		}
		pp->pp_ref++;
		pg[i] = page2kva(pp);
	}
	return 0;
}

/* Ring byte `pos` of a ring of pages. */
static char *ring_at(char **pg, uint64_t pos, uint64_t size)
{
	pos %= size;
	return &pg[pos / PGSIZE][pos % PGSIZE];
}

/* ---- Notices on a line of their own ---------------------------------- */

static struct {
	char text[LINE_KEEP];  /* the console's unfinished line */
	size_t len;
	bool lost;             /* it outgrew text: not reprinted */
	char saved[LINE_KEEP]; /* the line a notice interrupted */
	size_t saved_len;      /* 0: none to reprint */
	int depth;             /* notices being printed */
} line;

/* Every byte the host console prints (kern/console.c) comes here. */
void vmcons_track(int c)
{
	if (c == '\n') {
		line.len = 0;
		line.lost = false;
	} else if (c == '\b') {
		if (line.len > 0)
			line.len--;
	} else if (c != '\r') {
		if (line.len < LINE_KEEP)
			line.text[line.len++] = c;
		else
			line.lost = true;
	}
}

void vmcons_notice_begin(void)
{
	if (line.depth++ > 0 || line.len == 0)
		return;
	if (!line.lost) {
		memcpy(line.saved, line.text, line.len);
		line.saved_len = line.len;
	}
	cputchar('\n');
}

void vmcons_notice_end(void)
{
	line.depth--;
}

void vmcons_notice(const char *fmt, ...)
{
	va_list ap;

	vmcons_notice_begin();
	va_start(ap, fmt);
	vcprintf(fmt, ap);
	va_end(ap);
	vmcons_notice_end();
}

/* A reader wants input: the interrupted line comes back, if no other
 * output has started a line since the notices. */
void vmcons_restore_line(void)
{
	size_t i, n = line.saved_len;

	if (n == 0 || line.depth > 0)
		return;
	line.saved_len = 0;
	if (line.len != 0)
		return;
	for (i = 0; i < n; i++)
		cputchar(line.saved[i]);
}

/* PUTS with VMCALL_PUTS_NOTICE: a background guest's error is seen. */
void vmcons_guest_notice(struct Vm *vm, const uint8_t *s, size_t len)
{
	struct GuestCon *gc = &vm->con;
	size_t i;

	if (fg == vm || gc->notices >= GUEST_NOTICES_MAX)
		return;
	gc->notices++;
	while (len > 0 && s[len - 1] == '\n')
		len--;
	vmcons_notice_begin();
	cprintf("vmm: guest %08x (%s): ", vm->id, vm->name);
	for (i = 0; i < len && i < LINE_KEEP; i++)
		cputchar(s[i] == '\n' ? ' ' : s[i]);
	cputchar('\n');
	vmcons_notice_end();
}

/* Where the line that holds ring byte pos begins: pos itself when that
 * line is no longer whole in the ring or is too long to replay. */
static uint64_t line_start(struct GuestCon *gc, uint64_t pos)
{
	uint64_t oldest = gc->out_w > VMCONS_OUT_SIZE ?
			  gc->out_w - VMCONS_OUT_SIZE : 0;
	uint64_t from = pos;

	while (from > 0 &&
	       *ring_at(gc->out_pg, from - 1, VMCONS_OUT_SIZE) != '\n') {
		if (from == oldest || pos - from == REPLAY_LINE_MAX)
			return pos;
		from--;
	}
	return from;
}

int vmcons_init(struct Vm *vm)
{
	struct GuestCon *c = &vm->con;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = alloc_pages(c->out_pg, VMCONS_OUT_PAGES)) < 0)
		return r;
	if ((r = alloc_pages(c->in_pg, VMCONS_IN_PAGES)) < 0) {
		free_pages(c->out_pg, VMCONS_OUT_PAGES);
		return r;
	}
	return 0;
}

void vmcons_free(struct Vm *vm)
{
	struct GuestCon *c = &vm->con;

	if (fg == vm) {
		fg = NULL;
		esc_pending = false;
	}
	free_pages(c->out_pg, VMCONS_OUT_PAGES);
	free_pages(c->in_pg, VMCONS_IN_PAGES);
}

bool vmcons_is_foreground(struct Vm *vm)
{
	return fg == vm;
}

/* VMCALL_PUTC: into the ring; on the screen too in the foreground. */
void vmcons_putc(struct Vm *vm, int c)
{
	struct GuestCon *gc = &vm->con;

	if (!gc->out_pg[0])
		return;
	*ring_at(gc->out_pg, gc->out_w++, VMCONS_OUT_SIZE) = c;
	if (fg == vm) {
		gc->out_shown = gc->out_w;
		cputchar(c);
	}
}

static void queue_input(struct Vm *vm, int c)
{
	struct GuestCon *gc = &vm->con;

	if (gc->in_w - gc->in_r == VMCONS_IN_SIZE) {
		if (!gc->in_overflowed)
			cprintf("\nvmm: guest %s: input queue full: input "
				"was dropped\n", vm->name);
		gc->in_overflowed = true;
		return;
	}
	*ring_at(gc->in_pg, gc->in_w++, VMCONS_IN_SIZE) = c;
}

/* VMCALL_GETC: the next byte of vm's own queue, 0 if none. */
int vmcons_getc(struct Vm *vm)
{
	struct GuestCon *gc = &vm->con;

	/* Poll, as cons_getc does, in case no interrupt came. */
	serial_intr();
	kbd_intr();
	if (fg == vm)
		vmcons_restore_line();
	if (gc->in_r == gc->in_w) {
		gc->in_overflowed = false;
		return 0;
	}
	return (uint8_t)*ring_at(gc->in_pg, gc->in_r++, VMCONS_IN_SIZE);
}

/* Does input wait for vm? (devexit: a halted PC guest wakes for it) */
bool vmcons_has_input(struct Vm *vm)
{
	struct GuestCon *gc = &vm->con;

	return gc->in_r != gc->in_w;
}

/* Ctrl-] q: end vm now, or at its next exit when one of its vCPUs is
 * running here. */
static void kill_foreground(struct Vm *vm)
{
	/* It keeps the foreground until it is gone (vmcons_free), so that
	 * vmm, watching, never takes it for detached. */
	if (vm_runs_here(vm)) {
		vm->kill_requested = true;
		return;
	}
	vmm_guest_stop(vm_boot_env(vm), "ended from the host console "
		       "(Ctrl-] q)");
	vm_destroy(vm);
}

/*
 * A byte of console input (kern/console.c routes every one here first):
 * false when no guest is in the foreground, so the host keeps it.
 */
bool vmcons_input(int c)
{
	struct Vm *vm = fg;

	/* A guest on its way out (Ctrl-] q, or destroyed while it runs on
	 * another CPU) keeps the foreground until it is freed, but what is
	 * typed after that is already the host's. */
	if (!vm || !vm_find(vm->id) || vm->kill_requested)
		return false;
	if (!esc_pending && c == VMM_ESCAPE_CHAR) {
		esc_pending = true;
		return true;
	}
	if (esc_pending) {
		esc_pending = false;
		if (c == VMM_ESCAPE_DETACH) {
			vmcons_detach(vm);
			return true;
		}
		if (c == VMM_ESCAPE_QUIT) {
			kill_foreground(vm);
			return true;
		}
		queue_input(vm, VMM_ESCAPE_CHAR);
	}
	queue_input(vm, c);
	return true;
}

/*
 * Bring e to the foreground: print its keys, replay the output it made in
 * the background, and give it what was typed ahead for the host.
 */
int vmcons_attach(struct Vm *vm)
{
	struct GuestCon *gc = &vm->con;
	uint64_t from;
	int c;

	if (fg && fg != vm)
		return -E_BUSY;
	fg = vm;
	esc_pending = false;
	cprintf("vmm: guest %08x (%s) in the foreground: Ctrl-] d detaches "
		"it, Ctrl-] q ends it\n", vm->id, vm->name);
	from = gc->out_shown;
	if (gc->out_w - from > VMCONS_OUT_SIZE) {
		from = gc->out_w - VMCONS_OUT_SIZE;
		cprintf("[vmm: %lu earlier bytes of output were not kept]\n",
			from - gc->out_shown);
	} else {
		from = line_start(gc, from);
	}
	for (; from < gc->out_w; from++)
		cputchar(*ring_at(gc->out_pg, from, VMCONS_OUT_SIZE));
	gc->out_shown = gc->out_w;
	/* Stop if the typed-ahead bytes detach it again (Ctrl-] d). */
	while (fg == vm && (c = cons_take_pending()) >= 0)
		vmcons_input(c);
	return 0;
}

int vmcons_detach(struct Vm *vm)
{
	if (fg != vm)
		return -E_INVAL;
	fg = NULL;
	esc_pending = false;
	return 0;
}

/*
 * The run loop asks before each entry: a guest to be ended goes now; a
 * paused one waits, not runnable, until vmm resume.
 */
void vmm_guest_hold(struct Env *e)
{
	struct Vm *vm = e->env_vcpu->vm;

	if (vm->kill_requested) {
		vmm_guest_stop(e, "ended from the host console (Ctrl-] q)");
		vm_destroy(vm);
	}
	if (vm->paused) {
		e->env_status = ENV_NOT_RUNNABLE;
		sched_yield();
	}
}
