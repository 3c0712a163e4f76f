/*
 * Hostile string I/O for the multiboot test kernel: transfers the VMM
 * must refuse, stopping the guest with a line naming the address. The
 * grade runs each word ("hostile-ins", "hostile-outs",
 * "hostile-insl-hole") in its own guest.
 *
 * Invariants:
 * - A word that runs never returns normally: the VMM stops the guest,
 *   or the guest reports the failure and exits with FAIL_VALUE.
 */
#include "mb.h"

/* More than one exit's worth, past RAM's end. */
#define HOSTILE_COUNT 4096
#define HOSTILE_BEFORE_END 16
#define BEYOND_RAM 0xFFFF0000

/* String I/O the VMM must stop: the guest never comes back from it. */
void hostile(const struct mb_info *mbi, const char *cmdline)
{
	u32 end = HIGHMEM_START + mbi->mem_upper * KIB;
	u32 dst = end - HOSTILE_BEFORE_END, cnt = HOSTILE_COUNT;

	if (has_word(cmdline, "hostile-ins")) {
		puts("mbtest: rep insb past the end of RAM\n");
		asm volatile("cld; rep insb"
			     : "+D"(dst), "+c"(cnt) : "d"(COM1) : "memory");
	} else if (has_word(cmdline, "hostile-outs")) {
		puts("mbtest: rep outsb from beyond RAM\n");
		dst = BEYOND_RAM;
		asm volatile("cld; rep outsb"
			     : "+S"(dst), "+c"(cnt) : "d"(COM1) : "memory");
	} else if (has_word(cmdline, "hostile-insl-hole")) {
		puts("mbtest: rep insl into the legacy hole\n");
		dst = LOWMEM_END;
		asm volatile("cld; rep insl"
			     : "+D"(dst), "+c"(cnt) : "d"(COM1) : "memory");
	} else {
		return;
	}
	puts("mbtest: hostile string I/O came back\n");
	finish(FAIL_VALUE);
}

