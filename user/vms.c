/*
 * vms: list every guest on this host (env id, name, vendor, memory,
 * disk, state, VM exits, CPU time in ms, kind, vCPUs and the state of
 * each) and the host's free pages. The state words are inc/vmmctl.h's,
 * the same as the kernel monitor's `vms` (kmon vms).
 * The guests are found in envs[] (ENV_TYPE_GUEST); sys_vmm_ctl tells
 * the rest. A guest that ends while we look is simply left out.
 *
 * Invariant: one line per VM, however many vCPUs (each an env) it has:
 * the line is printed for the env that is its vCPU 0 (vmm_info.id).
 */
#include <inc/lib.h>
#include <inc/vmmctl.h>

#define MIB_SHIFT 20

/* Room for "8 vCPUs:" and eight state words with their separators. */
#define VCPUS_BUF 128

/* "2 vCPUs: running,halted" into buf: the count, then each vCPU's state
 * word in APIC-id order. Built whole, so that the line is one write
 * (a line in pieces may be cut by other output). */
static void vcpus_text(char *buf, const struct vmm_info *in)
{
	int i, len;

	len = snprintf(buf, VCPUS_BUF, "%d vCPU%s:", in->nvcpus,
		       in->nvcpus == 1 ? "" : "s");
	for (i = 0; i < in->nvcpus && i < VM_MAX_VCPUS; i++)
		len += snprintf(buf + len, VCPUS_BUF - len, "%s%s",
				i ? "," : " ",
				vmm_vcpu_state_name(in->vcpu_state[i]));
}

void umain(int argc, char **argv)
{
	struct vmm_info in;
	char vcpus[VCPUS_BUF];
	int i, n = 0;

	binaryname = "vms";
	printf("%-8s %-15s %-6s %6s %-20s %-10s %10s %8s %-9s %s\n", "ID",
	       "NAME", "VENDOR", "MEM", "DISK", "STATE", "EXITS", "CPU(ms)",
	       "KIND", "VCPUS");
	for (i = 0; i < NENV; i++) {
		const volatile struct Env *e = &envs[i];

		if (e->env_type != ENV_TYPE_GUEST ||
		    e->env_status == ENV_FREE || e->env_status == ENV_DYING)
			continue;
		if (sys_vmm_ctl(VMMCTL_INFO, e->env_id, &in, sizeof(in)) < 0)
			continue;
		if (in.id != e->env_id)  /* another vCPU of a VM: its line */
			continue;        /* is vCPU 0's */
		vcpus_text(vcpus, &in);
		printf("%08x %-15s %-6s %5luM %-20s %-10s %10lu %8lu %-9s %s\n",
		       e->env_id, in.name, in.vendor,
		       (unsigned long)(in.mem_bytes >> MIB_SHIFT), in.disk,
		       vmm_state_name(in.state), (unsigned long)in.nexits,
		       (unsigned long)in.cpu_ms, vmm_kind_name(in.kind), vcpus);
		n++;
	}
	printf("vms: %d guest%s; host free pages: %ld\n", n,
	       n == 1 ? "" : "s", (long)sys_page_free_count());
}
