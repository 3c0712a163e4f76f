/*
 * vms: list every guest on this host (env id, name, vendor, memory,
 * disk, state, VM exits, CPU time in ms) and the host's free pages.
 * The state words are inc/vmmctl.h's, the same as the kernel
 * monitor's `vms` (kmon vms).
 * The guests are found in envs[] (ENV_TYPE_GUEST); sys_vmm_ctl tells
 * the rest. A guest that ends while we look is simply left out.
 */
#include <inc/lib.h>
#include <inc/vmmctl.h>

#define MIB_SHIFT 20

void umain(int argc, char **argv)
{
	struct vmm_info in;
	int i, n = 0;

	binaryname = "vms";
	printf("%-8s %-15s %-6s %6s %-20s %-10s %10s %8s %s\n", "ID", "NAME",
	       "VENDOR", "MEM", "DISK", "STATE", "EXITS", "CPU(ms)", "KIND");
	for (i = 0; i < NENV; i++) {
		const volatile struct Env *e = &envs[i];

		if (e->env_type != ENV_TYPE_GUEST ||
		    e->env_status == ENV_FREE || e->env_status == ENV_DYING)
			continue;
		if (sys_vmm_ctl(VMMCTL_INFO, e->env_id, &in, sizeof(in)) < 0)
			continue;
		printf("%08x %-15s %-6s %5luM %-20s %-10s %10lu %8lu %s\n",
		       e->env_id, in.name, in.vendor,
		       (unsigned long)(in.mem_bytes >> MIB_SHIFT), in.disk,
		       vmm_state_name(in.state), (unsigned long)in.nexits,
		       (unsigned long)in.cpu_ms, vmm_kind_name(in.kind));
		n++;
	}
	printf("vms: %d guest%s; host free pages: %ld\n", n,
	       n == 1 ? "" : "s", (long)sys_page_free_count());
}
