/*
 * vmm [-g] [-m MB] [word ...]: run the guest JOS in a virtual machine.
 * -g: the guest stops before its first instruction and waits for gdb on
 * COM2 (`make gdb-guest`; docs/guest-debugging.md).
 *
 * Like spawn, this builds the new machine from the outside before it
 * runs: sys_env_mkguest makes an empty guest, and each page of its
 * memory is filled here and handed over with sys_ept_map. The guest
 * boots like a PC, in real mode at GUEST_BOOT_PA (docs/guest-boot.md):
 *
 *   GUEST_CMDLINE_PA  the words after the options, joined with spaces
 *                     (none: the guest kernel's default command line)
 *   GUEST_BOOT_PA     /vmm/boot, the guest boot sector
 *   GUEST_ELFHDR_PA   the first page of /vmm/kernel, for the boot sector
 *   p_pa of each PT_LOAD segment: the segments of /vmm/kernel
 *
 * Every other page of guest RAM the VMM fills with zeroes when the guest
 * first touches it. Then we wait for the guest to end, and print the
 * host's free page count from before and after: they differ only if the
 * VMM leaked memory, or (by one page per CPU) when a CPU ran its first
 * guest and kept its VMXON region.
 */
#include <inc/lib.h>
#include <inc/elf.h>
#include <inc/vmx.h>

#define GUEST_KERNEL_PATH "/vmm/kernel"
#define GUEST_BOOT_PATH "/vmm/boot"
/* The guest boot loader is one disk sector, signature included. */
#define BOOT_SECTOR_SIZE 512

/* Where each guest page is built before it moves into the guest. */
#define SCRATCH ((char *)UTEMP)
#define PERM_RW (PTE_P | PTE_U | PTE_W)

/* e_elf[] is e_ident[] after the magic: its class and the class we run. */
#define ELF_IDENT_CLASS 0
#define ELF_CLASS_64 2
#define ELF_MACHINE_X86_64 62

#define MIB_SHIFT 20
/* Longest message complain() prints, before the error text. */
#define MSG_MAX 128

/*
 * Print "vmm: <message>: <err as text>" and return err, so that a helper
 * reports a failure where it knows the details, then passes it up.
 */
static int complain(int err, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("vmm: %s: %e\n", msg, err);
	return err;
}

/* After a reported failure: the half-built guest goes too. */
static void __attribute__((noreturn)) give_up(envid_t guest)
{
	if (guest > 0)
		sys_env_destroy(guest);
	exit();
}

static void __attribute__((noreturn)) usage(void)
{
	printf("usage: vmm [-g] [-m MB] [word ...]\n");
	exit();
}

/*
 * Fill guest-physical [gpa, gpa + memsz) with fresh pages: its first
 * filesz bytes from fd at fileoffset, the rest (a bss) zero. gpa need not
 * be page-aligned; the bytes of its first page below gpa are zero too.
 * sys_ept_map refuses a guest page that is mapped already, so two calls
 * must not share a page.
 */
static int map_in_guest(envid_t guest, uintptr_t gpa, size_t memsz, int fd,
			size_t filesz, off_t fileoffset)
{
	uintptr_t first = ROUNDDOWN(gpa, PGSIZE);
	/* Offsets from `first`: the range, and the part that is file. */
	size_t start = gpa - first, end = start + memsz;
	size_t fileend = start + filesz;
	size_t off, lo, hi;
	ssize_t n;
	int r;

	for (off = 0; off < end; off += PGSIZE) {
		/* sys_page_alloc hands out zeroed pages. */
		if ((r = sys_page_alloc(0, SCRATCH, PERM_RW)) < 0)
			return complain(r, "sys_page_alloc");
		/* The file's bytes that land in this page. */
		lo = MAX(off, start);
		hi = MIN(off + PGSIZE, fileend);
		if (lo < hi) {
			if ((r = seek(fd, fileoffset + (lo - start))) < 0)
				goto fail;
			n = readn(fd, SCRATCH + (lo - off), hi - lo);
			if (n < 0 || (size_t)n != hi - lo) {
				r = n < 0 ? n : -E_EOF;
				goto fail;
			}
		}
		if ((r = sys_ept_map(0, SCRATCH, guest, (void *)(first + off),
				     __EPTE_FULL)) < 0) {
			sys_page_unmap(0, SCRATCH);
			return complain(r, "sys_ept_map at guest address %lx",
					first + off);
		}
		sys_page_unmap(0, SCRATCH);
	}
	return 0;

fail:
	sys_page_unmap(0, SCRATCH);
	return complain(r, "reading file offset %lx",
			fileoffset + (lo - start));
}

/* Open path and find its size. */
static int open_sized(const char *path, off_t *size)
{
	struct Stat st;
	int fd, r;

	if ((fd = open(path, O_RDONLY)) < 0)
		return complain(fd, "%s", path);
	if ((r = fstat(fd, &st)) < 0) {
		close(fd);
		return complain(r, "%s", path);
	}
	*size = st.st_size;
	return fd;
}

