/*
 * vmattack3: attacks on the VMM from guest CPL 3 (the CPL 0 ones are in
 * testpayload/attack.c). Run in the guest's shell: `vmattack3` runs each
 * attack in a child of its own and reports how the child ended; the guest's
 * kernel turns each fault into a user fault, and the VMM must neither
 * stop the guest nor let the attack reach the host.
 *
 * Prints "vmattack3: NAME: ..." per attack and "vmattack3: all N attacks
 * done" at the end (the hostile-cpl3 tests look for it).
 */
#include <inc/lib.h>
#include <inc/x86.h>
#include <inc/vmx.h>

#define MSR_EFER_NUM 0xC0000080
#define PORT_COM1 0x3F8
#define HYPERCALL_SCAN 256
#define XCR0_X87 1

static uint64_t scratch[2] __attribute__((aligned(16)));
static struct Pseudodesc no_gdt;

static void a_vmxon(void) { asm volatile("vmxon %0" : : "m"(scratch[0])); }
static void a_vmlaunch(void) { asm volatile("vmlaunch"); }
static void a_vmrun(void) { asm volatile("xor %%eax, %%eax; vmrun" ::: "rax"); }
static void a_stgi(void) { asm volatile("stgi"); }
static void a_cli(void) { asm volatile("cli"); }
static void a_hlt(void) { asm volatile("hlt"); }
static void a_in(void) { inb(PORT_COM1); }
static void a_out(void) { outb(PORT_COM1, '!'); }
static void a_rdmsr(void) { rdmsr(MSR_EFER_NUM); }
static void a_wrmsr(void) { wrmsr(MSR_EFER_NUM, 0); }
static void a_cr8(void) { asm volatile("movq %0, %%cr8" : : "r"(15UL)); }
static void a_cr3(void) { asm volatile("movq %0, %%cr3" : : "r"(0UL)); }
static void a_lgdt(void) { asm volatile("lgdt %0" : : "m"(no_gdt)); }
static void a_invd(void) { asm volatile("invd"); }
static void a_swapgs(void) { asm volatile("swapgs"); }
static void a_soft_nmi(void) { asm volatile("int $2"); }
static void a_ud2(void) { asm volatile("ud2"); }

static void a_xsetbv(void)
{
	asm volatile("xsetbv" : : "c"(0), "a"(XCR0_X87), "d"(0));
}

/* Hypercalls are allowed at any CPL: bad ones must only get errors. */
static void a_hypercalls(void)
{
	uint64_t n, bad = 0;

	for (n = 0; n < HYPERCALL_SCAN; n++) {
		if (n == VMCALL_EXIT || n == VMCALL_IPC_RECV)
			continue;
		if (n >= NVMCALLS &&
		    vmcall(n, ~0UL, ~0UL, ~0UL, ~0UL, ~0UL) != -E_NO_SYS)
			bad++;
	}
	printf("vmattack3: hypercalls: %ld unknown numbers without "
	       "-E_NO_SYS\n", (long)bad);
}

static const struct {
	const char *name;
	void (*run)(void);
} attacks[] = {
	{ "vmxon", a_vmxon },     { "vmlaunch", a_vmlaunch },
	{ "vmrun", a_vmrun },     { "stgi", a_stgi },
	{ "cli", a_cli },         { "hlt", a_hlt },
	{ "in", a_in },           { "out", a_out },
	{ "rdmsr", a_rdmsr },     { "wrmsr", a_wrmsr },
	{ "cr8", a_cr8 },         { "cr3", a_cr3 },
	{ "lgdt", a_lgdt },       { "invd", a_invd },
	{ "swapgs", a_swapgs },   { "soft-nmi", a_soft_nmi },
	{ "ud2", a_ud2 },         { "xsetbv", a_xsetbv },
	{ "hypercalls", a_hypercalls },
};

void umain(int argc, char **argv)
{
	size_t i;
	envid_t child;

	binaryname = "vmattack3";
	for (i = 0; i < ARRAY_SIZE(attacks); i++) {
		if ((child = fork()) < 0)
			panic("fork: %e", child);
		if (child == 0) {
			attacks[i].run();
			printf("vmattack3: %s: survived\n", attacks[i].name);
			exit();
		}
		wait(child);
		printf("vmattack3: %s: child ended\n", attacks[i].name);
	}
	printf("vmattack3: all %d attacks done\n", (int)ARRAY_SIZE(attacks));
}
