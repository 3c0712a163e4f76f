/*
 * Guest-virtual to guest-physical translation for the debugger (the gdb
 * stub's memory packets, the monitor's gva command), and the printed walk
 * of the nested tables (the monitor's gpa command).
 *
 * Invariants:
 * - Every guest-physical address read here (each level of the guest's
 *   page table, the kernel's ELF headers, the bytes themselves) goes
 *   through guest_gpa2kva() (vmm/ept.c), which checks it; a missing or
 *   unreadable one is an error return, never a host fault.
 * - Nothing is cached: each translation reads the guest's tables as they
 *   are now. The guest is stopped (gdb) or the result is a snapshot
 *   (monitor).
 * - Only 4-level long-mode paging (CR0.PG, CR4.PAE, EFER.LMA) is walked;
 *   with paging off an address is guest-physical, except that addresses
 *   in the guest kernel's ELF segments translate as its program headers
 *   say (p_vaddr -> p_paddr), so that breakpoints set before the guest
 *   turns paging on land on the right physical bytes.
 */
#include <inc/mmu.h>
#include <inc/elf.h>
#include <inc/error.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/vmx.h>

#include <kern/env.h>
#include <kern/pmap.h>
#include <vmm/ept.h>
#include <vmm/gva.h>
#include <vmm/devexit.h>

/* Long mode translates 48-bit canonical addresses (SDM Vol. 3A 4.5). */
#define GVA_BITS 48
#define PTE_BYTES sizeof(uint64_t)
/* Bytes one leaf maps at each level: 4 KiB, 2 MiB, 1 GiB. */
#define LEVEL_SPAN(lvl) (1UL << (PTXSHIFT + 9 * (lvl)))

static bool canonical(uint64_t va)
{
	int64_t top = (int64_t)va >> (GVA_BITS - 1);

	return top == 0 || top == -1;
}

/* Read the 8-byte guest-physical word at gpa; -E_FAULT if not RAM. */
static int read_gpa64(struct Guest *g, uint64_t gpa, uint64_t *out)
{
	uint64_t *p = guest_gpa2kva(g, gpa, PTE_BYTES, EPTE_R);

	if (!p)
		return -E_FAULT;
	*out = *p;
	return 0;
}

/*
 * Before paging: the kernel ELF header vmm put at GUEST_ELFHDR_PA maps
 * p_vaddr -> p_paddr for each PT_LOAD segment. -E_NOT_FOUND if va lies in
 * none (or the header is not an ELF header any more).
 */
static int elf_v2p(struct Guest *g, uint64_t va, uint64_t *gpa)
{
	struct Elf *elf = guest_gpa2kva(g, GUEST_ELFHDR_PA, sizeof(*elf),
					EPTE_R);
	struct Proghdr *ph;
	int i;

	if (!elf || elf->e_magic != ELF_MAGIC)
		return -E_NOT_FOUND;
	for (i = 0; i < elf->e_phnum; i++) {
		ph = guest_gpa2kva(g, GUEST_ELFHDR_PA + elf->e_phoff +
					      i * sizeof(*ph),
				   sizeof(*ph), EPTE_R);
		if (!ph)
			return -E_NOT_FOUND;
		if (ph->p_type == ELF_PROG_LOAD && va >= ph->p_va &&
		    va - ph->p_va < ph->p_memsz) {
			*gpa = ph->p_pa + (va - ph->p_va);
			return 0;
		}
	}
	return -E_NOT_FOUND;
}

/*
 * Translate gva as the guest's MMU would (SDM Vol. 3A 4.5; APM Vol. 2
 * 5.3): 0 with *gpa set, -E_FAULT when an entry is not present or a
 * table is not guest RAM, -E_INVAL for a non-canonical address,
 * -E_NOT_SUPP for a paging mode other than 4-level long mode. verbose
 * prints each level's entry (the monitor's gva command).
 */
