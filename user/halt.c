/*
 * halt: end the guest JOS this shell runs in (the host's `vmm`, which
 * started it, then returns to the host's prompt). First sync, so that
 * the guest's writes reach its disk, the host file /vmm/fs.img, and from
 * there the host's disk. On the host, which nothing can halt from user
 * space, it says so and exits.
 */
#include <inc/lib.h>
#include <inc/vmx.h>

/* The VMCALL_EXIT status of a guest that was told to stop. */
#define HALT_STATUS 0

#ifdef VMM_GUEST
static void leave_vm(void)
{
	int r;

	if ((r = sync()) < 0)
		printf("halt: sync: %e (leaving anyway)\n", r);
	printf("halt: leaving the VM\n");
	vmcall(VMCALL_EXIT, HALT_STATUS, 0, 0, 0, 0);
	/* VMCALL_EXIT does not return; a VMM that refused it did. */
	printf("halt: the VMM did not end the VM\n");
}
#endif

void umain(int argc, char **argv)
{
	binaryname = "halt";
#ifdef VMM_GUEST
	leave_vm();
#else
	printf("halt: not running in a virtual machine\n");
#endif
}
