/*
 * spawn: start a program from the file system as a new env, the way a
 * Unix fork + exec would, but built from the outside: the parent makes an
 * empty env, fills its memory page by page from the ELF file, puts the
 * arguments on its stack, hands it our shared pages (open descriptors),
 * and only then lets it run.
 *
 * Stack contract (lib/entry.S): the child starts with %rsp below
 * USTACKTOP, argc at 0(%rsp) and argv at 8(%rsp); argv[argc] is NULL and
 * the strings lie above the pointer array, all in the top stack page.
 */
#include <inc/lib.h>
#include <inc/elf.h>

/* Where the parent builds a page before handing it to the child. */
#define SPAWN_TEMP ((char *)UTEMP)

#define PERM_RW (PTE_P | PTE_U | PTE_W)

/*
 * Build the child's top stack page at SPAWN_TEMP, map it at
 * USTACKTOP - PGSIZE in child, and store the child's initial %rsp.
 */
static int init_stack(envid_t child, const char **argv, uintptr_t *rsp_store)
{
	char *top = SPAWN_TEMP + PGSIZE, *strp;
	uint64_t *argvp, *sp;
	size_t strsize = 0;
	int argc, i, r;

	for (argc = 0; argv[argc]; argc++)
		strsize += strlen(argv[argc]) + 1;

	/* From the top down: the strings, then (8-aligned) argv[] with its
	 * NULL, then argc and the argv pointer, which %rsp will point at. */
	strp = top - strsize;
	argvp = (uint64_t *)(ROUNDDOWN((uintptr_t)strp, 8)) - (argc + 1);
	sp = argvp - 2;
	if ((char *)sp < SPAWN_TEMP)
		return -E_NO_MEM; /* arguments do not fit in one page */

	if ((r = sys_page_alloc(0, SPAWN_TEMP, PERM_RW)) < 0)
		return r;

	/* Addresses as the child will see them: the page moves up to
	 * USTACKTOP - PGSIZE. */
#define CHILD_VA(p) ((uint64_t)(p) - (uint64_t)top + USTACKTOP)
	for (i = 0; i < argc; i++) {
		argvp[i] = CHILD_VA(strp);
		strcpy(strp, argv[i]);
		strp += strlen(argv[i]) + 1;
	}
	argvp[argc] = 0;
	sp[0] = argc;
	sp[1] = CHILD_VA(argvp);
	*rsp_store = CHILD_VA(sp);
#undef CHILD_VA

	r = sys_page_map(0, SPAWN_TEMP, child, (void *)(USTACKTOP - PGSIZE),
			 PERM_RW);
	sys_page_unmap(0, SPAWN_TEMP);
	return r;
}

/*
 * Load segment ph of the open ELF file fd into child: pages that hold
 * file bytes are read into SPAWN_TEMP and mapped over; the rest (bss) are
 * fresh zero pages.
 */
static int load_segment(envid_t child, int fd, const struct Proghdr *ph)
{
	uintptr_t va = ROUNDDOWN(ph->p_va, PGSIZE);
	/* The segment starts this far into its first page. */
	size_t skew = ph->p_va - va;
	uint64_t filesz = ph->p_filesz + skew, memsz = ph->p_memsz + skew;
	off_t offset = ph->p_offset - skew;
	int perm = PTE_P | PTE_U;
	uint64_t i;
	ssize_t n;
	int r;

	if (ph->p_flags & ELF_PROG_FLAG_WRITE)
		perm |= PTE_W;
	if (ph->p_va + ph->p_memsz < ph->p_va || ph->p_va + ph->p_memsz > UTOP ||
	    ph->p_filesz > ph->p_memsz || ph->p_offset < skew)
		return -E_NOT_EXEC;

	for (i = 0; i < memsz; i += PGSIZE) {
		if ((r = sys_page_alloc(0, SPAWN_TEMP, PERM_RW)) < 0)
			return r;
		if (i < filesz) {
			if ((r = seek(fd, offset + i)) < 0)
				goto fail;
			n = readn(fd, SPAWN_TEMP, MIN((uint64_t)PGSIZE,
						      filesz - i));
			if (n < 0) {
				r = n;
				goto fail;
			}
			/* The file's bytes stop here: the rest of the
			 * page is bss and must read as zero. */
			if (filesz - i < PGSIZE)
				memset(SPAWN_TEMP + (filesz - i), 0,
				       PGSIZE - (filesz - i));
		}
		if ((r = sys_page_map(0, SPAWN_TEMP, child, (void *)(va + i),
				      perm)) < 0)
			goto fail;
		sys_page_unmap(0, SPAWN_TEMP);
	}
	return 0;

fail:
	sys_page_unmap(0, SPAWN_TEMP);
	return r;
}

