/*
 * memtouch: take every page of memory the kernel will give, then give
 * them back. sys_page_alloc zeroes each page, so each is written. In a
 * guest (`vmm memtouch` on the host), this touches all the RAM the guest
 * kernel has free, so the VMM populates its nested tables for nearly all
 * of guest RAM: the worst case for the VMM's overhead figure ("guest
 * freed" line, the monitor's vms and vmstate).
 */
#include <inc/lib.h>

/* Where the pages go: above the program, its stack and heap. */
#define MEMTOUCH_BASE 0x10000000UL
/* Enough room for more memory than any guest has (GUEST_MEM_MAX). */
#define MEMTOUCH_END 0xC0000000UL

void umain(int argc, char **argv)
{
	uintptr_t va;
	size_t n = 0;
	int r = 0;

	binaryname = "memtouch";
	for (va = MEMTOUCH_BASE; va < MEMTOUCH_END; va += PGSIZE, n++)
		if ((r = sys_page_alloc(0, (void *)va, PTE_P | PTE_U | PTE_W)) < 0)
			break;
	cprintf("memtouch: %lu pages (%lu KiB) touched, then %e\n",
		(unsigned long)n, (unsigned long)n * (PGSIZE / 1024), r);
	for (va = MEMTOUCH_BASE; n > 0; va += PGSIZE, n--)
		sys_page_unmap(0, (void *)va);
}
