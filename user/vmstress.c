/*
 * vmstress: time and check the VM exits a guest takes most often. Runs
 * inside the guest JOS, as a user env of the guest kernel: `vmm vmstress`
 * on the host. (On a bare CPU, VMCALL is an invalid opcode.)
 *
 * CPUID always exits to the VMM, which must hide VMX from the guest;
 * VMCALL_VERSION is the cheapest hypercall. Each is issued NEXITS times
 * and its result checked every time; the TSC read around each loop gives
 * the average cost of one exit and return, the loop's own few
 * instructions included. (Under Bochs, the TSC counts emulated
 * instructions, not time.)
 */
#include <inc/lib.h>
#include <inc/x86.h>
#include <inc/vmx.h>

#define NEXITS 10000
/* CPUID leaf 1 (features): ECX bit 5 says the CPU has VMX. */
#define CPUID_LEAF_FEATURES 1
#define CPUID_FEATURES_ECX_VMX (1U << 5)

/* One CPUID exit; true if the VMM hid VMX as it must. */
static bool cpuid_exit_ok(void)
{
	uint32_t ecx;

	cpuid(CPUID_LEAF_FEATURES, 0, NULL, NULL, &ecx, NULL);
	return !(ecx & CPUID_FEATURES_ECX_VMX);
}

/* One hypercall exit; true if the VMM answered with our ABI version. */
static bool vmcall_exit_ok(void)
{
	return vmcall(VMCALL_VERSION, 0, 0, 0, 0, 0) == VMM_ABI_VERSION;
}

/* Take NEXITS exits of one kind, print their cost; return how many failed. */
static int time_exits(const char *name, bool (*exit_ok)(void))
{
	uint64_t start, ticks;
	int i, bad = 0;

	start = rdtsc();
	for (i = 0; i < NEXITS; i++)
		if (!exit_ok())
			bad++;
	ticks = rdtsc() - start;
	cprintf("vmstress: %d %s exits, %lu TSC ticks per exit\n", NEXITS, name,
		ticks / NEXITS);
	return bad;
}

void umain(int argc, char **argv)
{
	int bad_cpuid, bad_vmcall;

	binaryname = "vmstress";
	bad_cpuid = time_exits("cpuid", cpuid_exit_ok);
	bad_vmcall = time_exits("vmcall", vmcall_exit_ok);
	if (bad_cpuid == 0 && bad_vmcall == 0)
		cprintf("vmstress: all %d exits checked\n", 2 * NEXITS);
	else
		cprintf("vmstress: FAILED: VMX visible in %d of %d cpuid exits, "
			"wrong version from %d of %d vmcalls\n",
			bad_cpuid, NEXITS, bad_vmcall, NEXITS);
}
