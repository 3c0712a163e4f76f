/*
 * vmcallbad: bad hypercalls from inside the guest JOS (`vmm`, then
 * `vmcallbad` at the guest's shell) get errors, and the guest goes on.
 * Checks, in order (inc/vmx.h is the ABI):
 *  - unknown hypercall numbers: -E_NO_SYS;
 *  - VMCALL_IPC_SEND to anything but VMM_HOST_FS: -E_BAD_ENV;
 *  - VMCALL_IPC_SEND with a page address that is unaligned, far past the
 *    guest's memory, or in the legacy hole; or with a bad perm: -E_INVAL;
 *  - VMCALL_IPC_RECV with such an address: -E_INVAL at once (a VMM that
 *    waited instead would hang us here);
 *  - afterwards the VMM still answers, and a real request still makes
 *    the round trip to the host's file-system server.
 * Prints "vmcallbad: FAIL: ..." for each failed check, and a summary.
 *
 * A bad send that the VMM wrongly accepted would reach the host server:
 * its value, BAD_REQUEST, is no request, so the server only answers with
 * an error, which nobody receives.
 */
#include <inc/lib.h>
#include <inc/vmx.h>

#ifdef VMM_GUEST
/* Addresses no guest page can have: far past any guest's memory (which is
 * at most GUEST_MEM_MAX), the top page of the address space, and the
 * text screen's place in the legacy hole. */
#define FAR_GPA (1UL << 40)
#define TOP_GPA 0xFFFFFFFFFFFFF000UL
#define HOLE_GPA 0xB8000UL
/* A hypercall number whose low 32 bits name a real one (VMCALL_VERSION). */
#define HIGH_BITS (1UL << 32)
/* The FS server knows no request 0 (inc/fs.h numbers them from 1). */
#define BAD_REQUEST 0
#define GOOD_PERM (PTE_P | PTE_U | PTE_W)
/* Times a send is retried while the host's server is busy. */
#define SEND_TRIES 1000

/* A page of ours to name in hypercalls: its guest-physical address. */
static char page[PGSIZE] __attribute__((aligned(PGSIZE)));
static uint64_t page_gpa;

static int nchecks, nfailed;

/* One check: the hypercall `what` returned got, and should return want. */
static void expect(const char *what, int64_t got, int want)
{
	nchecks++;
	if (got == want)
		return;
	nfailed++;
	printf("vmcallbad: FAIL: %s returned %ld, not %d (%e)\n", what, got,
	       want, want);
}

/* vmcall with a full 64-bit number (inc/vmx.h's takes an int). */
static int64_t vmcall_num64(uint64_t num)
{
	int64_t ret;

	asm volatile(HYPERCALL_INSN
		     : "=a"(ret)
		     : "a"(num), HYPERCALL_VENDOR
		     : "cc", "memory");
	return ret;
}

/* VMCALL_IPC_SEND, again while the host's server is busy elsewhere. */
static int64_t send(uint64_t to, uint64_t gpa, uint64_t perm)
{
	int64_t r = -E_IPC_NOT_RECV;
	int i;

	for (i = 0; i < SEND_TRIES && r == -E_IPC_NOT_RECV; i++) {
		if (i > 0)
			sys_yield();
		r = vmcall(VMCALL_IPC_SEND, to, BAD_REQUEST, gpa, perm, 0);
	}
	return r;
}

static void check_unknown_calls(void)
{
	expect("hypercall NVMCALLS", vmcall(NVMCALLS, 0, 0, 0, 0, 0),
	       -E_NO_SYS);
	expect("hypercall 1000", vmcall(1000, 0, 0, 0, 0, 0), -E_NO_SYS);
	expect("hypercall -1", vmcall_num64(~0UL), -E_NO_SYS);
	expect("hypercall 2^32 + VMCALL_VERSION",
	       vmcall_num64(HIGH_BITS + VMCALL_VERSION), -E_NO_SYS);
}

static void check_bad_destinations(void)
{
	static const uint64_t bad_to[] = { 0, 2, 0x1000, ~0UL,
					   HIGH_BITS + VMM_HOST_FS };
	char what[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_to); i++) {
		snprintf(what, sizeof(what), "IPC_SEND to %lx", bad_to[i]);
		expect(what, send(bad_to[i], VMM_NO_PAGE, 0), -E_BAD_ENV);
	}
}

