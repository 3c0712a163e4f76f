/*
 * The hostile-guest harness: attacks on the VMM from guest CPL 0. A guest
 * kernel (VMM_GUEST) whose command line is "attack NAME" runs the one
 * named attack during its boot, at the attack's stage (attack.h): most
 * right after the CPUID check, before its LAPIC, PIC and timer; a few
 * right after the console, before it even has an IDT. It starts no env,
 * and ends the VM (`vmm attack NAME` in the host shell). `vmm attack
 * list` prints the names. The attacks on interrupt handling are in
 * attack_irq.c; the guest user program vmattack3 has the CPL 3 ones.
 * Built only into the guest kernel (testpayload/Makefrag); kern/init.c
 * and kern/trap.c call it, under VMM_GUEST.
 *
 * What an attack may end in, and what the host must show (the hostile-*
 * tests, grade/hostile.py, check it on every backend):
 *  - the VMM stops the guest with a report (exit name, qualification or
 *    EXITINFO1/2, guest RIP);
 *  - the instruction faults inside the guest: attack_trap() reports
 *    "attack NAME: guest exception N" and the guest exits with
 *    ATTACK_FAULT_STATUS;
 *  - it completes with an architectural result: the attack prints
 *    "attack NAME: survived: ..." and the guest exits with status 0;
 *  - it spins for ever (interrupts off): the host must stay responsive
 *    and Ctrl-] must end it.
 * In every case the host survives, keeps answering, and gets every page
 * back.
 *
 * Invariants: runs on the guest's only CPU with interrupts off (except
 * where an attack turns them on), before any env exists; attack_trap() is
 * consulted first for every kernel-mode trap while an attack runs (an
 * ATTACK_BEFORE_IDT attack has no IDT to trap through: any exception
 * there ends in a triple fault, which the VMM reports). Each attack runs
 * at one stage only, and at most one attack runs per boot.
 */
#include <inc/x86.h>
#include <inc/mmu.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/vmx.h>
#include <inc/error.h>

#include <testpayload/attack.h>
#include <testpayload/attack_int.h>
#include <kern/pmap.h>
#include <kern/trap.h>

#ifndef VMM_GUEST
#error "the hostile-guest harness is built only into the guest kernel"
#endif

/* The guest's exit status after an exception inside an attack. */
#define ATTACK_FAULT_STATUS 2
#define HYPERCALL_FLOOD 100000
#define HYPERCALL_SCAN 4096
/* Values the leak probes write, and look for in a fresh guest. */
#define LEAK_MAGIC 0x00005EC4E700BEEFUL /* canonical: bases and DRs need it */
#define LEAK_PAT 0x0606060606060606UL   /* all write-back */

/* MSRs and bits the attacks use (SDM Vol. 4; APM Vol. 2). */
#define MSR_APIC_BASE 0x1B
#define MSR_FEATURE_CONTROL 0x3A
#define MSR_X2APIC_TPR 0x808
#define MSR_PAT 0x277
#define MSR_LSTAR 0xC0000082
#define MSR_FS_BASE 0xC0000100
#define MSR_GS_BASE 0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_TSC_AUX 0xC0000103
#define MSR_VM_HSAVE 0xC0010117
#define MSR_UNKNOWN 0x12345678
#define CR4_VMXE_BIT (1UL << 13)
#define CR4_OSXSAVE_BIT (1UL << 18)
#define CR4_RESERVED_BIT (1UL << 63)
#define XCR0_X87_SSE_AVX 0x7
/* Guest-physical addresses outside guest RAM (the VMM gives 64 MiB by
 * default and at most GUEST_MEM_MAX). */
#define GPA_BEYOND_RAM (2UL << 30)
#define GPA_VGA 0xB8000
#define GPA_LAPIC 0xFEE00000UL
#define LAPIC_VERSION_REG 0x30
/* Ports the host uses: POST, keyboard, COM1, PCI config data, Bochs'
 * shutdown port, QEMU's isa-debug-exit. */
#define PORT_POST 0x80
#define PORT_KBD 0x60
#define PORT_COM1 0x3F8
#define PORT_PCI_DATA 0xCFC
#define PORT_BOCHS_SHUTDOWN 0x8900
#define PORT_QEMU_EXIT 0xF4

const struct attack *attack_current;
volatile uint64_t attack_events;

void attack_survived(const char *fmt, uint64_t value)
{
	cprintf("attack %s: survived: ", attack_current->name);
	cprintf(fmt, value);
	cprintf("\n");
}

