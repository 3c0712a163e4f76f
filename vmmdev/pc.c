/*
 * A PC-kind guest from start to end (vmm -k, vmm -i): the vmm program
 * forks; the child makes the guest, loads it (a multiboot kernel with
 * -k; else our BIOS, whose POST boots the IDE master's first sector),
 * writes the firmware tables, registers the devices and runs it
 * (vrun_loop) until it ends, then prints its exit status and the
 * accesses no device claimed (the monitor's `devices ID` shows the
 * rest while it runs: vmmdev/bus.c); the parent follows it on the console as vmm does for the
 * JOS guest (until it ends, or is detached or paused), waits for the
 * child, and prints the host's free pages before and after.
 *
 * Why two envs: the guest needs its VMM program all its life, in the
 * background too, while the shell that ran `vmm` waits for vmm to exit.
 * The child is that program (the guest's parent, to whom the kernel
 * hands its exits); the parent is what the shell waits for. With -c N
 * the child runs vCPU 0 and forks one process per other vCPU (smp.c),
 * which all end with the guest; the child waits for them before it
 * prints the guest's summary, once.
 *
 * Invariants:
 * - The child sends the parent one IPC value: the guest's env id, or an
 *   error (< 0) when it made none; the parent waits for nothing else.
 * - Free pages are counted before the fork and after the child is gone,
 *   so the child's own pages (run page, staging, copies) are back. The
 *   host file server keeps the page of each file closed since its last
 *   open until its next open (fs/openfile.c), so each count follows an
 *   open and close of the kernel file or the first image
 *   (free_pages_settled): the files
 *   the child read are not counted as ours. What fork gives the parent
 *   for good (its exception stack, the page table of the scratch page
 *   of its copy-on-write faults) is made before the first count
 *   (prime_fork).
 */
#include <inc/lib.h>
#include <inc/vmx.h>
#include <inc/vmmctl.h>
#include <vmmdev/dev.h>
#include <vmmdev/pc.h>
#include <vmmdev/devices.h>
#include <vmmdev/ide.h>
#include <vmmdev/bios.h>
#include <vmmdev/fwtables.h>

#define COM1_BASE 0x3F8
#define COM1_IRQ 4
#define DEBUG_EXIT_PORT 0xf4
#define PERM_RW (PTE_P | PTE_U | PTE_W)
/* vCPUs without -c. The IOAPIC's ID follows the CPUs' (fwtables.c). */
#define PC_NCPUS_DEFAULT 1
#define DECIMAL 10
/* Room for ", N vCPUs" after the guest's kind. */
#define CPUS_NOTE_MAX 16

static int complain(int r, const char *what)
{
	printf("vmm: %s: %e\n", what, r);
	return r;
}

/* The PC's devices; the IDE channel when there are images. */
static int devices_init(const struct pc_opts *o)
{
	int r;

	if ((r = uart_init(COM1_BASE, COM1_IRQ)) < 0 ||
	    (r = dbgexit_init(DEBUG_EXIT_PORT)) < 0 || (r = pic_init()) < 0 ||
	    (r = ioapic_init(o->ncpus)) < 0 ||
	    (r = lapic_init(o->ncpus)) < 0 || (r = pit_init()) < 0 ||
	    (r = rtc_init(o->gphysz)) < 0 || (r = kbc_init()) < 0 ||
	    (r = vga_init()) < 0 || (r = post_init()) < 0)
		return complain(r, "registering devices");
	if (o->nimages && (r = ide_init(o->images[0], o->images[1])) < 0) {
		printf("vmm: IDE disk %s%s%s: %e\n", o->images[0],
		       o->images[1] ? " or " : "",
		       o->images[1] ? o->images[1] : "", r);
		return r;
	}
	return 0;
}

/* Guest memory at start: the firmware tables, and the multiboot kernel
 * (-k) or the BIOS, whose POST reads the boot sector (-i). */
static int load(const struct pc_opts *o)
{
	fw_tables_build(o->ncpus, o->gphysz);
	if (o->kernel)
		return mboot_load(o);
	return bios_build(o->gphysz);
}

/* -c N: 1 to VM_MAX_VCPUS, in decimal, once. */
static bool cpus_option(struct pc_opts *o, const char *val)
{
	char *end;
	long n = strtol(val, &end, DECIMAL);

	if (o->ncpus || *end || end == val || n < 1 || n > VM_MAX_VCPUS) {
		printf("vmm: -c takes a number of vCPUs from 1 to %d, once\n",
		       VM_MAX_VCPUS);
		return false;
	}
	o->ncpus = n;
	return true;
}

bool pc_option(struct pc_opts *o, int c, const char *val)
{
	if (c == 'c')
		return cpus_option(o, val);
	if (c == 'k')
		o->kernel = val;
	else if (c == 'a')
		o->cmdline = val;
	else if (c == 'M' && o->nmods < PC_MODS_MAX)
		o->mods[o->nmods++] = val;
	else if (c == 'i' && o->nimages < PC_IMAGES_MAX)
		o->images[o->nimages++] = val;
	else
		return false;
	return true;
}