static void check_bad_send_pages(void)
{
	expect("IPC_SEND of an unaligned page",
	       send(VMM_HOST_FS, page_gpa + 1, GOOD_PERM), -E_INVAL);
	expect("IPC_SEND of page 2^40", send(VMM_HOST_FS, FAR_GPA, GOOD_PERM),
	       -E_INVAL);
	expect("IPC_SEND of the top page", send(VMM_HOST_FS, TOP_GPA,
						GOOD_PERM), -E_INVAL);
	expect("IPC_SEND of a page in the hole",
	       send(VMM_HOST_FS, HOLE_GPA, GOOD_PERM), -E_INVAL);

	expect("IPC_SEND with perm 0", send(VMM_HOST_FS, page_gpa, 0),
	       -E_INVAL);
	expect("IPC_SEND with perm PTE_PCD",
	       send(VMM_HOST_FS, page_gpa, GOOD_PERM | PTE_PCD), -E_INVAL);
	expect("IPC_SEND with perm bit 32",
	       send(VMM_HOST_FS, page_gpa, GOOD_PERM | HIGH_BITS), -E_INVAL);
}

static void check_bad_recv_pages(void)
{
	expect("IPC_RECV into an unaligned page",
	       vmcall(VMCALL_IPC_RECV, page_gpa + 1, 0, 0, 0, 0), -E_INVAL);
	expect("IPC_RECV into page 2^40",
	       vmcall(VMCALL_IPC_RECV, FAR_GPA, 0, 0, 0, 0), -E_INVAL);
	expect("IPC_RECV into the top page",
	       vmcall(VMCALL_IPC_RECV, TOP_GPA, 0, 0, 0, 0), -E_INVAL);
	expect("IPC_RECV into a page in the hole",
	       vmcall(VMCALL_IPC_RECV, HOLE_GPA, 0, 0, 0, 0), -E_INVAL);
}

/* PUTS prints nothing from outside guest RAM or across a page. */
static void check_bad_puts(void)
{
	expect("PUTS from page 2^40",
	       vmcall(VMCALL_PUTS, FAR_GPA, 1, 0, 0, 0), -E_INVAL);
	expect("PUTS from a page in the hole",
	       vmcall(VMCALL_PUTS, HOLE_GPA, 1, 0, 0, 0), -E_INVAL);
	expect("PUTS across a page end",
	       vmcall(VMCALL_PUTS, page_gpa + PGSIZE - 1, 2, 0, 0, 0),
	       -E_INVAL);
	expect("PUTS of 0 bytes", vmcall(VMCALL_PUTS, page_gpa, 0, 0, 0, 0),
	       -E_INVAL);
	expect("PUTS of -1 bytes",
	       vmcall(VMCALL_PUTS, page_gpa, ~0UL, 0, 0, 0), -E_INVAL);
}

/* After all that, the VMM and the host's server still answer. */
static void check_still_working(void)
{
	union Fsipc *req = (union Fsipc *)page;

	expect("VMCALL_VERSION", vmcall(VMCALL_VERSION, 0, 0, 0, 0, 0),
	       VMM_ABI_VERSION);
	/* A stat of no file: the server answers -E_INVAL at once. */
	req->stat.req_fileid = -1;
	expect("a host FS request after them",
	       ipc_host_call(VMM_HOST_FS, FSREQ_STAT, page, GOOD_PERM, NULL,
			     NULL), -E_INVAL);
}

static void run_checks(void)
{
	/* Make the page ours and present before naming its address. */
	page[0] = 1;
	page_gpa = PTE_ADDR(uvpt[PGNUM(page)]);

	check_unknown_calls();
	check_bad_destinations();
	check_bad_send_pages();
	check_bad_recv_pages();
	check_bad_puts();
	check_still_working();
	if (nfailed == 0)
		printf("vmcallbad: all %d checks passed\n", nchecks);
	else
		printf("vmcallbad: %d of %d checks failed\n", nfailed, nchecks);
}
#endif /* VMM_GUEST */

void umain(int argc, char **argv)
{
	binaryname = "vmcallbad";
#ifdef VMM_GUEST
	run_checks();
#else
	/* On a bare CPU, VMCALL is an invalid opcode. */
	printf("vmcallbad: not running in a virtual machine\n");
#endif
}
