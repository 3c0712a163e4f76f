/*
 * Guest-virtual to guest-physical translation for the debugger (the gdb
 * stub's memory packets, the monitor's gva command) and the device model
 * (the MMIO decoder's instruction fetch, string port I/O), and the
 * printed walk of the nested tables (the monitor's gpa command).
 *
 * Invariants:
 * - Every guest-physical address read here (each level of the guest's
 *   page table, the kernel's ELF headers, the bytes themselves) goes
 *   through guest_gpa2kva() (vmm/ept.c), which checks it; a missing or
 *   unreadable one is an error return, never a host fault.
 * - Nothing is cached: each translation reads the guest's tables as they
 *   are now. The guest is stopped (gdb) or the result is a snapshot
 *   (monitor).
 * - Addresses are linear: the caller adds segment bases (real mode, a
 *   32-bit code segment's base). Every paging mode the guest may be in
 *   is walked (vmm/gvawalk.c: 32-bit with 4 KiB and 4 MiB pages, PAE,
 *   4-level); with paging off an address is guest-physical, except that
 *   an address that is not guest RAM but lies in the paravirtual guest
 *   kernel's ELF segments translates as its program headers say
 *   (p_vaddr -> p_paddr), so that breakpoints set before that guest
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
#include <vmm/gvawalk.h>
#include <vmm/devexit.h>

/* A table entry of the guest's, read through the checked helper. */
static int read_guest_entry(void *arg, uint64_t gpa, unsigned bytes,
			    uint64_t *out)
{
	void *p = guest_gpa2kva(arg, gpa, bytes, EPTE_R);

	if (!p)
		return -E_FAULT;
	*out = bytes == sizeof(uint32_t) ? *(uint32_t *)p : *(uint64_t *)p;
	return 0;
}

/*
 * Before paging: the kernel ELF header vmm put at GUEST_ELFHDR_PA maps
 * p_vaddr -> p_paddr for each PT_LOAD segment. -E_NOT_FOUND if va lies in
 * none (or the header is not an ELF header any more).
 */
static int elf_v2p(struct Vcpu *vc, uint64_t va, uint64_t *gpa)
{
	struct Elf *elf = guest_gpa2kva(vc->vm, GUEST_ELFHDR_PA, sizeof(*elf),
					EPTE_R);
	struct Proghdr *ph;
	int i;

	if (!elf || elf->e_magic != ELF_MAGIC)
		return -E_NOT_FOUND;
	for (i = 0; i < elf->e_phnum; i++) {
		ph = guest_gpa2kva(vc->vm, GUEST_ELFHDR_PA + elf->e_phoff +
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
 * Translate linear address gva as the guest's MMU would (vmm/gvawalk.c:
 * paging off, 32-bit, PAE, 4-level): 0 with *gpa set, or gva_walk's
 * error. With paging off, an address that is not guest RAM may still be
 * a link address of the paravirtual guest's kernel (elf_v2p); one that
 * is RAM is itself, whatever the guest's memory holds. verbose prints
 * each level's entry (the monitor's gva command).
 */
int guest_gva2gpa(struct Env *e, const struct guest_dbgstate *s,
		  uint64_t gva, uint64_t *gpa, bool verbose)
{
	struct Vcpu *vc = e->env_vcpu;

	/* The ELF shortcut is the paravirtual JOS guest's only. */
	if (!(s->cr0 & CR0_PG) && !devexit_pc_guest(e) &&
	    !guest_ram(vc->vm, gva) && elf_v2p(vc, gva, gpa) == 0)
		return 0;
	return gva_walk(s, gva, read_guest_entry, vc->vm, gpa, verbose);
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
		kva = guest_gpa2kva(e->env_vcpu->vm, gpa, n,
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
	epte_t *table = e->env_vcpu->vm->ept_root, ent;
	int lvl;

	cprintf("gpa 0x%lx: %s, guest RAM: %s\n", gpa, f->name,
		guest_ram(e->env_vcpu->vm, gpa) ? "yes" : "no");
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
