/*
 * sys_vmm_ctl (inc/vmmctl.h): name a guest and its disk, list guests,
 * move them between foreground, background and paused, end them.
 *
 * Invariants:
 * - Names and disk paths are unique among live guests (setup checks;
 *   VMMCTL_CHECK asks the same before any guest is made); a guest's
 *   disk path never changes after it has first run.
 * - vmm_guest_state alone decides the state word a guest shows, in
 *   `vms` (VMMCTL_INFO) and in the monitor (vmm/vmmon.c).
 * - Every user pointer is checked with user_mem_check and copied before
 *   use; strings are bounded and NUL-terminated here, whatever the
 *   caller sent.
 * - A paused guest is never runnable: pausing marks it (the run loop
 *   takes it off the CPU, vmm_guest_hold); resuming makes it runnable
 *   again unless it waits for IPC.
 */
#include <inc/error.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/vmmctl.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <vmm/vmm.h>
#include <vmm/vmcons.h>
#include <vmm/devexit.h>

/* Host timer ticks are 10 ms apart (kern/time.c's rate). */
#define MS_PER_TICK 10

static bool live_guest(struct Env *e)
{
	return e->env_type == ENV_TYPE_GUEST && e->env_guest &&
	       e->env_status != ENV_FREE && e->env_status != ENV_DYING;
}

static int guest_lookup(int64_t envid, struct Env **store)
{
	struct Env *e;

	if (envid <= 0 || envid2env(envid, &e, false) < 0 || !live_guest(e))
		return -E_BAD_ENV;
	*store = e;
	return 0;
}

/* The live guest other than self that has field value, or NULL. */
static struct Env *guest_with(bool disk, const char *value, struct Env *self)
{
	int i;

	for (i = 0; i < NENV; i++) {
		struct Env *e = &envs[i];
		struct GuestCon *gc;

		if (e == self || !live_guest(e))
			continue;
		gc = &e->env_guest->con;
		if (strcmp(disk ? gc->disk : gc->name, value) == 0)
			return e;
	}
	return NULL;
}

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* "vm1", "vm2", ...: the first not taken. */
static void make_name(char *buf, struct Env *self)
{
	static unsigned next = 1;

	do
		snprintf(buf, VMM_NAME_MAX, "vm%u", next++);
	while (guest_with(false, buf, self));
}

/*
 * Copy the caller's struct vmm_setup into *s and check it against every
 * live guest but self: VMMCTL_CHECK before a guest exists (so that vmm
 * refuses with one line and creates nothing), VMMCTL_SETUP again for
 * the new guest (another vmm may have taken the name or disk since).
 */
static int setup_check(void *arg, size_t len, struct vmm_setup *s,
		       struct Env *self)
{
	if (len != sizeof(*s) ||
	    user_mem_check(curenv, arg, sizeof(*s), PTE_U) < 0)
		return -E_INVAL;
	memcpy(s, arg, sizeof(*s));
	s->name[VMM_NAME_MAX - 1] = s->disk[VMM_DISK_MAX - 1] = '\0';
	/* No disk at all: a PC-kind guest's disks are its VMM's business. */
	if (s->disk[0] != '/' && s->disk[0] != '\0')
		return -E_INVAL;
	if (s->name[0] && !name_ok(s->name))
		return -E_INVAL;
	if (s->name[0] && guest_with(false, s->name, self))
		return -E_FILE_EXISTS;
	if (s->disk[0] && guest_with(true, s->disk, self))
		return -E_BUSY;
	return 0;
}

static int ctl_setup(struct Env *e, void *arg, size_t len)
{
	struct GuestCon *gc = &e->env_guest->con;
	struct vmm_setup s;
	int r;

	if (e->env_runs > 0)
		return -E_INVAL;
	if ((r = setup_check(arg, len, &s, e)) < 0)
		return r;
	if (s.name[0])
		strcpy(gc->name, s.name);
	else
		make_name(gc->name, e);
	strcpy(gc->disk, s.disk);
	return 0;
}

