/*
 * sys_vmm_ctl (inc/vmmctl.h): name a VM and its disk, list VMs, move
 * them between foreground, background and paused, end them; each found
 * by its VM id (vm_find), never by "the env that is the guest".
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
 * - A paused VM's vCPUs are never runnable: pausing marks the VM (the
 *   run loop takes a running vCPU off its CPU, vmm_guest_hold); resuming
 *   makes each runnable again unless it waits for IPC.
 */
#include <inc/error.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/vmmctl.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <vmm/vmm.h>
#include <vmm/vmcons.h>
#include <vmm/vm.h>
#include <vmm/vcpu.h>
#include <vmm/devexit.h>
#include <vmm/devstats.h>
#include <vmm/vcpuctl.h>

/* Host timer ticks are 10 ms apart (kern/time.c's rate). */
#define MS_PER_TICK 10

/* The live VM other than self whose disk (or name) is value, or NULL. */
static struct Vm *vm_with(bool disk, const char *value, struct Vm *self)
{
	struct Vm *vm;

	for (vm = vm_next(NULL); vm; vm = vm_next(vm))
		if (vm != self &&
		    strcmp(disk ? vm->disk : vm->name, value) == 0)
			return vm;
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
static void make_name(char *buf, struct Vm *self)
{
	static unsigned next = 1;

	do
		snprintf(buf, VMM_NAME_MAX, "vm%u", next++);
	while (vm_with(false, buf, self));
}

/*
 * Copy the caller's struct vmm_setup into *s and check it against every
 * live VM but self: VMMCTL_CHECK before a VM exists (so that vmm
 * refuses with one line and creates nothing), VMMCTL_SETUP again for
 * the new VM (another vmm may have taken the name or disk since).
 */
static int setup_check(void *arg, size_t len, struct vmm_setup *s,
		       struct Vm *self)
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
	if (s->name[0] && vm_with(false, s->name, self))
		return -E_FILE_EXISTS;
	if (s->disk[0] && vm_with(true, s->disk, self))
		return -E_BUSY;
	return 0;
}

static int ctl_setup(struct Vm *vm, void *arg, size_t len)
{
	struct Env *boot = vm_boot_env(vm);
	struct vmm_setup s;
	int r;

	if (!boot || boot->env_runs > 0)
		return -E_INVAL;
	if ((r = setup_check(arg, len, &s, vm)) < 0)
		return r;
	if (s.name[0])
		strcpy(vm->name, s.name);
	else
		make_name(vm->name, vm);
	strcpy(vm->disk, s.disk);
	return 0;
}

/* The one place a VM's state is decided (inc/vmmctl.h's order). */
int vmm_guest_state(struct Vm *vm)
{
	if (vm->paused)
		return VMM_STATE_PAUSED;
	if (vmcons_is_foreground(vm))
		return VMM_STATE_FOREGROUND;
	if (vm->dbg.stopped)
		return VMM_STATE_STOPPED;
	return VMM_STATE_BACKGROUND;
}

/* The one place a vCPU's state word is decided (inc/vmmctl.h's order). */
int vmm_vcpu_state(struct Vcpu *vc)
{
	struct Env *e = vc->env;

	if (!e || e->env_status == ENV_DYING || vc->vm->dying)
		return VMM_VCPU_DYING;
	if (vc->pc.sipi_wait)
		return VMM_VCPU_SIPI_WAIT;
	if (vc->pc.parked)
		return VMM_VCPU_PARKED;
	if (e->env_status == ENV_RUNNING)
		return VMM_VCPU_RUNNING;
	if (vc->pc.halted)
		return VMM_VCPU_HALTED;
	if (vc->pc.waiting)
		return VMM_VCPU_VMM_WAIT;
	if (e->env_status == ENV_RUNNABLE)
		return VMM_VCPU_RUNNABLE;
	return VMM_VCPU_BLOCKED;
}