/* ---- Privileged instructions the VMM does not offer ---------------------- */

static uint64_t scratch[2] __attribute__((aligned(16)));

static void a_vmxon(void) { asm volatile("vmxon %0" : : "m"(scratch[0])); }
static void a_vmclear(void) { asm volatile("vmclear %0" : : "m"(scratch[0])); }
static void a_vmptrld(void) { asm volatile("vmptrld %0" : : "m"(scratch[0])); }
static void a_vmptrst(void) { asm volatile("vmptrst %0" : "=m"(scratch[0])); }
static void a_vmlaunch(void) { asm volatile("vmlaunch"); }
static void a_vmresume(void) { asm volatile("vmresume"); }
static void a_vmxoff(void) { asm volatile("vmxoff"); }
static void a_vmfunc(void) { asm volatile("xor %%eax, %%eax; vmfunc" ::: "rax"); }

static void a_vmread(void)
{
	uint64_t v = 0;

	asm volatile("vmread %1, %0" : "=r"(v) : "r"(0x6C14UL));
	attack_survived("vmread gave 0x%lx", v);
}

static void a_vmwrite(void)
{
	asm volatile("vmwrite %0, %1" : : "r"(0UL), "r"(0x6C16UL));
}

static void a_invept(void)
{
	asm volatile("invept %0, %1" : : "m"(scratch), "r"(2UL));
}

static void a_invvpid(void)
{
	asm volatile("invvpid %0, %1" : : "m"(scratch), "r"(2UL));
}

static void a_vmrun(void) { asm volatile("xor %%eax, %%eax; vmrun" ::: "rax"); }
static void a_vmload(void) { asm volatile("xor %%eax, %%eax; vmload" ::: "rax"); }
static void a_vmsave(void) { asm volatile("xor %%eax, %%eax; vmsave" ::: "rax"); }
static void a_stgi(void) { asm volatile("stgi"); }
static void a_clgi(void) { asm volatile("clgi"); }
static void a_skinit(void) { asm volatile("xor %%eax, %%eax; skinit" ::: "rax"); }

static void a_invlpga(void)
{
	asm volatile("invlpga %%rax, %%ecx" : : "a"(0UL), "c"(0));
}

static void a_getsec(void) { asm volatile("xor %%eax, %%eax; getsec" ::: "rax", "rbx", "rcx"); }
static void a_invd(void)
{
	asm volatile("invd");
	attack_survived("invd returned (%lu)", 0);
}

static void a_wbinvd(void)
{
	asm volatile("wbinvd");
	attack_survived("wbinvd returned (%lu)", 0);
}

static void xsetbv(uint64_t xcr0)
{
	lcr4(rcr4() | CR4_OSXSAVE_BIT);
	asm volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0),
		     "d"((uint32_t)(xcr0 >> 32)));
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void a_xsetbv_bad(void) { xsetbv(0); }
static void a_xsetbv_avx(void)
{
	xsetbv(XCR0_X87_SSE_AVX);
	attack_survived("XCR0 is now 0x%lx", XCR0_X87_SSE_AVX);
}

static void a_rdmsr_unknown(void)
{
	attack_survived("read 0x%lx", rdmsr(MSR_UNKNOWN));
}
static void a_wrmsr_lstar(void) { wrmsr(MSR_LSTAR, LEAK_MAGIC); }
static void a_rdmsr_x2apic(void)
{
	attack_survived("read 0x%lx", rdmsr(MSR_X2APIC_TPR));
}
static void a_wrmsr_featctl(void) { wrmsr(MSR_FEATURE_CONTROL, 0); }
static void a_wrmsr_hsave(void) { wrmsr(MSR_VM_HSAVE, 0); }
static void a_wrmsr_apicbase(void) { wrmsr(MSR_APIC_BASE, 0); }
static void a_wrmsr_tsc_aux(void) { wrmsr(MSR_TSC_AUX, LEAK_MAGIC & 0xFFFFFFFF); }

static void a_wrmsr_efer_svme(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	attack_survived("EFER 0x%lx", rdmsr(MSR_EFER));
}

/* ---- Port I/O on every class of port ------------------------------------ */

