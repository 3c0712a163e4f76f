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
 * - A guest is never destroyed under its own exit handler: when it is the
 *   current env here, it is only marked (kill_requested) and the run loop
 *   ends it (vmm_guest_hold) before entering it again.
 */
#include <inc/error.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/vmx.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <kern/sched.h>
#include <kern/console.h>
#include <vmm/vmm.h>
#include <vmm/vmcons.h>

static struct Env *fg;
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

int vmcons_init(struct Guest *g)
{
	struct GuestCon *c = &g->con;
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

void vmcons_free(struct Env *e)
{
	struct GuestCon *c = &e->env_guest->con;

	if (fg == e) {
		fg = NULL;
		esc_pending = false;
	}
	free_pages(c->out_pg, VMCONS_OUT_PAGES);
	free_pages(c->in_pg, VMCONS_IN_PAGES);
}

bool vmcons_is_foreground(struct Env *e)
{
	return fg == e;
}

/* VMCALL_PUTC: into the ring; on the screen too in the foreground. */
void vmcons_putc(struct Env *e, int c)
{
	struct GuestCon *gc = &e->env_guest->con;

	if (!gc->out_pg[0])
		return;
	*ring_at(gc->out_pg, gc->out_w++, VMCONS_OUT_SIZE) = c;
	if (fg == e) {
		gc->out_shown = gc->out_w;
		cputchar(c);
	}
}

static void queue_input(struct Env *e, int c)
{
	struct GuestCon *gc = &e->env_guest->con;

	if (gc->in_w - gc->in_r == VMCONS_IN_SIZE) {
		if (!gc->in_overflowed)
			cprintf("\nvmm: guest %s: input queue full: input "
				"was dropped\n", gc->name);
		gc->in_overflowed = true;
		return;
	}
	*ring_at(gc->in_pg, gc->in_w++, VMCONS_IN_SIZE) = c;
}

/* VMCALL_GETC: the next byte of e's own queue, 0 if none. */
int vmcons_getc(struct Env *e)
{
	struct GuestCon *gc = &e->env_guest->con;

	/* Poll, as cons_getc does, in case no interrupt came. */
	serial_intr();
	kbd_intr();
	if (gc->in_r == gc->in_w) {
		gc->in_overflowed = false;
		return 0;
	}
	return (uint8_t)*ring_at(gc->in_pg, gc->in_r++, VMCONS_IN_SIZE);
}

/* Ctrl-] q: end e now, or at its next exit when it is running here. */
static void kill_foreground(struct Env *e)
{
	/* It keeps the foreground until it is gone (vmcons_free), so that
	 * vmm, watching, never takes it for detached. */
	if (e == curenv) {
		e->env_guest->con.kill_requested = true;
		return;
	}
	vmm_guest_stop(e, "ended from the host console (Ctrl-] q)");
	env_destroy(e);
}

/*
 * A byte of console input (kern/console.c routes every one here first):
 * false when no guest is in the foreground, so the host keeps it.
 */
bool vmcons_input(int c)
{
	struct Env *e = fg;

	/* A guest on its way out (Ctrl-] q, or destroyed while it runs on
	 * another CPU) keeps the foreground until it is freed, but what is
	 * typed after that is already the host's. */
	if (!e || e->env_status == ENV_DYING ||
	    e->env_guest->con.kill_requested)
		return false;
	if (!esc_pending && c == VMM_ESCAPE_CHAR) {
		esc_pending = true;
		return true;
	}
	if (esc_pending) {
		esc_pending = false;
		if (c == VMM_ESCAPE_DETACH) {
			vmcons_detach(e);
			return true;
		}
		if (c == VMM_ESCAPE_QUIT) {
			kill_foreground(e);
			return true;
		}
		queue_input(e, VMM_ESCAPE_CHAR);
	}
	queue_input(e, c);
	return true;
}

/*
 * Bring e to the foreground: print its keys, replay the output it made in
 * the background, and give it what was typed ahead for the host.
 */
int vmcons_attach(struct Env *e)
{
	struct GuestCon *gc = &e->env_guest->con;
	uint64_t from;
	int c;

	if (fg && fg != e)
		return -E_BUSY;
	fg = e;
	esc_pending = false;
	cprintf("vmm: guest %08x (%s) in the foreground: Ctrl-] d detaches "
		"it, Ctrl-] q ends it\n", e->env_id, gc->name);
	from = gc->out_shown;
	if (gc->out_w - from > VMCONS_OUT_SIZE) {
		from = gc->out_w - VMCONS_OUT_SIZE;
		cprintf("[vmm: %lu earlier bytes of output were not kept]\n",
			from - gc->out_shown);
	}
	for (; from < gc->out_w; from++)
		cputchar(*ring_at(gc->out_pg, from, VMCONS_OUT_SIZE));
	gc->out_shown = gc->out_w;
	/* Stop if the typed-ahead bytes detach it again (Ctrl-] d). */
	while (fg == e && (c = cons_take_pending()) >= 0)
		vmcons_input(c);
	return 0;
}

int vmcons_detach(struct Env *e)
{
	if (fg != e)
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
	struct GuestCon *gc = &e->env_guest->con;

	if (gc->kill_requested) {
		vmm_guest_stop(e, "ended from the host console (Ctrl-] q)");
		env_destroy(e);
	}
	if (gc->paused) {
		e->env_status = ENV_NOT_RUNNABLE;
		sched_yield();
	}
}
