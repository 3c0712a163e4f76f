/*
 * Decoding the guest instruction that touched an MMIO address (a nested
 * page fault on a guest-physical address no RAM backs), for the device
 * model: what it accesses, how wide, and where a read's value goes.
 */
#ifndef JOS_VMM_INSN_H
#define JOS_VMM_INSN_H

#include <inc/types.h>

struct Env;
struct PageInfo;

/* Guest page-table levels a walk reads at most (4-level paging). */
#define INSN_FETCH_LEVELS 4

/* One guest page-table entry the cached translation read. */
struct insn_fetch_entry {
	const void *kva;   /* the entry's kernel address (guest RAM) */
	uint64_t val;      /* its value then */
	unsigned bytes;    /* 4 (32-bit paging) or 8 */
};

/* The vCPU's last instruction fetch (vmm/insn.c, mmio_decode): the host
 * page behind one linear page, under the paging registers, the guest
 * page-table entries and the nested tables' generation (struct Vm's
 * ept_gen) it was translated with. One reference to pg is held while it
 * is set. */
struct insn_fetch {
	struct PageInfo *pg;          /* NULL: nothing cached */
	const uint8_t *kva;           /* pg's kernel address */
	uint64_t lin_page;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t ept_gen;
	unsigned nlevels;             /* 0: paging was off */
	struct insn_fetch_entry path[INSN_FETCH_LEVELS];
};

struct mmio_insn {
	bool write;        /* store to the MMIO address */
	unsigned size;     /* bytes accessed: 1, 2, 4 or 8 */
	uint64_t wval;     /* writes: the value stored */
	unsigned len;      /* instruction length in bytes */
	/* reads: where the value goes (decoder-private encoding) */
	int dst;
	unsigned dst_size;
	bool sign_extend;
};

/* Decode the instruction at e's RIP (fetched through the guest's segments
 * and paging: real, 16/32-bit protected with paging off, 32-bit, PAE and
 * 4-level paging). 0, or < 0 when it is not an instruction the decoder
 * knows (the caller stops the guest with a clear line). */
int mmio_decode(struct Env *e, struct mmio_insn *mi);

/* The fast path's decoder (vmm/fastpath.h, without the kernel lock):
 * the load at e's RIP only if the last load decoded on this CPU is its
 * bytes and its page is in e's fetch cache (no walk, no allocation,
 * nothing printed). 0, or < 0 for the slow path's mmio_decode. */
int mmio_decode_cached(struct Env *e, struct mmio_insn *mi);

/* mmio_complete_read for the fast path, whose entry writes back RIP and
 * the general registers but RSP: false, with nothing changed, for a load
 * into RSP or one that would change RFLAGS (CMP, TEST ...). */
bool mmio_complete_read_fast(struct Env *e, const struct mmio_insn *mi,
			     uint64_t val);

/* A read's value arrived: write it to the destination as the instruction
 * would (zero/sign extension, 8-bit high registers, 32-bit writes clear
 * the upper half in 64-bit mode). Does not move RIP: the caller does. */
void mmio_complete_read(struct Env *e, const struct mmio_insn *mi,
			uint64_t val);

/* e's vCPU is being freed: drop its fetch cache (and the page's
 * reference). */
void mmio_fetch_drop(struct Env *e);

#endif /* !JOS_VMM_INSN_H */