static void a_out_post(void) { outb(PORT_POST, 0x55); }
static void a_in_kbd(void) { attack_survived("read 0x%lx", inb(PORT_KBD)); }
static void a_out_com1(void) { outb(PORT_COM1, '!'); }
static void a_in_pci(void)
{
	attack_survived("read 0x%lx", inl(PORT_PCI_DATA));
}
static void a_out_shutdown(void)
{
	static const char word[] = "Shutdown";
	const char *p;

	for (p = word; *p; p++)
		outb(PORT_BOCHS_SHUTDOWN, *p);
}
static void a_out_qemu_exit(void) { outl(PORT_QEMU_EXIT, 0); }

static void a_outsb(void)
{
	static const char msg[] = "string I/O";

	asm volatile("cld; rep outsb"
		     : : "S"(msg), "c"(sizeof(msg)), "d"(PORT_COM1)
		     : "memory");
}

/* ---- Control registers --------------------------------------------------- */

static void a_cr0_pg_no_pe(void) { lcr0((rcr0() | CR0_PG) & ~CR0_PE); }
static void a_cr4_reserved(void) { lcr4(rcr4() | CR4_RESERVED_BIT); }
static void a_cr4_vmxe(void)
{
	lcr4(rcr4() | CR4_VMXE_BIT);
	attack_survived("CR4 0x%lx", rcr4());
}
static void a_cr3_beyond_ram(void)
{
	lcr3(GPA_BEYOND_RAM);
	attack_survived("CR3 0x%lx", rcr3());
}

/* CR8 is the task priority: it must reach a virtual TPR, not the host's
 * local APIC. The guest spins a while with it raised, then lowers it. */
static void a_cr8(void)
{
	uint64_t v;
	int i;

	asm volatile("movq %0, %%cr8" : : "r"(15UL));
	asm volatile("movq %%cr8, %0" : "=r"(v));
	for (i = 0; i < STORM_COUNT * 100; i++)
		pause();
	asm volatile("movq %0, %%cr8" : : "r"(0UL));
	attack_survived("CR8 read back 0x%lx", v);
}

/* ---- Memory -------------------------------------------------------------- */

static void a_read_beyond_ram(void)
{
	volatile uint64_t *p = mmio_map_region(GPA_BEYOND_RAM, PGSIZE);

	attack_survived("read 0x%lx", *p);
}

static void a_write_vga_hole(void)
{
	volatile uint16_t *p = mmio_map_region(GPA_VGA, PGSIZE);

	*p = 0x4F21;
	attack_survived("wrote the hole, read back 0x%lx", *p);
}

static void a_lapic_mmio(void)
{
	volatile uint32_t *p = mmio_map_region(GPA_LAPIC, PGSIZE);

	attack_survived("LAPIC version 0x%lx", p[LAPIC_VERSION_REG / 4]);
}

static void a_exec_nonram(void)
{
	void (*f)(void) = mmio_map_region(GPA_BEYOND_RAM, PGSIZE);

	f();
}

/* Point the guest's top-level table at RAM the guest never set up as a
 * table: whatever it finds, the VMM must only see guest-physical
 * accesses. */
static void a_pml4_garbage(void)
{
	struct PageInfo *pp = page_alloc(0);

	if (!pp)
		panic("a_pml4_garbage: no page");
	memset(page2kva(pp), 0xA5, PGSIZE);
	lcr3(page2pa(pp));
	attack_survived("CR3 0x%lx", rcr3());
}

/* ---- Exceptions ---------------------------------------------------------- */

static struct Pseudodesc no_idt = { 0, 0 };
static struct Pseudodesc no_gdt = { 0, 0 };

static void a_triple_fault(void)
{
	asm volatile("lidt %0; int3" : : "m"(no_idt));
}

static void a_bad_gdt(void)
{
	asm volatile("lgdt %0; movw %1, %%ds" : : "m"(no_gdt), "r"((uint16_t)GD_KD));
}

static void a_int3_storm(void)
{
	int i;

	for (i = 0; i < STORM_COUNT; i++)
		asm volatile("int3");
	attack_survived("%lu breakpoints", attack_events);
}

static void a_tf_storm(void)
{
	int i;

	/* attack_trap clears TF after STORM_COUNT single steps. */
	write_eflags(read_eflags() | FL_TF);
	for (i = 0; i < 2 * STORM_COUNT; i++)
		asm volatile("nop");
	attack_survived("%lu single steps", attack_events);
}

static void a_soft_nmi(void)
{
	asm volatile("int $2");
	attack_survived("%lu vector-2 interrupts", attack_events);
}

static void a_ud2(void) { asm volatile("ud2"); }

static void a_divzero(void)
{
	asm volatile("xor %%ecx, %%ecx; div %%ecx" ::: "rax", "rcx", "rdx");
}

