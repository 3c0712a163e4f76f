/*
 * The guest's page-table walk in each of its paging modes (SDM Vol. 3A
 * 4.3-4.5; APM Vol. 2 5.2-5.4): 32-bit paging with 4 KiB and 4 MiB pages,
 * PAE, 4-level; paging off translates nothing.
 *
 * Invariants:
 * - Every entry is read through the caller's reader, which decides what
 *   guest memory is: no guest value (CR3, an entry) is ever dereferenced
 *   here, so any value the guest chose is an error return, never host
 *   harm.
 * - Every entry is checked before it is followed: present, reserved bits
 *   (those that do not depend on the guest's MAXPHYADDR), page size; the
 *   walk ends after at most four reads.
 * - Pure: no state, no caching. Each walk reads the tables as they are.
 */
#include <inc/error.h>
#include <inc/mmu.h>
#include <inc/stdio.h>

#include <kern/pmap.h>
#include <vmm/gvawalk.h>
#include <vmm/vmm.h>

/* CR4.LA57: 5-level paging (SDM Vol. 3A 2.5), which we do not walk. */
#define CR4_LA57 (1UL << 12)

/* 32-bit paging (4.3): 4-byte entries, 10 index bits per level. */
#define E32_BYTES 4
#define E32_INDEX_BITS 10
#define E32_INDEX_MASK ((1U << E32_INDEX_BITS) - 1)
#define E32_PD_SHIFT 22
#define E32_PT_SHIFT 12
#define E32_ADDR_MASK 0xFFFFF000UL
#define E32_BIG_SIZE (1UL << E32_PD_SHIFT) /* 4 MiB */
/* A 4 MiB PDE: bits 31:22 of the page, bits 20:13 are address bits 39:32
 * (PSE-36), bit 21 is reserved (Table 4-4). */
#define E32_BIG_ADDR_MASK 0xFFC00000UL
#define E32_BIG_HIGH_SHIFT 13
#define E32_BIG_HIGH_MASK 0xFFUL
#define E32_BIG_HIGH_TO 32
#define E32_BIG_RSVD (1UL << 21)

/* 8-byte entries (PAE 4.4, 4-level 4.5): 9 index bits per level. */
#define E64_BYTES 8
#define E64_XD (1UL << 63)
/* PAE: bits 62:52 of a PDE or PTE are reserved (Tables 4-9 to 4-11); in
 * 4-level paging they are ignored or protection keys. */
#define PAE_HIGH_RSVD 0x7FF0000000000000UL
/* PAE PDPTE (Table 4-8): bits 2:1 and 8:5 reserved, 63:52 too. */
#define PAE_PDPTE_RSVD (0x1E6UL | 0xFFF0000000000000UL)
#define PAE_PDPT_SHIFT 30
#define PAE_PDPT_ENTRIES 4
/* CR3 in PAE mode: the PDPT is 32-byte aligned (4.4.1). */
#define PAE_CR3_MASK 0xFFFFFFE0UL
/* 4-level: PS in a PML4E is reserved (Table 4-14). */
#define PML4E_RSVD PTE_PS
/* A large page's bits between bit 13 and its own alignment are reserved
 * (bit 12 is PAT): 2 MiB -> 20:13, 1 GiB -> 29:13 (Tables 4-17, 4-15). */
#define BIG_RSVD(span) (((span) - 1) & ~((1UL << 13) - 1))
#define LEVEL_SPAN(lvl) (1UL << (PTXSHIFT + 9 * (lvl)))

/* Long mode translates 48-bit canonical addresses (4.5). */
#define LA_BITS_4LEVEL 48
#define LA_LIMIT_32 (1UL << 32)

static const char *const level_name[] = { "pte", "pde", "pdpte", "pml4e" };

/* Entry index of the table at gpa table: read it, print it when asked;
 * -E_FAULT if unreadable. */
static int read_entry(gva_reader rd, void *arg, uint64_t table,
		      uint64_t index, unsigned bytes, const char *name,
		      uint64_t *ent, bool verbose)
{
	uint64_t at = table + index * bytes;

	if (rd(arg, at, bytes, ent) < 0) {
		if (verbose)
			cprintf("  %-5s table at gpa 0x%lx: not guest RAM\n",
				name, table);
		return -E_FAULT;
	}
	if (verbose)
		cprintf("  %-5s [%3lu] at gpa 0x%lx: 0x%0*lx\n", name, index,
			at, (int)bytes * 2, *ent);
	return 0;
}

/* Present and free of reserved bits, or why not. */
static int check_entry(uint64_t ent, uint64_t rsvd, bool verbose)
{
	if (!(ent & PTE_P)) {
		if (verbose)
			cprintf("  not present\n");
		return -E_FAULT;
	}
	if (ent & rsvd) {
		if (verbose)
			cprintf("  reserved bits set: 0x%lx\n", ent & rsvd);
		return -E_INVAL;
	}
	return 0;
}