static int ctl_info(struct Vm *vm, void *arg, size_t len)
{
	struct vmm_info in;
	int i;

	if (len != sizeof(in) ||
	    user_mem_check(curenv, arg, sizeof(in), PTE_U | PTE_W) < 0)
		return -E_INVAL;
	memset(&in, 0, sizeof(in));
	strcpy(in.name, vm->name);
	strcpy(in.disk, vm->disk);
	strncpy(in.vendor, vmm_ops->name, VMM_VENDOR_MAX - 1);
	in.mem_bytes = vm->gphysz;
	in.id = vm->id;
	for (i = 0; i < vm->nvcpus; i++) {
		struct Vcpu *vc = vm->vcpu[i];

		if (!vc)
			continue;
		in.nexits += vc->nexits;
		in.vcpu_env[i] = vc->env ? vc->env->env_id : 0;
		in.vcpu_state[i] = vmm_vcpu_state(vc);
		in.vcpu_exits[i] = vc->nexits;
	}
	in.cpu_ms = vm->cpu_ticks * MS_PER_TICK;
	in.state = vmm_guest_state(vm);
	in.kind = vm->pc.kind;
	in.nvcpus = vm->nvcpus;
	memcpy(arg, &in, sizeof(in));
	return 0;
}

static int ctl_find(void *arg, size_t len)
{
	char name[VMM_NAME_MAX];
	struct Vm *vm;

	if (len == 0 || len >= VMM_NAME_MAX ||
	    user_mem_check(curenv, arg, len, PTE_U) < 0)
		return -E_INVAL;
	memcpy(name, arg, len);
	name[len] = '\0';
	if (!(vm = vm_with(false, name, NULL)))
		return -E_NOT_FOUND;
	return vm->id;
}

static int ctl_pause(struct Vm *vm)
{
	int i;

	vmcons_detach(vm);
	vm->paused = true;
	/* Not running now: off the run queue at once. Running elsewhere:
	 * the run loop stops it at its next exit. */
	for (i = 0; i < vm->nvcpus; i++) {
		struct Env *e = vm->vcpu[i] ? vm->vcpu[i]->env : NULL;
		if (e && e->env_status == ENV_RUNNABLE)
			e->env_status = ENV_NOT_RUNNABLE;
	}
	return 0;
}

static int ctl_resume(struct Vm *vm)
{
	int i;

	vm->paused = false;
	for (i = 0; i < vm->nvcpus; i++) {
		struct Env *e = vm->vcpu[i] ? vm->vcpu[i]->env : NULL;
		if (e && e->env_status == ENV_NOT_RUNNABLE &&
		    !e->env_ipc_recving &&
		    devexit_may_resume(e))  /* devexit hook */
			e->env_status = ENV_RUNNABLE;
	}
	return 0;
}

static int ctl_kill(struct Vm *vm)
{
	cprintf("vmm: guest %08x (%s) killed\n", vm->id, vm->name);
	/* None of its vCPUs is curenv: a guest makes no system calls. */
	vm_destroy(vm);
	return 0;
}

int vmm_ctl(int op, int64_t vmid, void *arg, size_t len)
{
	struct Vm *vm;
	int r;
	struct vmm_setup s;

	if (op == VMMCTL_FIND)
		return ctl_find(arg, len);
	if (op == VMMCTL_CHECK)
		return setup_check(arg, len, &s, NULL);
	if (!(vm = vm_find(vmid)))
		return -E_BAD_ENV;
	switch (op) {
	case VMMCTL_SETUP:
		return ctl_setup(vm, arg, len);
	case VMMCTL_INFO:
		return ctl_info(vm, arg, len);
	case VMMCTL_ATTACH:
		if ((r = vmcons_attach(vm)) < 0)
			return r;
		return ctl_resume(vm);
	case VMMCTL_DETACH:
		return vmcons_detach(vm);
	case VMMCTL_PAUSE:
		return ctl_pause(vm);
	case VMMCTL_RESUME:
		return ctl_resume(vm);
	case VMMCTL_KILL:
		return ctl_kill(vm);
	case VMMCTL_STATE:
		return vmm_guest_state(vm);
	case VMMCTL_PC:  /* on vCPU 0 or another (vmm/vcpuctl.c) */
		return vcpuctl_pc(vm, vmid, arg, len);
	case VMMCTL_VCPU_ADD:
		return vcpuctl_add(vm);
	case VMMCTL_VCPU_START:
		return vcpuctl_start(vm, vmid, arg, len);
	case VMMCTL_VCPU_INIT:
		return vcpuctl_init(vm, vmid);
	case VMMCTL_VCPU_KICK:
		return vcpuctl_kick(vm, vmid);
	case VMMCTL_DEVSTATS:
		return devstats_setup(vm, arg, len);
	default:
		return -E_INVAL;
	}
}