/* In the child: make, load and attach the guest. Its id, or < 0. */
static int make_guest(struct pc_opts *o)
{
	struct vmm_pc pc = { o->kernel ? VMM_KIND_MULTIBOOT : VMM_KIND_PC,
			     vrun_page(0) };
	struct vmm_info info;
	char cpus[CPUS_NOTE_MAX] = "";
	envid_t guest;
	int r;

	if ((guest = sys_env_mkguest(o->gphysz, GUEST_BOOT_PA)) < 0)
		return complain(guest, "sys_env_mkguest");
	if ((r = sys_vmm_ctl(VMMCTL_SETUP, guest, &o->setup,
			     sizeof(o->setup))) < 0 ||
	    (r = sys_vmm_ctl(VMMCTL_PC, guest, &pc, sizeof(pc))) < 0 ||
	    (r = vsmp_add(guest, o->ncpus, pc.kind)) < 0 ||
	    (r = vbus_stats_register(guest)) < 0) {
		complain(r, "setting the guest up");
		goto fail;
	}
	sys_vmm_ctl(VMMCTL_INFO, guest, &info, sizeof(info));
	/* One printf: a line in pieces may be cut by other output. */
	if (o->ncpus > 1)
		snprintf(cpus, sizeof(cpus), ", %u vCPUs", o->ncpus);
	printf("vmm: guest %08x is %s, %s%s\n", guest, info.name,
	       vmm_kind_name(info.kind), cpus);
	if ((r = load(o)) < 0 || (r = devices_init(o)) < 0 ||
	    (r = gmem_handover(guest)) < 0)
		goto fail;
	if (!o->background &&
	    (r = sys_vmm_ctl(VMMCTL_ATTACH, guest, NULL, 0)) < 0) {
		complain(r, "attach");
		goto fail;
	}
	return guest;
fail:
	sys_env_destroy(guest);
	return r;
}

/* The guest's summary, once, when all its vCPUs' processes are gone. */
static void __attribute__((noreturn)) summary(const struct pc_opts *o,
					      envid_t guest, int r)
{
	/* Whatever ended vCPU 0's loop, the others' end with the VM. */
	if (vmm_guest_alive(guest))
		sys_env_destroy(guest);
	vsmp_wait();
	vrun_report(o->ncpus);
	if (r >= 0)
		printf("vmm: guest %08x exited with status %d\n", guest, r);
	else
		printf("vmm: guest %08x ended without an exit status\n",
		       guest);
	vbus_report();
	exit();
}

static void __attribute__((noreturn)) run_child(struct pc_opts *o,
						envid_t parent)
{
	envid_t guest;
	int r, cpu;

	if ((r = vrun_init(o->ncpus)) < 0 || (r = vbus_stats_init()) < 0 ||
	    (r = gmem_init(o->gphysz)) < 0) {
		complain(r, "run page or device report page");
		ipc_send(parent, r, NULL, 0);
		exit();
	}
	guest = make_guest(o);
	ipc_send(parent, guest, NULL, 0);
	if (guest < 0)
		exit();
	vrun_start_clock();
	if ((cpu = vsmp_start()) < 0) {
		complain(cpu, "a process per vCPU");
		summary(o, guest, cpu);
	}
	vrun_select(cpu);
	r = vrun_loop(vsmp_vcpu(cpu));
	if (cpu > 0)
		exit();
	summary(o, guest, r);
}

bool vmm_guest_alive(envid_t guest)
{
	const volatile struct Env *e = &envs[ENVX(guest)];

	return e->env_id == guest && e->env_status != ENV_FREE &&
	       e->env_status != ENV_DYING;
}

/* pc.h: while the guest is in the foreground (it owns the console), 0
 * when it ended, else its state when it left the foreground. vmm's
 * paravirtual guests (user/vmm.c) are followed the same way. */
int vmm_follow(envid_t guest)
{
	int st = 0;

	while (vmm_guest_alive(guest)) {
		st = sys_vmm_ctl(VMMCTL_STATE, guest, NULL, 0);
		if (st < 0)
			break;
		if (st != VMM_STATE_FOREGROUND)
			return st;
		sys_yield();
	}
	return 0;
}

/* The host's free pages, right after an open of the kernel file or the
 * first image (the file server then holds at most one closed file's
 * page). */
static int64_t free_pages_settled(const struct pc_opts *o)
{
	int fd = open(o->kernel ? o->kernel : o->images[0], O_RDONLY);

	if (fd >= 0)
		close(fd);
	return sys_page_free_count();
}

/* The pages fork() would leave the parent for its life, now. */
static void prime_fork(void)
{
	if (sys_page_alloc(0, (void *)(UXSTACKTOP - PGSIZE), PERM_RW) < 0 ||
	    sys_page_alloc(0, PFTEMP, PERM_RW) < 0)
		return;  /* then fork fails too, and says so */
	sys_page_unmap(0, PFTEMP);
}

void pc_main(struct pc_opts *o)
{
	int64_t before, after;
	envid_t child, from = 0, guest = 0;
	int st = 0;

	if (!o->ncpus)
		o->ncpus = PC_NCPUS_DEFAULT;
	prime_fork();
	before = free_pages_settled(o);
	if ((child = fork()) < 0) {
		complain(child, "fork");
		exit();
	}
	if (child == 0)
		run_child(o, thisenv->env_parent_id);
	while (from != child)
		guest = ipc_recv(&from, NULL, NULL);
	if (guest < 0) {
		wait(child);
		exit();
	}
	if (o->background || (st = vmm_follow(guest)) != 0) {
		printf("vmm: guest %08x %s; `vmm attach %08x` brings it "
		       "back\n", guest,
		       !o->background && st == VMM_STATE_PAUSED
			       ? "is paused" : "runs in the background",
		       guest);
		exit();
	}
	wait(child);
	after = free_pages_settled(o);
	printf("vmm: guest %08x exited; free pages: %ld before, %ld after\n",
	       guest, (long)before, (long)after);
	exit();
}