/* 32-bit paging: a PDE (a 4 MiB page with CR4.PSE and PS), then a PTE. */
static int walk32(const struct guest_dbgstate *s, uint64_t la,
		  gva_reader rd, void *arg, uint64_t *gpa, bool verbose)
{
	uint64_t pde, pte;
	int r;

	if (la >= LA_LIMIT_32)
		return -E_INVAL;
	if ((r = read_entry(rd, arg, s->cr3 & E32_ADDR_MASK,
			    (la >> E32_PD_SHIFT) & E32_INDEX_MASK, E32_BYTES,
			    "pde", &pde, verbose)) < 0)
		return r;
	if ((s->cr4 & CR4_PSE) && (pde & PTE_PS)) {
		if ((r = check_entry(pde, E32_BIG_RSVD, verbose)) < 0)
			return r;
		*gpa = (pde & E32_BIG_ADDR_MASK) |
		       (((pde >> E32_BIG_HIGH_SHIFT) & E32_BIG_HIGH_MASK)
			<< E32_BIG_HIGH_TO) |
		       (la & (E32_BIG_SIZE - 1));
		return 0;
	}
	if ((r = check_entry(pde, 0, verbose)) < 0)
		return r;
	if ((r = read_entry(rd, arg, pde & E32_ADDR_MASK,
			    (la >> E32_PT_SHIFT) & E32_INDEX_MASK, E32_BYTES,
			    "pte", &pte, verbose)) < 0)
		return r;
	if ((r = check_entry(pte, 0, verbose)) < 0)
		return r;
	*gpa = (pte & E32_ADDR_MASK) | PGOFF(la);
	return 0;
}

/*
 * The 8-byte levels from lvl down, in the table at gpa table: shared by
 * 4-level paging (from the PML4) and PAE (from the page directory).
 * rsvd: the reserved bits every entry of the mode has.
 */
static int walk64(int lvl, uint64_t table, uint64_t la, uint64_t rsvd,
		  gva_reader rd, void *arg, uint64_t *gpa, bool verbose)
{
	uint64_t ent, span;
	int r;

	for (; lvl >= PT_LEVEL_PT; lvl--) {
		if ((r = read_entry(rd, arg, table, PGX(la, lvl), E64_BYTES,
				    level_name[lvl], &ent, verbose)) < 0)
			return r;
		span = LEVEL_SPAN(lvl);
		if (lvl == PT_LEVEL_PML4)
			r = check_entry(ent, rsvd | PML4E_RSVD, verbose);
		else if (lvl > PT_LEVEL_PT && (ent & PTE_PS))
			r = check_entry(ent, rsvd | BIG_RSVD(span), verbose);
		else
			r = check_entry(ent, rsvd, verbose);
		if (r < 0)
			return r;
		if (lvl == PT_LEVEL_PT ||
		    (lvl < PT_LEVEL_PML4 && (ent & PTE_PS))) {
			*gpa = (PTE_ADDR(ent) & ~(span - 1)) | (la & (span - 1));
			return 0;
		}
		table = PTE_ADDR(ent);
	}
	return -E_FAULT;
}

/* PAE: one of four PDPTEs (1 GiB each, no large pages), then walk64. */
static int walk_pae(const struct guest_dbgstate *s, uint64_t la,
		    gva_reader rd, void *arg, uint64_t *gpa, bool verbose)
{
	uint64_t pdpte, rsvd = PAE_HIGH_RSVD;
	int r;

	if (la >= LA_LIMIT_32)
		return -E_INVAL;
	if (!(s->efer & EFER_NXE))
		rsvd |= E64_XD;
	if ((r = read_entry(rd, arg, s->cr3 & PAE_CR3_MASK,
			    (la >> PAE_PDPT_SHIFT) % PAE_PDPT_ENTRIES,
			    E64_BYTES, "pdpte", &pdpte, verbose)) < 0)
		return r;
	if ((r = check_entry(pdpte, PAE_PDPTE_RSVD, verbose)) < 0)
		return r;
	return walk64(PT_LEVEL_PD, PTE_ADDR(pdpte), la, rsvd, rd, arg, gpa,
		      verbose);
}

static bool canonical(uint64_t la)
{
	int64_t top = (int64_t)la >> (LA_BITS_4LEVEL - 1);

	return top == 0 || top == -1;
}

int gva_walk(const struct guest_dbgstate *s, uint64_t la, gva_reader rd,
	     void *arg, uint64_t *gpa, bool verbose)
{
	if (!(s->cr0 & CR0_PG)) {
		*gpa = la;
		return 0;
	}
	if (!(s->cr4 & CR4_PAE))
		return walk32(s, la, rd, arg, gpa, verbose);
	if (!(s->efer & EFER_LMA))
		return walk_pae(s, la, rd, arg, gpa, verbose);
	if (s->cr4 & CR4_LA57)
		return -E_NOT_SUPP;
	if (!canonical(la))
		return -E_INVAL;
	return walk64(PT_LEVEL_PML4, PTE_ADDR(s->cr3), la,
		      (s->efer & EFER_NXE) ? 0 : E64_XD, rd, arg, gpa,
		      verbose);
}
