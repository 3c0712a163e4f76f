/* Passes the kernel a pointer it does not own: the kernel must notice
 * (user_mem_check) and destroy us instead of dereferencing it. */
#include <inc/lib.h>

/* Page 0 is never mapped. */
#define BAD_POINTER ((const char *)1)

void umain(int argc, char **argv)
{
	sys_cputs(BAD_POINTER, 1);
	cprintf("buggyhello: still alive: the kernel printed a bad pointer!\n");
}
