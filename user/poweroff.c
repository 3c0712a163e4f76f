/*
 * poweroff: write every dirty block of the file system to disk, then end
 * the emulator JOS runs in (QEMU or Bochs: sys_poweroff). Guests still
 * running are ended with it, without syncing their own disks: halt each
 * first. In a guest JOS there is no machine to turn off: `halt` ends it.
 */
#include <inc/lib.h>

void umain(int argc, char **argv)
{
	binaryname = "poweroff";
#ifdef VMM_GUEST
	printf("poweroff: this is a guest; halt ends it\n");
#else
	int r;

	if ((r = sync()) < 0) {
		printf("poweroff: sync: %e; not turning off\n", r);
		return;
	}
	printf("poweroff: file system synced\n");
	r = sys_poweroff();
	/* Only a machine with neither emulator's device gets here. */
	printf("poweroff: no emulator answered (%e)\n", r);
#endif
}
