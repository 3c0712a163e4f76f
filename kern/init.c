/*
 * The kernel's C entry point and panic handling.
 */
#include <inc/stdio.h>
#include <inc/string.h>
#include <inc/assert.h>
#include <inc/cpuid.h>

#include <vmm/vmm.h>
#include <kern/console.h>
#include <kern/monitor.h>
#include <kern/pmap.h>
#include <kern/trap.h>
#include <kern/cpu.h>
#include <kern/env.h>
#include <kern/sched.h>
#include <kern/spinlock.h>
#include <kern/lapic.h>
#include <kern/picirq.h>
#include <kern/com2.h>
#include <kern/mp.h>
#include <inc/multiboot.h>
#include <inc/x86.h>
#include <inc/vmx.h>
#include <vmm/gdbstub.h>
/* Test payloads, each only in the image that runs it (testpayload/). */
#ifdef VMM_GUEST
#include <testpayload/attack.h>
#endif
#ifdef TEST_EPT_MAP
#include <testpayload/ept_test.h>
#endif

/* From kern/kernel.ld: the bss, which nothing has cleared yet. */
extern char edata[], __bss_end[];

/*
 * Recursion for the boot-time backtrace test: each level's frame shows up
 * in the backtrace with its argument.
 */
void test_backtrace(int x)
{
	cprintf("entering test_backtrace %d\n", x);
	if (x > 0)
		test_backtrace(x - 1);
	else
		mon_backtrace(0, 0, 0);
	cprintf("leaving test_backtrace %d\n", x);
}

/*
 * What the kernel starts when the command line names nothing: the file
 * system server and icode, which spawns init, which spawns the shell.
 * In a guest too: its server's disk is a file of the host's file system
 * (fs/host.c), so the guest boots to its own shell.
 */
#define DEFAULT_INIT "fs icode"
/* A command line of just this word starts no env: the kernel monitor runs. */
#define MONITOR_ONLY "monitor"

/* The kernel command line (sector 1 of the boot disk, see boot/main.c). */
static char cmdline[BOOT_CMDLINE_MAX];

static void read_cmdline(uint32_t boot_magic, physaddr_t mbinfo_pa)
{
	struct multiboot_info *mbi = (struct multiboot_info *)(KERNBASE + mbinfo_pa);

	if (boot_magic == MULTIBOOT_BOOTLOADER_MAGIC &&
	    (mbi->flags & MB_FLAG_CMDLINE) && mbi->cmdline)
		strlcpy(cmdline, (const char *)(KERNBASE + mbi->cmdline),
			sizeof(cmdline));
}

/*
 * A command-line word that names no program. In a guest this is said
 * with VMCALL_PUTS_NOTICE: the person who typed the word (vmm -b ...)
 * sees it on the host's console even while the guest runs in the
 * background, where its ordinary output only goes to its ring.
 */
#ifdef VMM_GUEST
#define NOTICE_MAX 128
static char notice[NOTICE_MAX] __attribute__((aligned(NOTICE_MAX)));
#endif
static void say_no_program(const char *word)
{
#ifdef VMM_GUEST
	int n = snprintf(notice, sizeof(notice), "kernel command line: no "
			 "program named '%s'\n", word);

	vmcall(VMCALL_PUTS, PADDR(notice), MIN(n, NOTICE_MAX - 1),
	       VMCALL_PUTS_NOTICE, 0, 0);
#else
	cprintf("kernel command line: no program named '%s'\n", word);
#endif
}

/*
 * Start the programs the command line names, in order, each as a new env.
 * The word "fs" starts the file-system server (an env of type FS, with
 * I/O privilege). An empty command line means DEFAULT_INIT; the line
 * MONITOR_ONLY starts nothing, so the scheduler drops into the monitor.
 */
static void create_first_envs(void)
{
	char line[BOOT_CMDLINE_MAX], *word, *p;
	const struct userprog *prog;

	strlcpy(line, cmdline[0] ? cmdline : DEFAULT_INIT, sizeof(line));
	if (strcmp(line, MONITOR_ONLY) == 0)
		return;
	for (p = line; *p;) {
		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		word = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = 0;
		if (!(prog = userprog_find(word))) {
			say_no_program(word);
			continue;
		}
		env_create(prog->start, prog->end - prog->start,
			   strcmp(word, "fs") == 0 ? ENV_TYPE_FS : ENV_TYPE_USER);
	}
}

#ifdef VMM_GUEST
/* Hypercalls use VMMCALL, not VMCALL (inc/vmx.h): set first thing. */
bool vmm_use_vmmcall;
/* The VMCALL_EXIT status of a guest whose kernel panicked. */
#define GUEST_PANIC_STATUS 1
#define KIB_SHIFT 10
#define MIB_SHIFT 20

/*
 * A guest's boot loader leaves no Multiboot block (boot/guestmain.c): ask
 * the VMM, after checking that it speaks our hypercall ABI, for the block
 * it builds at GUEST_MBINFO_PA (memory map and command line), and go on
 * as if a Multiboot loader had passed it. The console is the PUTC
 * hypercall, which needs no set-up, so a panic here is seen.
 */
static void guest_boot_info(uint32_t *boot_magic, physaddr_t *mbinfo_pa)
{
	int64_t version = vmcall(VMCALL_VERSION, 0, 0, 0, 0, 0);
	int64_t pa;

	if (version != VMM_ABI_VERSION)
		panic("guest: the VMM speaks ABI version %ld, this kernel %d",
		      version, VMM_ABI_VERSION);
	pa = vmcall(VMCALL_MBMAP, 0, 0, 0, 0, 0);
	if (pa < 0)
		panic("guest: VMCALL_MBMAP: %e", (int)pa);
	*boot_magic = MULTIBOOT_BOOTLOADER_MAGIC;
	*mbinfo_pa = pa;
}