/* ---- Hypercalls ----------------------------------------------------------- */

/* Every number but EXIT (ends the VM), IPC_RECV (waits for ever) and
 * MBMAP (rewrites the map at GUEST_MBINFO_PA, RAM the guest kernel has
 * reused since boot: it would only hurt the guest itself). */
static void a_hypercall_scan(void)
{
	uint64_t n, bad = 0;
	int64_t r;

	for (n = 0; n < HYPERCALL_SCAN; n++) {
		if (n == VMCALL_EXIT || n == VMCALL_IPC_RECV ||
		    n == VMCALL_MBMAP)
			continue;
		r = vmcall(n, ~0UL, LEAK_MAGIC, GPA_BEYOND_RAM, ~0UL, n);
		if (n >= NVMCALLS && r != -E_NO_SYS)
			bad++;
	}
	attack_survived("%lu unknown numbers did not get -E_NO_SYS", bad);
}

static void a_hypercall_flood(void)
{
	uint64_t i, bad = 0;

	for (i = 0; i < HYPERCALL_FLOOD; i++)
		if (vmcall(VMCALL_VERSION, 0, 0, 0, 0, 0) != VMM_ABI_VERSION)
			bad++;
	attack_survived("%lu wrong answers", bad);
}

static void a_ipc_from_hole(void)
{
	int64_t r = vmcall(VMCALL_IPC_SEND, VMM_HOST_FS, 0, GPA_VGA & ~0xFFFUL,
			   PTE_P | PTE_U | PTE_W, 0);

	attack_survived("IPC_SEND of a hole page: %ld", (uint64_t)r);
}

/* A request to the host FS server, and never a receive: the server must
 * not wait for us for ever. */
static void a_ipc_no_recv(void)
{
	int64_t r;
	int i;

	for (i = 0; i < 100; i++)
		if ((r = vmcall(VMCALL_IPC_SEND, VMM_HOST_FS, 0, 0x7000,
				PTE_P | PTE_U | PTE_W, 0)) != -E_IPC_NOT_RECV)
			break;
	attack_survived("IPC_SEND without IPC_RECV: %ld", (uint64_t)r);
}

/* ---- State-leak probes ---------------------------------------------------- */

static void set_debug_regs(uint64_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		write_dr(i, v);
}

/* xmm0 and x87 st(0) get the magic value (SSE needs CR4.OSFXSR). */
static void set_fpu(uint64_t v)
{
	static uint64_t val[2] __attribute__((aligned(16)));

	val[0] = val[1] = v;
	lcr4(rcr4() | CR4_OSFXSR);
	asm volatile("movdqa %0, %%xmm0; movdqa %0, %%xmm15; fildll %1"
		     : : "m"(val), "m"(val[0]) : "memory");
}

static void read_fpu(uint64_t *xmm0, uint64_t *xmm15, uint64_t *st0)
{
	static uint64_t a[2] __attribute__((aligned(16)));
	static uint64_t b[2] __attribute__((aligned(16)));
	static uint8_t fx[512] __attribute__((aligned(16)));

	lcr4(rcr4() | CR4_OSFXSR);
	asm volatile("movdqa %%xmm0, %0; movdqa %%xmm15, %1; fxsave %2"
		     : "=m"(a), "=m"(b), "=m"(fx) : : "memory");
	*xmm0 = a[0];
	*xmm15 = b[0];
	/* FXSAVE: ST0/MM0 at byte 32 (SDM Vol. 1 10.5.1). */
	memcpy(st0, fx + 32, sizeof(*st0));
}

/* The 64-bit significand of integer v as an x87 extended real. */
static uint64_t fpu_significand(uint64_t v)
{
	while (v && !(v >> 63))
		v <<= 1;
	return v;
}

static void a_leak_write(void)
{
	set_debug_regs(LEAK_MAGIC);
	wrmsr(MSR_GS_BASE, LEAK_MAGIC);
	asm volatile("swapgs");         /* KERNEL_GS_BASE := LEAK_MAGIC */
	wrmsr(MSR_GS_BASE, LEAK_MAGIC);
	wrmsr(MSR_FS_BASE, LEAK_MAGIC);
	wrmsr(MSR_PAT, LEAK_PAT);
	set_fpu(LEAK_MAGIC);
	attack_survived("planted 0x%lx", LEAK_MAGIC);
}

