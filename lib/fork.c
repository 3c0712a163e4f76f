/*
 * fork (copy-on-write) and sfork (shared memory).
 *
 * Both walk the parent's address space below UTOP through the recursive
 * page-table views (uvpml4e, uvpde, uvpd, uvpt), skipping a whole 512 GiB,
 * 1 GiB or 2 MiB region at once when its upper-level entry is absent, and
 * give the child the same pages:
 *
 *   - PTE_SHARE pages: the same physical page, same permissions, in both
 *     (file descriptors and other deliberately shared state);
 *   - writable or PTE_COW pages: the same physical page, read-only and
 *     marked PTE_COW in both; the first write faults, and pgfault() below
 *     gives the writer a private copy;
 *   - read-only pages: the same page, read-only.
 *
 * The exception stack is never copied: the child gets a fresh one, since
 * a COW exception stack would fault inside the fault handler.
 *
 * sfork shares every page writable between parent and child, except the
 * normal stack and the library's per-env data page(s) (.perenv, see
 * user/user.ld), which are copied as in fork. thisenv lives there, so it
 * stays a plain variable that is right in each env, with no system call
 * to read it.
 */
#include <inc/lib.h>

/* Permissions a COW page gets in both envs. */
#define PERM_COW (PTE_P | PTE_U | PTE_COW)
/* A private writable page. */
#define PERM_RW (PTE_P | PTE_U | PTE_W)

/* From user/user.ld: the page-aligned per-env data. */
extern char perenv_start[], perenv_end[];

static bool present(uint64_t entry)
{
	return (entry & PTE_P) != 0;
}

/* The PTE for va, or 0 if any level above it is missing. */
static pte_t pte_of(uintptr_t va)
{
	if (!present(uvpml4e[PML4X(va)]) || !present(uvpde[va >> PDPXSHIFT]) ||
	    !present(uvpd[va >> PDXSHIFT]))
		return 0;
	return uvpt[PGNUM(va)];
}

/*
 * Replace the page at va (page-aligned) by a private writable copy, via
 * the scratch page PFTEMP. Keeps the page's software bits except PTE_COW.
 */
static int copy_page(uintptr_t va, pte_t pte)
{
	int perm = (pte & PTE_SYSCALL & ~PTE_COW) | PERM_RW;
	int r;

	if ((r = sys_page_alloc(0, PFTEMP, PERM_RW)) < 0)
		return r;
	memmove(PFTEMP, (void *)va, PGSIZE);
	if ((r = sys_page_map(0, PFTEMP, 0, (void *)va, perm)) < 0) {
		sys_page_unmap(0, PFTEMP);
		return r;
	}
	return sys_page_unmap(0, PFTEMP);
}

/* The page-fault handler fork installs: only writes to COW pages are
 * expected; anything else is a real fault in the program. */
static void pgfault(struct UTrapframe *utf)
{
	uintptr_t va = ROUNDDOWN(utf->utf_fault_va, PGSIZE);
	pte_t pte = pte_of(va);
	int r;

	if (!(utf->utf_err & FEC_WR) || !present(pte) || !(pte & PTE_COW))
		panic("page fault at va %lx, rip %lx, err %lx: %s",
		      utf->utf_fault_va, utf->utf_rip, utf->utf_err,
		      !(utf->utf_err & FEC_WR) ? "not a write" :
		      !present(pte)            ? "page not mapped" :
						 "not a copy-on-write page");
	if ((r = copy_page(va, pte)) < 0)
		panic("copy-on-write at va %lx: %e", va, r);
}

/* Give envid the page at va as fork does (see the top of this file). */
static int duppage(envid_t envid, uintptr_t va, pte_t pte)
{
	int perm = pte & PTE_SYSCALL;
	int r;

	if ((pte & PTE_SHARE) || !(pte & (PTE_W | PTE_COW)))
		return sys_page_map(0, (void *)va, envid, (void *)va, perm);

	perm = (perm & ~PTE_W) | PERM_COW;
	/* The child first: were we to lose write access first, our next
	 * write (this very call frame, if va is the stack) would make us a
	 * private copy and the child would get the old page. Remap our own
	 * page even if it is already COW, for the same reason. */
	if ((r = sys_page_map(0, (void *)va, envid, (void *)va, perm)) < 0)
		return r;
	return sys_page_map(0, (void *)va, 0, (void *)va, perm);
}

