/*
 * What the guest programs that probe the host's file-system server with
 * raw requests share (vmbulkbad, vmdiskfill, vmopenhog): the request
 * page, one request as a guest's own file server sends it (an IPC_CALL
 * hypercall, inc/vmx.h), and a tally of checks that each program ends
 * with one summary line, "NAME: all N checks passed" or "NAME: F of N
 * checks failed" (the tests look for these).
 *
 * Invariant: included by one source file of a guest program (VMM_GUEST),
 * after binaryname is set; everything here is static to that program.
 */
#ifndef JOS_USER_HOSTFSPROBE_H
#define JOS_USER_HOSTFSPROBE_H

#include <inc/lib.h>
#include <inc/vmx.h>

/* The request page goes to the server writable, as the FS client's. */
#define REQ_PERM (PTE_P | PTE_U | PTE_W)

static union Fsipc req __attribute__((aligned(PGSIZE)));
static int nchecks, nfailed;

/* One check: what returned got, where want was due. */
static void expect(const char *what, int64_t got, int64_t want)
{
	nchecks++;
	if (got == want)
		return;
	nfailed++;
	printf("%s: FAIL: %s returned %ld, not %ld\n", binaryname, what, got,
	       want);
}

/* Send req as request type; a page the server replies with lands at
 * rpg. Returns the server's reply value. */
static int call(int type, void *rpg)
{
	int perm;

	return ipc_host_call(VMM_HOST_FS, type, &req, REQ_PERM, rpg, &perm);
}

/* A whole sync in steps, as fs/host.c does it; 0 or an error. */
static int sync_steps(void)
{
	int r = 0;

	do {
		req.sync.req_from = r;
		r = call(FSREQ_SYNCSTEP, NULL);
	} while (r > 0);
	return r;
}

/* The summary line every probe ends with. */
static void report(void)
{
	if (nfailed == 0)
		printf("%s: all %d checks passed\n", binaryname, nchecks);
	else
		printf("%s: %d of %d checks failed\n", binaryname, nfailed,
		       nchecks);
}

#endif
