/*
 * How many mappings share the physical page at va: the kernel's pp_ref,
 * read from the read-only pages[] array. Pipes use it to notice that the
 * other end is gone (lib/pipe.c).
 */
#include <inc/lib.h>

/* Returns 0 if va is not mapped here. */
int pageref(void *va)
{
	uintptr_t v = (uintptr_t)va;
	pte_t pte;

	if (!(uvpml4e[PML4X(v)] & PTE_P) || !(uvpde[v >> PDPXSHIFT] & PTE_P) ||
	    !(uvpd[v >> PDXSHIFT] & PTE_P))
		return 0;
	pte = uvpt[PGNUM(v)];
	if (!(pte & PTE_P))
		return 0;
	return pages[PGNUM(PTE_ADDR(pte))].pp_ref;
}