/* Give envid the page at va for sfork: shared and writable, unless it is
 * read-only here. A COW page is made private first, or a write on
 * either side would silently stop the sharing. */
static int sharepage(envid_t envid, uintptr_t va, pte_t pte)
{
	int r;

	if ((pte & PTE_COW) && !(pte & PTE_SHARE)) {
		if ((r = copy_page(va, pte)) < 0)
			return r;
		pte = pte_of(va);
	}
	return sys_page_map(0, (void *)va, envid, (void *)va,
			    pte & PTE_SYSCALL);
}

/* The lowest page of the normal stack: the mapped run below USTACKTOP. */
static uintptr_t stack_bottom(void)
{
	uintptr_t va = USTACKTOP;

	while (va > UTEXT && present(pte_of(va - PGSIZE)))
		va -= PGSIZE;
	return va;
}

/* Does sfork copy (rather than share) the page at va? */
static bool sfork_copies(uintptr_t va, uintptr_t stack_lo)
{
	if (va >= stack_lo && va < USTACKTOP)
		return true;
	return va >= (uintptr_t)perenv_start && va < (uintptr_t)perenv_end;
}

/* Skip to the next region whose entry at one level is absent. */
#define NEXT(va, size) (ROUNDDOWN((va), (size)) + (size))

/*
 * Give the child the pages in [lo, hi) (copy_address_space below).
 */
static int copy_range(envid_t child, bool share, uintptr_t lo, uintptr_t hi,
		      uintptr_t stack_lo)
{
	uintptr_t va = lo;
	pte_t pte;
	int r;

	while (va < hi) {
		if (!present(uvpml4e[PML4X(va)])) {
			va = NEXT(va, PML4SIZE);
			continue;
		}
		if (!present(uvpde[va >> PDPXSHIFT])) {
			va = NEXT(va, PDPSIZE);
			continue;
		}
		if (!present(uvpd[va >> PDXSHIFT])) {
			va = NEXT(va, PTSIZE);
			continue;
		}
		pte = uvpt[PGNUM(va)];
		if (present(pte) && va != UXSTACKTOP - PGSIZE) {
			if (share && !sfork_copies(va, stack_lo))
				r = sharepage(child, va, pte);
			else
				r = duppage(child, va, pte);
			if (r < 0)
				return r;
		}
		va += PGSIZE;
	}
	return 0;
}

/*
 * Give the child every page below UTOP except the exception stack,
 * sharing (sfork) or copying on write (fork). The descriptor table goes
 * last: a pipe end is seen as closed when its Fd page has as many
 * mappings as the pipe's buffer (lib/pipe.c), so no env watching the
 * pipe may ever see an Fd page mapped in the child before its buffer,
 * which lies above the table.
 */
static int copy_address_space(envid_t child, bool share)
{
	uintptr_t stack_lo = stack_bottom();
	uintptr_t fdtab_end = FDTABLE + MAXFD * PGSIZE;
	int r;

	if ((r = copy_range(child, share, 0, FDTABLE, stack_lo)) < 0 ||
	    (r = copy_range(child, share, fdtab_end, UTOP, stack_lo)) < 0)
		return r;
	return copy_range(child, share, FDTABLE, fdtab_end, stack_lo);
}

/* Both forks: a child with our registers and (a view of) our memory. */
static envid_t do_fork(bool share)
{
	extern void _pgfault_upcall(void);
	envid_t child;
	int r;

	set_pgfault_handler(pgfault);
	child = sys_exofork();
	if (child < 0)
		return child;
	if (child == 0) {
		/* The child: our thisenv is still the parent's. */
		thisenv = &envs[ENVX(sys_getenvid())];
		return 0;
	}

	if ((r = copy_address_space(child, share)) < 0 ||
	    (r = sys_page_alloc(child, (void *)(UXSTACKTOP - PGSIZE),
				PERM_RW)) < 0 ||
	    (r = sys_env_set_pgfault_upcall(child, _pgfault_upcall)) < 0 ||
	    (r = sys_env_set_status(child, ENV_RUNNABLE)) < 0) {
		/* Out of memory, most likely: leave nothing behind. */
		sys_env_destroy(child);
		return r;
	}
	return child;
}

envid_t fork(void)
{
	return do_fork(false);
}

envid_t sfork(void)
{
	return do_fork(true);
}