/* One probe: "LEAKED" when it holds what leak-write planted. */
static void leak_report(const char *what, uint64_t v, uint64_t planted)
{
	cprintf("attack %s: %s = 0x%lx%s\n", attack_current->name, what, v,
		v == planted ? " LEAKED" : "");
}

static void a_leak_read(void)
{
	uint64_t kgs, xmm0, xmm15, st0;
	int i;

	for (i = 0; i < 4; i++) {
		char name[4] = { 'D', 'R', (char)('0' + i), 0 };
		leak_report(name, read_dr(i), LEAK_MAGIC);
	}
	leak_report("FS_BASE", rdmsr(MSR_FS_BASE), LEAK_MAGIC);
	leak_report("GS_BASE", rdmsr(MSR_GS_BASE), LEAK_MAGIC);
	asm volatile("swapgs");
	kgs = rdmsr(MSR_GS_BASE);
	asm volatile("swapgs");
	leak_report("KERNEL_GS_BASE", kgs, LEAK_MAGIC);
	leak_report("PAT", rdmsr(MSR_PAT), LEAK_PAT);
	read_fpu(&xmm0, &xmm15, &st0);
	/* XCR0 as xsetbv-avx left it, if the CPU let that guest set it. */
	lcr4(rcr4() | CR4_OSXSAVE_BIT);
	leak_report("XCR0", xgetbv0(), XCR0_X87_SSE_AVX);
	leak_report("XMM0", xmm0, LEAK_MAGIC);
	leak_report("XMM15", xmm15, LEAK_MAGIC);
	/* fildll stored LEAK_MAGIC as an 80-bit real: compare its
	 * significand, the low 64 bits (bit 63 explicit, so the value
	 * shifted left until its top bit is set). */
	leak_report("ST0", st0, fpu_significand(LEAK_MAGIC));
	attack_survived("read %lu probes", 11);
}

/* ---- The table ------------------------------------------------------------ */

static const struct attack attacks[] = {
	{ "vmxon", "instr", a_vmxon },
	{ "vmclear", "instr", a_vmclear },
	{ "vmptrld", "instr", a_vmptrld },
	{ "vmptrst", "instr", a_vmptrst },
	{ "vmread", "instr", a_vmread },
	{ "vmwrite", "instr", a_vmwrite },
	{ "vmlaunch", "instr", a_vmlaunch },
	{ "vmresume", "instr", a_vmresume },
	{ "vmxoff", "instr", a_vmxoff },
	{ "invept", "instr", a_invept },
	{ "invvpid", "instr", a_invvpid },
	{ "vmfunc", "instr", a_vmfunc },
	{ "vmrun", "instr", a_vmrun },
	{ "vmload", "instr", a_vmload },
	{ "vmsave", "instr", a_vmsave },
	{ "stgi", "instr", a_stgi },
	{ "clgi", "instr", a_clgi },
	{ "skinit", "instr", a_skinit },
	{ "invlpga", "instr", a_invlpga },
	{ "getsec", "instr", a_getsec },
	{ "invd", "instr", a_invd },
	{ "wbinvd", "instr", a_wbinvd },
	{ "xsetbv-bad", "instr", a_xsetbv_bad },
	{ "xsetbv-avx", "instr", a_xsetbv_avx },
	{ "rdmsr-unknown", "msr", a_rdmsr_unknown },
	{ "wrmsr-lstar", "msr", a_wrmsr_lstar },
	{ "rdmsr-x2apic", "msr", a_rdmsr_x2apic },
	{ "wrmsr-featctl", "msr", a_wrmsr_featctl },
	{ "wrmsr-hsave", "msr", a_wrmsr_hsave },
	{ "wrmsr-apicbase", "msr", a_wrmsr_apicbase },
	{ "wrmsr-tsc-aux", "msr", a_wrmsr_tsc_aux },
	{ "wrmsr-efer-svme", "msr", a_wrmsr_efer_svme },
	{ "out-post", "io", a_out_post },
	{ "in-kbd", "io", a_in_kbd },
	{ "out-com1", "io", a_out_com1 },
	{ "in-pci", "io", a_in_pci },
	{ "out-shutdown", "io", a_out_shutdown },
	{ "out-qemu-exit", "io", a_out_qemu_exit },
	{ "outsb", "io", a_outsb },
	{ "cr0-pg-no-pe", "cr", a_cr0_pg_no_pe },
	{ "cr4-reserved", "cr", a_cr4_reserved },
	{ "cr4-vmxe", "cr", a_cr4_vmxe },
	{ "cr3-beyond-ram", "cr", a_cr3_beyond_ram },
	{ "cr8", "cr", a_cr8 },
	{ "read-beyond-ram", "mem", a_read_beyond_ram },
	{ "write-vga-hole", "mem", a_write_vga_hole },
	{ "lapic-mmio", "mem", a_lapic_mmio },
	{ "exec-nonram", "mem", a_exec_nonram },
	{ "pml4-garbage", "mem", a_pml4_garbage },
	{ "triple-fault", "exc", a_triple_fault },
	{ "bad-gdt", "exc", a_bad_gdt },
	{ "int3-storm", "exc", a_int3_storm },
	{ "tf-storm", "exc", a_tf_storm },
	{ "soft-nmi", "exc", a_soft_nmi },
	{ "ud2", "exc", a_ud2 },
	{ "divzero", "exc", a_divzero },
	{ "hypercall-scan", "hcall", a_hypercall_scan },
	{ "hypercall-flood", "hcall", a_hypercall_flood },
	{ "ipc-from-hole", "hcall", a_ipc_from_hole },
	{ "ipc-no-recv", "hcall", a_ipc_no_recv },
	{ "leak-write", "leak", a_leak_write },
	{ "leak-read", "leak", a_leak_read },
};
static const size_t attacks_count = ARRAY_SIZE(attacks);

