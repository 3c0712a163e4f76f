/* spawnhello: spawn /bin/hello from the file system. */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	envid_t r;

	cprintf("i am parent environment %08x\n", thisenv->env_id);
	if ((r = spawnl("/bin/hello", "hello", NULL)) < 0)
		panic("spawn(hello) failed: %e", r);
}