int guest_gva2gpa(struct Env *e, const struct guest_dbgstate *s,
		  uint64_t gva, uint64_t *gpa, bool verbose)
{
	static const char *const level_name[] = { "pte", "pde", "pdpte",
						  "pml4e" };
	struct Guest *g = e->env_guest;
	uint64_t table = PTE_ADDR(s->cr3), ent;
	int lvl;

	if (!(s->cr0 & CR0_PG)) {
		/* Only the JOS guest has vmm's ELF header page (devexit hook). */
		if (!devexit_pc_guest(e) && elf_v2p(g, gva, gpa) == 0)
			return 0;
		*gpa = gva;
		return 0;
	}
	if (!(s->cr4 & CR4_PAE) || !(s->efer & EFER_LMA))
		return -E_NOT_SUPP;
	if (!canonical(gva))
		return -E_INVAL;
	for (lvl = PT_LEVEL_PML4; lvl >= PT_LEVEL_PT; lvl--) {
		uint64_t at = table + PGX(gva, lvl) * PTE_BYTES;

		if (read_gpa64(g, at, &ent) < 0) {
			if (verbose)
				cprintf("  %-5s table at gpa 0x%lx: not guest "
					"RAM\n", level_name[lvl], table);
			return -E_FAULT;
		}
		if (verbose)
			cprintf("  %-5s [%3lu] at gpa 0x%lx: 0x%016lx\n",
				level_name[lvl], PGX(gva, lvl), at, ent);
		if (!(ent & PTE_P))
			return -E_FAULT;
		if (lvl == PT_LEVEL_PT ||
		    (lvl < PT_LEVEL_PML4 && (ent & PTE_PS))) {
			*gpa = (PTE_ADDR(ent) & ~(LEVEL_SPAN(lvl) - 1)) |
			       (gva & (LEVEL_SPAN(lvl) - 1));
			return 0;
		}
		table = PTE_ADDR(ent);
	}
	return -E_FAULT;
}

/*
 * Copy len bytes between buf and guest-virtual gva (into the guest when
 * write), a page at a time, each page translated and checked. Returns
 * the bytes copied before the first failure (0 and an error if none).
 */
int guest_gva_copy(struct Env *e, const struct guest_dbgstate *s,
		   uint64_t gva, void *buf, size_t len, bool write)
{
	size_t done = 0, n;
	uint64_t gpa;
	uint8_t *kva;
	int r;

	while (done < len) {
		n = MIN(len - done, PGSIZE - PGOFF(gva + done));
		if ((r = guest_gva2gpa(e, s, gva + done, &gpa, false)) < 0)
			return done ? (int)done : r;
		n = MIN(n, PGSIZE - PGOFF(gpa));
		kva = guest_gpa2kva(e->env_guest, gpa, n,
				    write ? EPTE_W : EPTE_R);
		if (!kva)
			return done ? (int)done : -E_FAULT;
		if (write)
			memcpy(kva, (uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done, kva, n);
		done += n;
	}
	return done;
}

/*
 * Print the nested-table walk for gpa: each level's entry, then the host
 * page it leads to. The tables are host pages (KADDR is safe on them).
 */
void guest_gpa_walk_print(struct Env *e, uint64_t gpa)
{
	const struct ptfmt *f = &nested_fmt->walk;
	epte_t *table = e->env_guest->ept_root, ent;
	int lvl;

	cprintf("gpa 0x%lx: %s, guest RAM: %s\n", gpa, f->name,
		guest_ram(e->env_guest, gpa) ? "yes" : "no");
	for (lvl = PT_LEVEL_PML4; lvl >= PT_LEVEL_PT; lvl--) {
		ent = table[PGX(gpa, lvl)];
		cprintf("  level %d [%3lu]: 0x%016lx\n", lvl, PGX(gpa, lvl),
			ent);
		if (!(ent & f->present)) {
			cprintf("  not mapped (filled on the guest's first "
				"touch if it is guest RAM)\n");
			return;
		}
		if (lvl == PT_LEVEL_PT) {
			cprintf("  host page: pa 0x%lx, kva %p\n",
				PTE_ADDR(ent) + PGOFF(gpa),
				(uint8_t *)KADDR(PTE_ADDR(ent)) + PGOFF(gpa));
			return;
		}
		table = KADDR(PTE_ADDR(ent));
	}
}
