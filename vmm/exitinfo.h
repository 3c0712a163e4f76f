/*
 * Port-I/O and nested-page-fault exits in vendor-neutral terms: each
 * backend's exit table (vmm/vtx/exits.c, vmm/amdv/exits.c) decodes its
 * exit information into these, and the core's vmexit_io and vmexit_npf
 * (vmm/vmexits.c) decide what to do; a PC-kind guest's port I/O goes on
 * to its VMM program as is (vmm/devexit.c keeps a copy until answered).
 *
 * Invariants:
 * - size is 1, 2 or 4; for a string transfer addr_bytes is 2, 4 or 8
 *   and lin is the linear address of its first element, as the CPU
 *   computed it at the exit (segment base included); for any other
 *   exit both are 0.
 */
#ifndef JOS_VMM_EXITINFO_H
#define JOS_VMM_EXITINFO_H

#include <inc/types.h>

/* A port-I/O exit, decoded by the backend (VT-x: the exit qualification
 * and guest-linear address; AMD-V: EXITINFO1 and the VMCB's segments). */
struct vmm_io {
	uint16_t port;
	uint8_t size;        /* bytes per element: 1, 2 or 4 */
	bool in;             /* IN/INS (else OUT/OUTS) */
	bool string;         /* INS/OUTS */
	bool rep;            /* with a REP prefix: rCX counts */
	uint8_t addr_bytes;  /* string: address size, 2, 4 or 8 */
	uint64_t lin;        /* string: linear address of the first element */
};

/* A nested page fault (EPT violation on VT-x), decoded by the backend:
 * the guest-physical address and the access that faulted. */
struct vmm_npf {
	uint64_t gpa;
	bool read;      /* a data read */
	bool write;     /* a data write */
	bool fetch;     /* an instruction fetch */
};

#endif /* !JOS_VMM_EXITINFO_H */