/* The ELF header of a kernel the guest boot loader can start? */
static bool elf_ok(const struct Elf *elf, size_t len)
{
	return len >= sizeof(*elf) && elf->e_magic == ELF_MAGIC &&
	       elf->e_elf[ELF_IDENT_CLASS] == ELF_CLASS_64 &&
	       elf->e_machine == ELF_MACHINE_X86_64 &&
	       elf->e_phentsize == sizeof(struct Proghdr) && elf->e_phnum > 0 &&
	       elf->e_phoff <= len &&
	       elf->e_phnum <= (len - elf->e_phoff) / sizeof(struct Proghdr);
}

/* Guest pages [first, last] that segment ph occupies (memsz > 0). */
static void seg_pages(const struct Proghdr *ph, uint64_t *first,
		      uint64_t *last)
{
	*first = ROUNDDOWN(ph->p_pa, PGSIZE);
	*last = ROUNDDOWN(ph->p_pa + ph->p_memsz - 1, PGSIZE);
}

/*
 * Can segment ph go into a guest of gphysz bytes? Its bytes must lie in
 * the RAM above 1 MiB (the low pages hold the boot sector, the command
 * line and the ELF header page), and no page of it may hold another
 * segment: sys_ept_map maps a guest page once. Our kernel's segments
 * start on pages of their own (kern/kernel.ld aligns each), so a shared
 * page means a differently linked kernel, and we say so.
 */
static int check_segment(const struct Proghdr *ph, const struct Proghdr *phs,
			 int nph, uint64_t gphysz)
{
	uint64_t first, last, ofirst, olast;
	int i;

	if (ph->p_filesz > ph->p_memsz || ph->p_pa < GUEST_HIGHMEM_START ||
	    ph->p_memsz > gphysz || ph->p_pa > gphysz - ph->p_memsz)
		return complain(-E_INVAL, "%s: segment [%lx, %lx) does not fit "
				"in guest RAM [%x, %lx)", GUEST_KERNEL_PATH,
				ph->p_pa, ph->p_pa + ph->p_memsz,
				GUEST_HIGHMEM_START, gphysz);
	seg_pages(ph, &first, &last);
	for (i = 0; i < nph; i++) {
		const struct Proghdr *o = &phs[i];

		if (o == ph || o->p_type != ELF_PROG_LOAD || o->p_memsz == 0)
			continue;
		seg_pages(o, &ofirst, &olast);
		if (first <= olast && ofirst <= last)
			return complain(-E_NOT_SUPP, "%s: segments at %lx and "
					"%lx share a page", GUEST_KERNEL_PATH,
					ph->p_pa, o->p_pa);
	}
	return 0;
}

/*
 * Load the guest kernel's ELF file: each PT_LOAD segment at its physical
 * address (p_pa), and the file's first page at GUEST_ELFHDR_PA, where the
 * guest boot sector finds the entry point.
 */
static int copy_guest_kern_gpa(envid_t guest, const char *path,
			       uint64_t gphysz)
{
	/* The first page of the file: the headers, as the guest sees them. */
	static uint8_t hdrpage[PGSIZE];
	const struct Elf *elf = (const struct Elf *)hdrpage;
	const struct Proghdr *ph;
	size_t hdrlen;
	off_t size;
	ssize_t n;
	int fd, i, r;

	if ((fd = open_sized(path, &size)) < 0)
		return fd;
	hdrlen = MIN((size_t)size, sizeof(hdrpage));
	if ((n = readn(fd, hdrpage, hdrlen)) < 0 || (size_t)n != hdrlen) {
		r = complain(n < 0 ? n : -E_EOF, "%s: reading the ELF header",
			     path);
		goto out;
	}
	if (!elf_ok(elf, hdrlen)) {
		r = complain(-E_NOT_EXEC, "%s: not an x86-64 ELF kernel", path);
		goto out;
	}

	ph = (const struct Proghdr *)(hdrpage + elf->e_phoff);
	for (i = 0; i < elf->e_phnum; i++) {
		if (ph[i].p_type != ELF_PROG_LOAD || ph[i].p_memsz == 0)
			continue;
		if ((r = check_segment(&ph[i], ph, elf->e_phnum, gphysz)) < 0 ||
		    (r = map_in_guest(guest, ph[i].p_pa, ph[i].p_memsz, fd,
				      ph[i].p_filesz, ph[i].p_offset)) < 0)
			goto out;
	}
	r = map_in_guest(guest, GUEST_ELFHDR_PA, PGSIZE, fd, hdrlen, 0);
out:
	close(fd);
	return r;
}

/* The guest boot sector goes where a BIOS would put it. */
static int copy_guest_boot(envid_t guest, const char *path)
{
	off_t size;
	int fd, r;

	if ((fd = open_sized(path, &size)) < 0)
		return fd;
	if (size != BOOT_SECTOR_SIZE)
		r = complain(-E_NOT_EXEC, "%s: %ld bytes, not a %d-byte boot "
			     "sector", path, (long)size, BOOT_SECTOR_SIZE);
	else
		r = map_in_guest(guest, GUEST_BOOT_PA, BOOT_SECTOR_SIZE, fd,
				 BOOT_SECTOR_SIZE, 0);
	close(fd);
	return r;
}

