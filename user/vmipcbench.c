/*
 * vmipcbench: the cost of one request to the host's file-system server.
 * In the guest JOS (`vmm`, then `vmipcbench` at the guest's shell), each
 * request goes by one hypercall (ipc_host_call: send, then wait for the
 * reply), as every block of the guest's disk does (fs/host.c). On the host, the same
 * requests go by plain IPC (ipc_send/ipc_recv), for comparison.
 *
 * The request is the cheapest the server has: an FSREQ_STAT of a file id
 * that is never open, which it answers with -E_INVAL at once, after
 * mapping the request page as for any request. So the figure is the
 * round trip itself. It is in TSC ticks, read around the whole loop:
 * under Bochs the TSC counts emulated instructions, and a guest's
 * sys_time_msec counts only the timer ticks the guest got.
 *
 * In the guest, run it while the file system is idle: the host answers
 * whichever guest env waits for a reply (lib/ipc.c).
 */
#include <inc/lib.h>
#include <inc/x86.h>
#include <inc/vmx.h>

#define NTRIPS 200
/* No open file has a negative id (inc/fs.h): the server says -E_INVAL. */
#define NO_FILEID (-1)
#define REQ_PERM (PTE_P | PTE_U | PTE_W)

/* The request page, ours alone (touched before each send). */
static union Fsipc req __attribute__((aligned(PGSIZE)));

#ifdef VMM_GUEST
#define WHERE "host IPC"

/* One request to the host's server, by hypercalls; its answer. */
static int round_trip(void)
{
	req.stat.req_fileid = NO_FILEID;
	return ipc_host_call(VMM_HOST_FS, FSREQ_STAT, &req, REQ_PERM, NULL,
			     NULL);
}
#else
#define WHERE "IPC"

/* One request to our server, by plain IPC; its answer. */
static int round_trip(void)
{
	static envid_t fsenv;

	if (!fsenv && !(fsenv = ipc_find_env(ENV_TYPE_FS)))
		panic("no file-system server");
	req.stat.req_fileid = NO_FILEID;
	ipc_send(fsenv, FSREQ_STAT, &req, REQ_PERM);
	return ipc_recv(NULL, NULL, NULL);
}
#endif

void umain(int argc, char **argv)
{
	uint64_t start, ticks;
	int i, bad = 0;

	binaryname = "vmipcbench";
	start = read_tsc();
	for (i = 0; i < NTRIPS; i++)
		if (round_trip() != -E_INVAL)
			bad++;
	ticks = read_tsc() - start;
	if (bad)
		printf("vmipcbench: FAIL: %d of %d answers were not %e\n", bad,
		       NTRIPS, -E_INVAL);
	printf("vmipcbench: %d " WHERE " round trips, %lu TSC ticks each\n",
	       NTRIPS, ticks / NTRIPS);
}
