/*
 * The vmm program's run loop for a PC-kind guest: block in
 * sys_vcpu_run, which returns at the guest's next device exit with it in
 * the run page (inc/vmrun.h); emulate it on the bus (vmmdev/bus.c);
 * answer at the next sys_vcpu_run. The guest's console bytes ride in
 * the same page both ways, so an exit costs two kernel crossings and no
 * more.
 *
 * With -c N the vmm program runs N such loops, one process per vCPU
 * (vmmdev/smp.c): each has its own run page and handles its own vCPU's
 * exits; the machine they emulate is one (VDEV_SHARED), and a process
 * holds the machine lock (vsmp_lock) from a hand-off until it resumes.
 *
 * Invariants:
 * - vCPU i's run page is at VRUN_VA + i pages (pc.h), mapped PTE_SHARE
 *   (shared with, never copied into, the other vCPUs' processes) before
 *   VMMCTL_PC names it, and never unmapped. `run` is this process's
 *   vCPU's (vrun_select), private to the process.
 * - Only vCPU 0's run page offers room for console input: the bytes
 *   come in at one place, in order.
 * - The machine lock is held while this file touches device state:
 *   handling an exit, polling, asking for an interrupt; never across
 *   sys_vcpu_run.
 * - cons_out_len bytes of the page's cons_out wait for the kernel, which
 *   prints them at the next sys_vcpu_run and sets it back to 0.
 * - An exit is answered from its own record: a string transfer's
 *   elements are data[0 .. count * size), never more than
 *   VMRUN_DATA_MAX bytes whatever count says.
 * - At most one interrupt is asked of the kernel at a time: at each
 *   resume the one the controllers offer now (vintr_next), which
 *   replaces an undelivered one (the guest may have masked it since);
 *   one delivered is reported at the next hand-off, and vintr_ack takes
 *   it before the next question.
 * - The LAPIC model keeps its read shadow in the run page (lapic.c,
 *   named before the first resume): the kernel answers the loads it
 *   covers while no device deadline has passed.
 * - HLT: before each resume the kernel learns the earliest device
 *   deadline (hlt_until_tsc); a HLT with no interrupt pending sleeps in
 *   the kernel until then or until console input comes, and is handed
 *   to us only then: we poll the devices and resume it (with the
 *   interrupt that may be due now).
 */
#include <inc/lib.h>
#include <inc/vmrun.h>
#include <inc/x86.h>
#include <vmmdev/dev.h>
#include <vmmdev/pc.h>
#include <vmmdev/devices.h>
#include <vmmdev/ide.h>

#define NS_PER_MS 1000000ULL
/* The kernel injects 8-255: 8 is IRQ 0 under a real-mode BIOS. */
#define FIRST_VECTOR 8
/* The IDE data port: its string transfers go to ide.c whole. */
#define IDE_DATA_PORT 0x1F0
#define ALL_ONES 0xFF
/* vrun_loop's answer for a guest that reset the machine. */
#define STATUS_RESET (-1)
#define LAST_VECTOR 255

#define PERM_SHARED (PTE_P | PTE_U | PTE_W | PTE_SHARE)
/* The vCPU whose console input comes in (its run page's cons_in). */
#define CONSOLE_CPU 0

/* This process's vCPU and its run page (vrun_select). */
static unsigned self;
static struct vmrun *run = (struct vmrun *)VRUN_VA;
static void (*cons_rx)(const uint8_t *buf, size_t n) VDEV_SHARED;
static size_t (*cons_room)(void) VDEV_SHARED;
static bool exit_requested VDEV_SHARED;
/* The earliest device deadline, vbus_poll's last answer. */
static uint64_t next_deadline;
static int exit_status VDEV_SHARED;
static uint64_t start_tsc VDEV_SHARED;
/* The host TSC's rate, from vCPU 0's run page at vrun_start_clock. */
static uint64_t tsc_per_ms VDEV_SHARED;

int vrun_init(unsigned ncpus)
{
	unsigned i;
	int r;

	for (i = 0; i < ncpus && i < VM_MAX_VCPUS; i++)
		if ((r = sys_page_alloc(0, vrun_page(i), PERM_SHARED)) < 0)
			return r;
	return 0;
}

struct vmrun *vrun_page(unsigned cpu)
{
	return (struct vmrun *)(VRUN_VA + cpu * PGSIZE);
}

void vrun_select(unsigned cpu)
{
	self = cpu;
	run = vrun_page(cpu);
	lapic_select(cpu);
}

int vrun_start_clock(void)
{
	tsc_per_ms = vrun_page(0)->tsc_per_ms;
	start_tsc = read_tsc();
	return 0;
}

/* From the host TSC (no system call: every exit may ask). 0 until
 * vrun_start_clock: the devices are made before it (pc.c), and a device
 * that takes the time then (rtc_init's base) must see the clock's start,
 * not the host TSC's count since boot, which the guest's clock would then
 * not pass for as long again. */
uint64_t vdev_now_ns(void)
{
	uint64_t d = read_tsc() - start_tsc, per_ms = tsc_per_ms;

	if (!per_ms || !start_tsc)
		return 0;
	return d / per_ms * NS_PER_MS + d % per_ms * NS_PER_MS / per_ms;
}

void vrun_exit_request(int status)
{
	if (exit_requested)
		return;
	exit_requested = true;
	exit_status = status;
}

size_t vrun_cons_room(void)
{
	return VMRUN_CONS_OUT_MAX - run->cons_out_len;
}