/* Print how much memory mem_init found in the VMM's map. */
static void guest_print_memory(void)
{
	uint64_t bytes = (uint64_t)npages * PGSIZE;

	if (bytes % (1UL << MIB_SHIFT) == 0)
		cprintf("guest: %lu MiB of memory from the VMM\n",
			bytes >> MIB_SHIFT);
	else
		cprintf("guest: %lu KiB of memory from the VMM\n",
			bytes >> KIB_SHIFT);
}

/* The VMM must hide VMX and SVM: this guest cannot run guests of its
 * own. Graders look for the line of the vendor we run on. */
static void guest_check_cpuid(void)
{
	uint32_t ecx, ext_ecx;

	cpuid(CPUID_LEAF_FEATURES, 0, NULL, NULL, &ecx, NULL);
	cpuid(CPUID_EXT_FEATURES, 0, NULL, NULL, &ext_ecx, NULL);
	if (ecx & CPUID1_ECX_VMX)
		panic("VMX visible to the guest");
	if (ext_ecx & CPUIDX_ECX_SVM)
		panic("SVM visible to the guest");
	cprintf("%s extension hidden from guest\n",
		vmm_use_vmmcall ? "SVM" : "VMX");
}
#endif /* VMM_GUEST */

/* Where mpentry.S finds the stack of the AP being started. */
void *mpentry_kstack;

/* Start every AP and wait for each to come up. */
static void boot_aps(void)
{
	extern unsigned char mpentry_start[], mpentry_end[];
	void *code = KADDR(MPENTRY_PADDR);
	struct CpuInfo *c;

	memmove(code, mpentry_start, mpentry_end - mpentry_start);
	for (c = cpus; c < cpus + ncpu; c++) {
		if (c == bootcpu)
			continue;
		mpentry_kstack = (void *)kstacktop(c - cpus);
		lapic_startap(c->cpu_apicid, MPENTRY_PADDR);
		while (c->cpu_status != CPU_STARTED)
			pause();
	}
}

/* An AP's C entry (from kern/mpentry.S), on its own stack and tables. */
void mp_main(void)
{
	lapic_init();
	trap_init_percpu();
	/* Print while the boot CPU still waits for us, not beside it. */
	cprintf("SMP: CPU %d starting\n", cpunum());
	xchg(&thiscpu->cpu_status, CPU_STARTED); /* tell boot_aps we're up */

	lock_kernel();
	sched_yield();
}

/*
 * Called by kern/entry.S in long mode on the boot tables, with the boot
 * loader's Multiboot magic and info block address (0 and 0 in a guest).
 * In a guest, mp_init, lapic_init and pic_init find one CPU and no
 * devices (see those files), and boot_aps starts nothing.
 */
void i386_init(uint32_t boot_magic, physaddr_t mbinfo_pa)
{
	/* Before anything else: zero the bss. */
	memset(edata, 0, __bss_end - edata);
#ifdef VMM_GUEST
	vmm_use_vmmcall = cpu_vendor_is_amd();
	guest_boot_info(&boot_magic, &mbinfo_pa);
#else
	vmm_init();
#endif
	read_cmdline(boot_magic, mbinfo_pa);

	cons_init();
	cprintf("JOS-in-JOS: x86-64 kernel booting\n");
#ifndef VMM_GUEST
	gdbstub_init();
#endif
	if (cmdline[0])
		cprintf("kernel command line: %s\n", cmdline);
#ifdef VMM_GUEST
	/* The hostile-guest harness (testpayload/): an attack that runs
	 * before the guest has an IDT runs now, instead of any env. */
	attack_stage(cmdline, ATTACK_BEFORE_IDT);
#endif

	trap_init();
	mem_init(boot_magic, mbinfo_pa);
#ifdef VMM_GUEST
	guest_print_memory();
	guest_check_cpuid();
	/* Any other attack runs here: IDT and memory, no timer yet. */
	attack_stage(cmdline, ATTACK_AFTER_CPUID);
#endif
	env_init();

	mp_init();
	lapic_init();
	pic_init();
	irq_unmask_8259A(IRQ_KBD);
	irq_unmask_8259A(IRQ_SERIAL);
	if (com2_present())
		irq_unmask_8259A(IRQ_COM2);

	test_backtrace(5);

	/* From here on another CPU may enter the kernel: take the lock. */
	lock_kernel();
	boot_aps();

#ifdef TEST_EPT_MAP
	test_ept_map();
#endif
	cprintf("Free pages before the first env: %lu\n", page_free_count());
	create_first_envs();
	sched_yield();
}

/* The first panic's message, so a nested panic does not recurse; other
 * CPUs stop when they see it. */
const char *panicstr;

/*
 * Report a fatal kernel error and drop into the monitor for good.
 */
void _panic(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (panicstr)
		goto dead;
	panicstr = fmt;

	/* No interrupts from here on; string ops count upwards. */
	asm volatile("cli; cld");

	va_start(ap, fmt);
	cprintf("kernel panic on CPU %d at %s:%d: ", cpunum(), file, line);
	vcprintf(fmt, ap);
	cprintf("\n");
	va_end(ap);

dead:
#ifdef VMM_GUEST
	/* Nobody can type at a guest's monitor (no console input): end the
	 * VM instead, so the VMM's user is not left waiting. */
	vmcall(VMCALL_EXIT, GUEST_PANIC_STATUS, 0, 0, 0, 0);
#endif
	/* The monitor is all that is left to run. */
	for (;;)
		monitor(NULL);
}

/* Like panic, but don't stop. */
void _warn(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cprintf("kernel warning at %s:%d: ", file, line);
	vcprintf(fmt, ap);
	cprintf("\n");
	va_end(ap);
}