/*
 * The guest kernel's command line: words[0..nwords) joined with spaces,
 * NUL-terminated, at GUEST_CMDLINE_PA. Its page is mapped even when the
 * line is empty (the kernel's default): the VMM writes the Multiboot
 * block for VMCALL_MBMAP into the same page.
 */
static int copy_guest_cmdline(envid_t guest, int nwords, char **words)
{
	uintptr_t page = ROUNDDOWN((uintptr_t)GUEST_CMDLINE_PA, PGSIZE);
	char *line = SCRATCH + (GUEST_CMDLINE_PA - page);
	size_t len = 0, wlen;
	int i, r;

	if ((r = sys_page_alloc(0, SCRATCH, PERM_RW)) < 0)
		return complain(r, "sys_page_alloc");
	for (i = 0; i < nwords; i++) {
		wlen = strlen(words[i]);
		/* One byte for the separator (or the NUL), one for the NUL. */
		if (len + (i > 0) + wlen > GUEST_CMDLINE_MAX - 1) {
			sys_page_unmap(0, SCRATCH);
			return complain(-E_INVAL, "command line longer than %d "
					"bytes", GUEST_CMDLINE_MAX - 1);
		}
		if (i > 0)
			line[len++] = ' ';
		memmove(line + len, words[i], wlen);
		len += wlen;
	}
	/* The page came zeroed: line[len] is the NUL already. */
	r = sys_ept_map(0, SCRATCH, guest, (void *)page, __EPTE_FULL);
	sys_page_unmap(0, SCRATCH);
	if (r < 0)
		return complain(r, "sys_ept_map at guest address %lx", page);
	return 0;
}

/*
 * Read both guest files once, through SCRATCH, before the free pages are
 * counted: the file server's block cache and our page table for SCRATCH
 * grow on their first use and keep what they got, which is no leak of
 * the VMM's. Errors are left for the real load to report.
 */
static void warm_up(void)
{
	static const char *const paths[] = { GUEST_KERNEL_PATH,
					     GUEST_BOOT_PATH };
	size_t i;
	int fd;

	if (sys_page_alloc(0, SCRATCH, PERM_RW) < 0)
		return;
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		if ((fd = open(paths[i], O_RDONLY)) < 0)
			continue;
		while (read(fd, SCRATCH, PGSIZE) > 0)
			;
		close(fd);
	}
	sys_page_unmap(0, SCRATCH);
}

/* -m MB: the guest's memory in MiB, within what sys_env_mkguest takes. */
static uint64_t parse_mem(const char *arg)
{
	char *end;
	long mb = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || mb < 0 ||
	    (uint64_t)mb < (GUEST_MEM_MIN >> MIB_SHIFT) ||
	    (uint64_t)mb > (GUEST_MEM_MAX >> MIB_SHIFT)) {
		complain(-E_INVAL, "-m %s: give %lu to %lu MiB", arg,
			 GUEST_MEM_MIN >> MIB_SHIFT, GUEST_MEM_MAX >> MIB_SHIFT);
		exit();
	}
	return (uint64_t)mb << MIB_SHIFT;
}

void umain(int argc, char **argv)
{
	uint64_t gphysz = GUEST_MEM_DEFAULT;
	struct Argstate args;
	int64_t before, after;
	envid_t guest;
	bool debug = false;
	int c, r;

	binaryname = "vmm";
	argstart(&argc, argv, &args);
	while ((c = argnext(&args)) >= 0) {
		if (c == 'g') {
			debug = true;
			continue;
		}
		if (c != 'm' || !argvalue(&args))
			usage();
		gphysz = parse_mem(argvalue(&args));
	}

	warm_up();
	before = sys_page_free_count();
	if ((guest = sys_env_mkguest(gphysz, GUEST_BOOT_PA)) < 0) {
		complain(guest, "sys_env_mkguest");
		if (guest == -E_NO_VMX || guest == -E_NO_EPT)
			printf("vmm: guests run under make qemu-nox (QEMU: "
			       "AMD-V) and make bochs-nox (Bochs: VT-x)\n");
		exit();
	}
	/* One file open at a time: each helper closes its own. */
	if (copy_guest_kern_gpa(guest, GUEST_KERNEL_PATH, gphysz) < 0 ||
	    copy_guest_boot(guest, GUEST_BOOT_PATH) < 0 ||
	    copy_guest_cmdline(guest, argc - 1, argv + 1) < 0)
		give_up(guest);
	if (debug) {
		if ((r = sys_guest_debug(guest)) < 0) {
			complain(r, "sys_guest_debug (is there a COM2 port?)");
			give_up(guest);
		}
		printf("vmm: guest %08x waits for gdb on COM2 (make "
		       "gdb-guest)\n", guest);
	}
	if ((r = sys_env_set_status(guest, ENV_RUNNABLE)) < 0) {
		complain(r, "sys_env_set_status");
		give_up(guest);
	}

	wait(guest);
	after = sys_page_free_count();
	printf("vmm: guest %08x exited; free pages: %ld before, %ld after\n",
	       guest, before, after);
}