/* Give child the PTE_SHARE pages of ours in [lo, hi), same addresses. */
static int copy_shared_range(envid_t child, uintptr_t lo, uintptr_t hi)
{
	uintptr_t va = lo;
	pte_t pte;
	int r;

	while (va < hi) {
		if (!(uvpml4e[PML4X(va)] & PTE_P)) {
			va = ROUNDDOWN(va, PML4SIZE) + PML4SIZE;
			continue;
		}
		if (!(uvpde[va >> PDPXSHIFT] & PTE_P)) {
			va = ROUNDDOWN(va, PDPSIZE) + PDPSIZE;
			continue;
		}
		if (!(uvpd[va >> PDXSHIFT] & PTE_P)) {
			va = ROUNDDOWN(va, PTSIZE) + PTSIZE;
			continue;
		}
		pte = uvpt[PGNUM(va)];
		if ((pte & PTE_P) && (pte & PTE_SHARE) &&
		    (r = sys_page_map(0, (void *)va, child, (void *)va,
				      pte & PTE_SYSCALL)) < 0)
			return r;
		va += PGSIZE;
	}
	return 0;
}

/*
 * Give child every PTE_SHARE page of ours. Descriptor pages go last, after
 * the data (pipe buffers) above them: see lib/pipe.c for why an Fd page
 * must never be mapped somewhere its buffer is not yet.
 */
static int copy_shared_pages(envid_t child)
{
	uintptr_t fdtab_end = FDTABLE + MAXFD * PGSIZE;
	int r;

	if ((r = copy_shared_range(child, 0, FDTABLE)) < 0 ||
	    (r = copy_shared_range(child, fdtab_end, UTOP)) < 0)
		return r;
	return copy_shared_range(child, FDTABLE, fdtab_end);
}

/*
 * Run the program at path prog with argument vector argv (NULL-ended;
 * argv[0] is by custom the program's name). Returns the new env's id, or
 * a negative error; the new env starts running on its own.
 */
envid_t spawn(const char *prog, const char **argv)
{
	struct Elf elf;
	struct Proghdr ph;
	struct Trapframe tf;
	uintptr_t rsp;
	envid_t child;
	int fd, i, r;

	if ((fd = open(prog, O_RDONLY)) < 0)
		return fd;
	if (readn(fd, &elf, sizeof(elf)) != sizeof(elf) ||
	    elf.e_magic != ELF_MAGIC ||
	    elf.e_phentsize != sizeof(struct Proghdr)) {
		close(fd);
		return -E_NOT_EXEC;
	}

	if ((child = sys_exofork()) < 0) {
		close(fd);
		return child;
	}
	/* sys_exofork returns 0 in a child, but this child never runs
	 * this code: it gets its own registers below before it starts. */

	for (i = 0; i < elf.e_phnum; i++) {
		if ((r = seek(fd, elf.e_phoff + i * sizeof(ph))) < 0)
			goto fail;
		if (readn(fd, &ph, sizeof(ph)) != sizeof(ph)) {
			r = -E_NOT_EXEC;
			goto fail;
		}
		if (ph.p_type == ELF_PROG_LOAD &&
		    (r = load_segment(child, fd, &ph)) < 0)
			goto fail;
	}
	close(fd);
	fd = -1;

	if ((r = init_stack(child, argv, &rsp)) < 0 ||
	    (r = copy_shared_pages(child)) < 0)
		goto fail;

	/* Our own registers (as exofork copied them), moved to the child's
	 * entry point and stack. */
	tf = envs[ENVX(child)].env_tf;
	tf.tf_rip = elf.e_entry;
	tf.tf_rsp = rsp;
	if ((r = sys_env_set_trapframe(child, &tf)) < 0 ||
	    (r = sys_env_set_status(child, ENV_RUNNABLE)) < 0)
		goto fail;
	return child;

fail:
	sys_env_destroy(child);
	if (fd >= 0)
		close(fd);
	return r;
}

/* spawn with the arguments listed in the call, ending with NULL. */
envid_t spawnl(const char *prog, const char *arg0, ...)
{
	va_list ap;
	int argc = 0, i;

	if (arg0 != NULL) {
		va_start(ap, arg0);
		while (va_arg(ap, const char *) != NULL)
			argc++;
		va_end(ap);
	}

	{
		/* argv[0] = arg0, argc more, and the NULL. */
		const char *argv[argc + 2];

		argv[0] = arg0;
		va_start(ap, arg0);
		for (i = 1; i <= argc; i++)
			argv[i] = va_arg(ap, const char *);
		va_end(ap);
		argv[argc + 1] = NULL;
		return spawn(prog, argv);
	}
}