bool vrun_cons_put(uint8_t c)
{
	if (run->cons_out_len >= VMRUN_CONS_OUT_MAX)
		return false;
	run->cons_out[run->cons_out_len++] = c;
	return true;
}

void vrun_set_console(void (*rx)(const uint8_t *buf, size_t n),
		      size_t (*room)(void))
{
	cons_rx = rx;
	cons_room = room;
}

/* The guest reset the machine (devices.h): it ends, with this line. */
void vdev_guest_reset(const char *why)
{
	if (exit_requested)
		return;
	printf("vmm: the guest reset the machine (%s): it ends\n", why);
	vrun_exit_request(STATUS_RESET);
}

/* A REP INS/OUTS on the IDE data port: this exit's share in one call to
 * the disk (a sector per exit, not a word); what the transfer does not
 * cover reads as all ones, or is dropped. */
static void ide_string(struct vmrun_pio *p, size_t bytes)
{
	size_t moved;

	if (p->in) {
		moved = ide_data_in(run->data, bytes);
		memset(run->data + moved, ALL_ONES, bytes - moved);
	} else {
		ide_data_out(run->data, bytes);
	}
}

static void pio(struct vmrun_pio *p)
{
	unsigned size = p->size, i, n;
	uint64_t v;

	if (p->string && p->port == IDE_DATA_PORT) {
		ide_string(p, MIN(p->count, VMRUN_DATA_MAX / size) * size);
		return;
	}
	if (!p->string) {
		if (p->in)
			run->value = vbus_read(VDEV_PIO, p->port, size);
		else
			vbus_write(VDEV_PIO, p->port, size, p->value);
		return;
	}
	n = MIN(p->count, VMRUN_DATA_MAX / size);
	for (i = 0; i < n; i++) {
		v = 0;
		if (p->in) {
			v = vbus_read(VDEV_PIO, p->port, size);
			memcpy(run->data + i * size, &v, size);
		} else {
			memcpy(&v, run->data + i * size, size);
			vbus_write(VDEV_PIO, p->port, size, v);
		}
	}
}

static void mmio(struct vmrun_mmio *m)
{
	if (m->write)
		vbus_write(VDEV_MMIO, m->gpa, m->size, m->wval);
	else
		run->value = vbus_read(VDEV_MMIO, m->gpa, m->size);
}

/* The exit the kernel handed us, and what waits on the guest's clock. */
static void handle(void)
{
	uint32_t n = MIN(run->cons_in_len, (uint32_t)VMRUN_CONS_IN_MAX);

	if (run->intr_delivered != VMRUN_NO_INTR)
		vintr_ack(run->intr_delivered);

	if (n && cons_rx)
		cons_rx(run->cons_in, n);
	if (run->exit == VMRUN_EXIT_PIO && (run->pio.size == 1 ||
	    run->pio.size == 2 || run->pio.size == 4))
		pio(&run->pio);
	else if (run->exit == VMRUN_EXIT_MMIO)
		mmio(&run->mmio);
	next_deadline = vbus_poll(vdev_now_ns());
}

/* next_deadline as a host TSC value, for a HLT's sleep in the kernel. */
static uint64_t deadline_tsc(void)
{
	uint64_t ns = next_deadline, per_ms = tsc_per_ms;

	if (ns == VDEV_NEVER || !per_ms)
		return ~0ULL;
	return start_tsc + ns / NS_PER_MS * per_ms +
	       ns % NS_PER_MS * per_ms / NS_PER_MS;
}

/* Before each resume: the interrupt the models want delivered next. */
static void ask_intr(void)
{
	int v;

	run->intr_vector = VMRUN_NO_INTR;
	/* Vectors 0-7 are exceptions: the kernel injects none of them. */
	if ((v = vintr_next()) >= FIRST_VECTOR && v <= LAST_VECTOR)
		run->intr_vector = v;
}

/* Called with the machine lock held; returns without it. An exit status wins over
 * the error of a vCPU that found the VM gone: another vCPU's process
 * may have ended it with that status. */
static int loop(int32_t vcpu)
{
	int r;

	for (;;) {
		run->cons_in_room = cons_room && self == CONSOLE_CPU
				    ? cons_room() : 0;
		ask_intr();
		run->hlt_until_tsc = deadline_tsc();
		run->end = exit_requested;
		vsmp_unlock();
		vsmp_kick_flush();
		r = sys_vcpu_run(vcpu);
		if (exit_requested)
			return exit_status;
		if (r < 0)
			return r;
		if (run->version != VMRUN_ABI_VERSION) {
			printf("vmm: run page ABI %u, we speak %u\n",
			       run->version, VMRUN_ABI_VERSION);
			sys_env_destroy(vcpu);
			return -E_INVAL;
		}
		if (!vsmp_lock())
			return -E_BAD_ENV;
		handle();
	}
}

int vrun_loop(int32_t vcpu)
{
	if (!vsmp_lock())
		return -E_BAD_ENV;
	/* After VMMCTL_PC, which cleared the page. */
	lapic_publish(&run->lapic);
	return loop(vcpu);
}

void vrun_report(unsigned ncpus)
{
	uint64_t n = 0;
	unsigned i;

	/* As of each vCPU's last hand-off (the bus counts the rest:
	 * vbus_report). */
	for (i = 0; i < ncpus && i < VM_MAX_VCPUS; i++)
		n += vrun_page(i)->lapic_fast_reads;
	if (n)
		printf("vmm: device lapic: %lu reads answered by the kernel "
		       "(read shadow)\n", (unsigned long)n);
}
