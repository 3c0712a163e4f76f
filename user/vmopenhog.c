/*
 * vmopenhog: a guest that opens its own disk image on the host as often
 * as the host's file-system server lets it, and holds every open until
 * it is killed (issue 19: the server's open files are shared by every
 * client, and a guest holds at most FSOPEN_GUEST_MAX of them, inc/fs.h).
 * Run it at the guest's shell. Checks:
 *  - the opens end with -E_MAX_OPEN (not a crash, not another error),
 *    after at most FSOPEN_GUEST_MAX of them (from the shell, one fewer:
 *    the guest's own file-system server holds one; the test checks);
 *  - every open it holds still works (FSREQ_STAT of each gives the
 *    image's size).
 * Prints "vmopenhog: holding N opens of its disk, then: ERROR", a
 * summary ("vmopenhog: all N checks passed" or failures), then waits
 * for ever, idle, holding them.
 */
#include <inc/lib.h>
#include <inc/vmx.h>

#ifdef VMM_GUEST
#include "hostfsprobe.h"

/* Opens it tries at most: far past any share a guest may get. */
#define MAX_TRIES 64

/* Where each open's Fd page lands: one page each. */
static char fd_pages[MAX_TRIES][PGSIZE] __attribute__((aligned(PGSIZE)));

static int open_image(void *fd_page)
{
	int r;

	if ((r = host_disk_path(req.open.req_path, MAXPATHLEN)) < 0)
		return r;
	req.open.req_omode = O_RDONLY;
	return call(FSREQ_OPEN, fd_page);
}

static int64_t stat_size(struct Fd *fd)
{
	req.stat.req_fileid = fd->fd_file.id;
	if (call(FSREQ_STAT, NULL) < 0)
		return -1;
	return req.statRet.ret_size;
}

static void hog(void)
{
	int64_t size = -1;
	int n, r = 0;

	for (n = 0; n < MAX_TRIES; n++)
		if ((r = open_image(fd_pages[n])) < 0)
			break;
	printf("vmopenhog: holding %d opens of its disk, then: %e\n", n, r);
	expect("the open refused", r, -E_MAX_OPEN);
	expect("more opens than a guest's share", n <= FSOPEN_GUEST_MAX, 1);
	if (n > 0)
		size = stat_size((struct Fd *)fd_pages[0]);
	for (r = 0; r < n; r++)
		expect("STAT of a held open",
		       stat_size((struct Fd *)fd_pages[r]), size);
	report();
	/* Idle for ever: no one sends to us. */
	for (;;)
		ipc_recv(NULL, NULL, NULL);
}
#endif /* VMM_GUEST */

void umain(int argc, char **argv)
{
	binaryname = "vmopenhog";
#ifdef VMM_GUEST
	hog();
#else
	printf("vmopenhog: not running in a virtual machine\n");
#endif
}
