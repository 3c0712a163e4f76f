/* Ending the calling environment. */
#include <inc/lib.h>

void exit(void)
{
	/* Closing flushes our open files to the server now, rather than
	 * leaving it to notice the dead env's unmapped Fd pages. */
	close_all();
	sys_env_destroy(0);
	/* The kernel never returns from destroying the caller. */
	for (;;)
		;
}
