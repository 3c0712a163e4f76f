/*
 * The guest's page-table walk as its MMU does it (vmm/gvawalk.c), in
 * every paging mode, reading the tables through a reader the caller
 * supplies: guest memory in real use (vmm/gva.c), a scratch buffer in the
 * self-test (testpayload/gva_test.c).
 */
#ifndef JOS_VMM_GVAWALK_H
#define JOS_VMM_GVAWALK_H

#include <inc/types.h>

struct guest_dbgstate;

/*
 * Read the bytes-wide (4 or 8) little-endian table entry at guest-physical
 * gpa into *out: 0, or < 0 when gpa is not memory the guest's tables may
 * live in (the walk then fails with -E_FAULT).
 */
typedef int (*gva_reader)(void *arg, uint64_t gpa, unsigned bytes,
			  uint64_t *out);

/*
 * Translate linear address la under the paging state of s (CR0.PG,
 * CR4.PSE/PAE/LA57, EFER.LMA/NXE, CR3): 0 with *gpa set; -E_FAULT when an
 * entry is not present or a table cannot be read; -E_INVAL when la is
 * not an address of the mode (non-canonical, above 4 GiB in a 32-bit
 * mode) or an entry sets a reserved bit; -E_NOT_SUPP for 5-level paging.
 * With paging off the address is guest-physical as it is. verbose prints
 * each entry read (the monitor's gva command).
 */
int gva_walk(const struct guest_dbgstate *s, uint64_t la, gva_reader rd,
	     void *arg, uint64_t *gpa, bool verbose);

#endif /* !JOS_VMM_GVAWALK_H */