/* The one place a guest's state is decided (inc/vmmctl.h's order). */
int vmm_guest_state(struct Env *e)
{
	if (e->env_guest->con.paused)
		return VMM_STATE_PAUSED;
	if (vmcons_is_foreground(e))
		return VMM_STATE_FOREGROUND;
	if (e->env_guest->dbg.stopped)
		return VMM_STATE_STOPPED;
	return VMM_STATE_BACKGROUND;
}

static int ctl_info(struct Env *e, void *arg, size_t len)
{
	struct Guest *g = e->env_guest;
	struct vmm_info in;

	if (len != sizeof(in) ||
	    user_mem_check(curenv, arg, sizeof(in), PTE_U | PTE_W) < 0)
		return -E_INVAL;
	memset(&in, 0, sizeof(in));
	strcpy(in.name, g->con.name);
	strcpy(in.disk, g->con.disk);
	strncpy(in.vendor, vmm_ops->name, VMM_VENDOR_MAX - 1);
	in.mem_bytes = g->gphysz;
	in.nexits = g->nexits;
	in.cpu_ms = g->con.cpu_ticks * MS_PER_TICK;
	in.state = vmm_guest_state(e);
	in.kind = g->pc.kind;
	memcpy(arg, &in, sizeof(in));
	return 0;
}

static int ctl_find(void *arg, size_t len)
{
	char name[VMM_NAME_MAX];
	struct Env *e;

	if (len == 0 || len >= VMM_NAME_MAX ||
	    user_mem_check(curenv, arg, len, PTE_U) < 0)
		return -E_INVAL;
	memcpy(name, arg, len);
	name[len] = '\0';
	if (!(e = guest_with(false, name, NULL)))
		return -E_NOT_FOUND;
	return e->env_id;
}

static int ctl_pause(struct Env *e)
{
	vmcons_detach(e);
	e->env_guest->con.paused = true;
	/* Not running now: off the run queue at once. Running elsewhere:
	 * the run loop stops it at its next exit. */
	if (e->env_status == ENV_RUNNABLE)
		e->env_status = ENV_NOT_RUNNABLE;
	return 0;
}

static int ctl_resume(struct Env *e)
{
	e->env_guest->con.paused = false;
	if (e->env_status == ENV_NOT_RUNNABLE && !e->env_ipc_recving &&
	    devexit_may_resume(e))  /* devexit hook */
		e->env_status = ENV_RUNNABLE;
	return 0;
}

static int ctl_kill(struct Env *e)
{
	cprintf("vmm: guest %08x (%s) killed\n", e->env_id,
		e->env_guest->con.name);
	/* Never curenv: a guest makes no system calls. */
	env_destroy(e);
	return 0;
}

int vmm_ctl(int op, int64_t envid, void *arg, size_t len)
{
	struct Env *e;
	int r;
	struct vmm_setup s;

	if (op == VMMCTL_FIND)
		return ctl_find(arg, len);
	if (op == VMMCTL_CHECK)
		return setup_check(arg, len, &s, NULL);
	if ((r = guest_lookup(envid, &e)) < 0)
		return r;
	switch (op) {
	case VMMCTL_SETUP:
		return ctl_setup(e, arg, len);
	case VMMCTL_INFO:
		return ctl_info(e, arg, len);
	case VMMCTL_ATTACH:
		if ((r = vmcons_attach(e)) < 0)
			return r;
		return ctl_resume(e);
	case VMMCTL_DETACH:
		return vmcons_detach(e);
	case VMMCTL_PAUSE:
		return ctl_pause(e);
	case VMMCTL_RESUME:
		return ctl_resume(e);
	case VMMCTL_KILL:
		return ctl_kill(e);
	case VMMCTL_STATE:
		return vmm_guest_state(e);
	case VMMCTL_PC:  /* devexit hook */
		return devexit_setup(e, arg, len);
	default:
		return -E_INVAL;
	}
}