/* Each stage's tables (attack_irq.c has two). */
static const struct {
	enum attack_stage stage;
	const struct attack *table;
	const size_t *n;
} tables[] = {
	{ ATTACK_AFTER_CPUID, attacks, &attacks_count },
	{ ATTACK_AFTER_CPUID, attacks_irq, &attacks_irq_count },
	{ ATTACK_BEFORE_IDT, attacks_before_idt, &attacks_before_idt_count },
};

/*
 * An exception or interrupt while an attack runs (kern/trap.c asks first).
 * The storms count theirs and go on; anything else ends the VM with a
 * report. Returns true when the trap was handled here.
 */
bool attack_trap(struct Trapframe *tf)
{
	if (!attack_current)
		return false;
	switch (tf->tf_trapno) {
	case T_BRKPT:
	case T_NMI:
		attack_events++;
		return true;
	case T_DEBUG:
		if (++attack_events >= STORM_COUNT)
			tf->tf_eflags &= ~FL_TF;
		return true;
	case IRQ_OFFSET + IRQ_TIMER:
		attack_events++;
		return true;
	}
	cprintf("attack %s: guest exception %ld (%s) at rip 0x%lx\n",
		attack_current->name, (long)tf->tf_trapno,
		trapname(tf->tf_trapno),
		tf->tf_rip);
	vmcall(VMCALL_EXIT, ATTACK_FAULT_STATUS, 0, 0, 0, 0);
	for (;;)
		asm volatile("hlt");
}

static void __attribute__((noreturn)) attack_run(const struct attack *a)
{
	attack_current = a;
	cprintf("attack %s (%s): starting\n", attack_current->name,
		attack_current->class);
	attack_current->run();
	cprintf("attack %s: returned\n", attack_current->name);
	attack_current = NULL;
	vmcall(VMCALL_EXIT, 0, 0, 0, 0, 0);
	for (;;)
		asm volatile("hlt");
}

void attack_stage(const char *cmdline, enum attack_stage stage)
{
	const char *name = cmdline + strlen(ATTACK_CMDLINE);
	size_t i, t, n = 0;

	if (strncmp(cmdline, ATTACK_CMDLINE, strlen(ATTACK_CMDLINE)) != 0)
		return;
	for (t = 0; t < ARRAY_SIZE(tables); t++)
		for (i = 0; tables[t].stage == stage && i < *tables[t].n; i++)
			if (strcmp(tables[t].table[i].name, name) == 0)
				attack_run(&tables[t].table[i]);
	if (stage != ATTACK_AFTER_CPUID)
		return;
	/* The last stage, and no table knows the name: list them all. */
	for (t = 0; t < ARRAY_SIZE(tables); t++)
		n += *tables[t].n;
	cprintf("attack: %d attacks:", (int)n);
	for (t = 0; t < ARRAY_SIZE(tables); t++)
		for (i = 0; i < *tables[t].n; i++)
			cprintf(" %s", tables[t].table[i].name);
	cprintf("\n");
	vmcall(VMCALL_EXIT, 0, 0, 0, 0, 0);
	for (;;)
		asm volatile("hlt");
}
