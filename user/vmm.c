/*
 * vmm [-b] [-g] [-m MB] [-d DISK] [-n NAME] [word ...]: run the guest
 * JOS in a virtual machine, in the foreground (it owns the console until
 * it ends or Ctrl-] d detaches it) or, with -b, in the background.
 * -g: the guest stops before its first instruction and waits for gdb on
 * COM2 (`make gdb-guest`; docs/guest-debugging.md).
 * vmm attach|pause|resume|kill ID|NAME: steer a guest that runs already.
 * vmm [-b] [-m MB] [-n NAME] -k KERNEL [-a "CMDLINE"] [-M MODULE]...
 * [-i IMAGE]...: a multiboot kernel on an emulated PC instead; vmm [-b]
 * [-m MB] [-n NAME] -i IMAGE [-i IMAGE2]: a PC that boots from IMAGE,
 * the IDE master (IMAGE2 the slave), through our BIOS (vmmdev/pc.c; its
 * devices are the vmm program's, vmmdev/).
 *
 * Each guest has a disk, a file of the host file system (-d, default
 * DEFAULT_DISK). One that does not exist is made as a copy of the
 * pristine guest disk PRISTINE_DISK; two live guests never share one
 * (the kernel refuses the second, vmm/vmctl.c).
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
 * Both files are read once, whole, into this env's memory (KFILE_VA and
 * a static buffer) before anything else: every new guest's pages are
 * copied from there, so starting a guest costs one host FS round trip
 * per page of the kernel file, not two, however busy the other guests
 * keep the host.
 *
 * Every other page of guest RAM the VMM fills with zeroes when the guest
 * first touches it. Then we wait for the guest to end, and print the
 * host's free page count from before and after: they differ only if the
 * VMM leaked memory, or by the one-time costs that are not leaks: the
 * pages each CPU keeps from its first guest on (VT-x: its VMXON region;
 * AMD-V: its host save area and host VMSAVE area, two pages), blocks the
 * host file server cached, and the server's bulk window of
 * FSBULK_PAGES pages that a guest ending without a sync leaves with it
 * until its next request.
 *
 * What would make the guest fail later is refused before anything is
 * made, in one line: a name or disk another live guest has
 * (VMMCTL_CHECK; the kernel checks again at VMMCTL_SETUP, for races),
 * and more memory than the host has free.
 */
#include <inc/lib.h>
#include <inc/elf.h>
#include <inc/vmx.h>
#include <inc/vmmctl.h>
#include <vmmdev/pc.h>

#define GUEST_KERNEL_PATH "/vmm/kernel"
#define GUEST_BOOT_PATH "/vmm/boot"
#define DEFAULT_DISK "/vmm/fs.img"
#define PRISTINE_DISK "/vmm/fs.img.orig"
/* The host file server caches at most this many blocks (fs/bc.c). */
#define HOST_FS_CACHE_BLOCKS 8192
/* The guest boot loader is one disk sector, signature included. */
#define BOOT_SECTOR_SIZE 512

/* Where each guest page is built before it moves into the guest. */
#define SCRATCH ((char *)UTEMP)
/* Where the guest kernel file is read, whole: far from our text, stack
 * and file descriptors, and room for a kernel of KFILE_MAX bytes. */
#define KFILE_VA ((uint8_t *)0x10000000)
#define KFILE_MAX (64UL << 20)
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

/* Why VMMCTL_CHECK or VMMCTL_SETUP refused setup, in one line. */
static void say_refused(int r, const struct vmm_setup *setup)
{
	if (r == -E_BUSY)
		printf("vmm: %s is the disk of another running guest (vms "
		       "lists them); give another with -d\n", setup->disk);
	else if (r == -E_FILE_EXISTS)
		printf("vmm: a guest named %s runs already (vms lists them)\n",
		       setup->name);
	else
		complain(r, "-n %s -d %s", setup->name, setup->disk);
}

/*
 * Refuse a guest larger than the host's free memory now: its RAM is
 * filled lazily, so it would only fail when it touched the page that
 * is not there.
 */
static bool mem_fits(uint64_t gphysz)
{
	int64_t nfree = sys_page_free_count();

	if (nfree >= 0 && gphysz / PGSIZE <= (uint64_t)nfree)
		return true;
	printf("vmm: -m %lu: the host has %ld MiB free (%ld pages)\n",
	       (unsigned long)(gphysz >> MIB_SHIFT),
	       (long)(nfree * PGSIZE >> MIB_SHIFT), (long)nfree);
	return false;
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
	printf("usage: vmm [-b] [-g] [-m MB] [-d DISK] [-n NAME] [word ...]\n"
	       "       vmm [-b] [-c N] [-m MB] [-n NAME] -k KERNEL "
	       "[-a CMDLINE] [-M MODULE]... [-i IMAGE]...\n"
	       "       vmm [-b] [-c N] [-m MB] [-n NAME] -i IMAGE "
	       "[-i IMAGE2]\n"
	       "       vmm attach|pause|resume|kill ID|NAME\n");
	exit();
}

/*
 * Fill guest-physical [gpa, gpa + memsz) with fresh pages: its first
 * filesz bytes from src, the rest (a bss) zero. gpa need not be
 * page-aligned; the bytes of its first page below gpa are zero too.
 * Pages of bss alone are not mapped: the VMM's zero fill on first touch
 * gives the same, and the guest may never touch them.
 * sys_ept_map refuses a guest page that is mapped already, so two calls
 * must not share a page.
 */
static int map_in_guest(envid_t guest, uintptr_t gpa, size_t memsz,
			const uint8_t *src, size_t filesz)
{
	uintptr_t first = ROUNDDOWN(gpa, PGSIZE);
	/* Offsets from `first`: the range, and the part that is file. */
	size_t start = gpa - first, end = start + memsz;
	size_t fileend = start + filesz;
	size_t off, lo, hi;
	int r;

	for (off = 0; off < end; off += PGSIZE) {
		/* The file's bytes that land in this page. */
		lo = MAX(off, start);
		hi = MIN(off + PGSIZE, fileend);
		/* No byte from the file (bss): the VMM fills the page with
		 * zeroes when the guest first touches it, if it ever does. */
		if (lo >= hi)
			continue;
		/* sys_page_alloc hands out zeroed pages; it replaces the page
		 * the last round left at SCRATCH (now the guest's too), so
		 * one unmap at the end does. */
		if ((r = sys_page_alloc(0, SCRATCH, PERM_RW)) < 0)
			return complain(r, "sys_page_alloc");
		memmove(SCRATCH + (lo - off), src + (lo - start), hi - lo);
		if ((r = sys_ept_map(0, SCRATCH, guest, (void *)(first + off),
				     __EPTE_FULL)) < 0) {
			sys_page_unmap(0, SCRATCH);
			return complain(r, "sys_ept_map at guest address %lx",
					first + off);
		}
	}
	sys_page_unmap(0, SCRATCH);
	return 0;
}

/* The guest's two files, as read_guest_files() left them in our memory. */
struct guest_files {
	const uint8_t *kern;  /* the kernel ELF file, at KFILE_VA */
	size_t kern_size;
	uint8_t boot[BOOT_SECTOR_SIZE];
};

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

/*
 * Read all of path, which must be 1 to max bytes, into fresh pages at
 * buf (or into buf itself when alloc is false). readn asks the host FS
 * server for a page per request, the most one request carries.
 */
static int read_whole(const char *path, uint8_t *buf, size_t max, bool alloc,
		      size_t *size)
{
	off_t sz = 0;
	size_t off;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open_sized(path, &sz)) < 0)
		return fd;
	if (sz <= 0 || (size_t)sz > max) {
		r = complain(-E_NOT_EXEC, "%s: %ld bytes, not 1 to %lu", path,
			     (long)sz, (unsigned long)max);
		goto out;
	}
	for (off = 0; alloc && off < (size_t)sz; off += PGSIZE)
		if ((r = sys_page_alloc(0, buf + off, PERM_RW)) < 0) {
			complain(r, "sys_page_alloc for %s", path);
			goto out;
		}
	if ((n = readn(fd, buf, sz)) != sz) {
		r = complain(n < 0 ? n : -E_EOF, "reading %s", path);
		goto out;
	}
	*size = sz;
out:
	close(fd);
	return r;
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
			 int nph, uint64_t gphysz, size_t filesize)
{
	uint64_t first, last, ofirst, olast;
	int i;

	if (ph->p_offset > filesize || ph->p_filesz > filesize - ph->p_offset)
		return complain(-E_NOT_EXEC, "%s: segment at file offset %lx "
				"runs past the file's end", GUEST_KERNEL_PATH,
				ph->p_offset);

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
static int copy_guest_kern_gpa(envid_t guest, const struct guest_files *gf,
			       uint64_t gphysz)
{
	const struct Elf *elf = (const struct Elf *)gf->kern;
	size_t hdrlen = MIN(gf->kern_size, (size_t)PGSIZE);
	const struct Proghdr *ph;
	int i, r;

	if (!elf_ok(elf, hdrlen))
		return complain(-E_NOT_EXEC, "%s: not an x86-64 ELF kernel",
				GUEST_KERNEL_PATH);
	ph = (const struct Proghdr *)(gf->kern + elf->e_phoff);
	for (i = 0; i < elf->e_phnum; i++) {
		if (ph[i].p_type != ELF_PROG_LOAD || ph[i].p_memsz == 0)
			continue;
		if ((r = check_segment(&ph[i], ph, elf->e_phnum, gphysz,
				       gf->kern_size)) < 0 ||
		    (r = map_in_guest(guest, ph[i].p_pa, ph[i].p_memsz,
				      gf->kern + ph[i].p_offset,
				      ph[i].p_filesz)) < 0)
			return r;
	}
	return map_in_guest(guest, GUEST_ELFHDR_PA, PGSIZE, gf->kern, hdrlen);
}

/* The guest boot sector goes where a BIOS would put it. */
static int copy_guest_boot(envid_t guest, const struct guest_files *gf)
{
	return map_in_guest(guest, GUEST_BOOT_PA, BOOT_SECTOR_SIZE, gf->boot,
			    BOOT_SECTOR_SIZE);
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
 * Read both guest files, once, before the free pages are counted: the
 * pages that hold them here, the file server's block cache and our page
 * tables for SCRATCH and KFILE_VA grow now and keep what they got until
 * after the count at the end, so none of it looks like a leak of the
 * VMM's. The boot sector must be exactly one sector.
 */
static int read_guest_files(struct guest_files *gf)
{
	size_t n;
	int r;

	if ((r = read_whole(GUEST_KERNEL_PATH, KFILE_VA, KFILE_MAX, true,
			    &gf->kern_size)) < 0 ||
	    (r = read_whole(GUEST_BOOT_PATH, gf->boot, sizeof(gf->boot), false,
			    &n)) < 0)
		return r;
	if (n != BOOT_SECTOR_SIZE)
		return complain(-E_NOT_EXEC, "%s: %lu bytes, not a %d-byte "
				"boot sector", GUEST_BOOT_PATH,
				(unsigned long)n, BOOT_SECTOR_SIZE);
	gf->kern = KFILE_VA;
	/* SCRATCH's page table, now rather than inside the count. */
	if ((r = sys_page_alloc(0, SCRATCH, PERM_RW)) < 0)
		return complain(r, "sys_page_alloc");
	sys_page_unmap(0, SCRATCH);
	return 0;
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

/* ---- Disks --------------------------------------------------------------- */

/*
 * Make path a copy of PRISTINE_DISK. The host file server copies it
 * itself (fcopy): one request rather than two per page, and only the
 * blocks the sparse original holds (about 750 of its 4096) are copied.
 * O_EXCL: a vmm that races us to the same new disk makes it once.
 */
static int copy_disk(const char *path)
{
	int src, dst, r;

	if ((src = open(PRISTINE_DISK, O_RDONLY)) < 0)
		return complain(src, "%s", PRISTINE_DISK);
	if ((dst = open(path, O_WRONLY | O_CREAT | O_EXCL)) < 0) {
		close(src);
		return complain(dst, "creating %s", path);
	}
	printf("vmm: creating %s as a copy of %s\n", path, PRISTINE_DISK);
	r = fcopy(dst, src);
	close(src);
	close(dst);
	if (r < 0) {
		remove(path);
		return complain(r, "copying %s to %s", PRISTINE_DISK, path);
	}
	return 0;
}

/* The disk must exist: make it if it does not. */
static int prepare_disk(const char *path)
{
	struct Stat st;
	int r;

	if ((r = stat(path, &st)) == 0)
		return st.st_isdir ? complain(-E_INVAL, "%s is a directory",
					      path) : 0;
	if (r != -E_NOT_FOUND)
		return complain(r, "%s", path);
	return copy_disk(path);
}

/* ---- Guests that run --------------------------------------------------- */

static void say_left(envid_t guest, const char *name, int st)
{
	printf("vmm: guest %08x (%s) %s; `vmm attach %s` brings it back\n",
	       guest, name,
	       st == VMM_STATE_PAUSED ? "is paused"
				       : "runs in the background",
	       name);
}

/* A guest by name, else by env id (hex). */
static envid_t find_guest(const char *arg)
{
	char *end;
	long id;
	int r;

	if ((r = sys_vmm_ctl(VMMCTL_FIND, 0, (void *)arg, strlen(arg))) > 0)
		return r;
	id = strtol(arg, &end, 16);
	if (*arg && !*end && id > 0 &&
	    sys_vmm_ctl(VMMCTL_STATE, id, NULL, 0) > 0)
		return id;
	printf("vmm: no guest named %s (vms lists them)\n", arg);
	exit();
}

/* vmm attach|pause|resume|kill ID|NAME. */
static void control(const char *verb, const char *who)
{
	static const struct {
		const char *verb;
		int op;
	} verbs[] = {
		{ "attach", VMMCTL_ATTACH }, { "pause", VMMCTL_PAUSE },
		{ "resume", VMMCTL_RESUME }, { "kill", VMMCTL_KILL },
	};
	struct vmm_info info;
	envid_t guest = find_guest(who);
	size_t i;
	int r, st;

	for (i = 0; i < ARRAY_SIZE(verbs) && strcmp(verbs[i].verb, verb); i++)
		;
	if (sys_vmm_ctl(VMMCTL_INFO, guest, &info, sizeof(info)) < 0)
		strcpy(info.name, who);
	if ((r = sys_vmm_ctl(verbs[i].op, guest, NULL, 0)) < 0) {
		complain(r, "%s %s", verb, who);
		return;
	}
	if (verbs[i].op != VMMCTL_ATTACH) {
		if (verbs[i].op != VMMCTL_KILL)
			printf("vmm: guest %08x (%s) %sd\n", guest, info.name,
			       verb);
		return;
	}
	if ((st = vmm_follow(guest)) == 0)
		printf("vmm: guest %08x (%s) exited\n", guest, info.name);
	else
		say_left(guest, info.name, st);
}

/* -k, -i: an emulated PC (no gdb stub); its disk for the kernel's check
 * that two live guests never share one is its IDE master, if any. */
static void __attribute__((noreturn)) pc_start(struct pc_opts *pc,
					       struct vmm_setup *setup,
					       uint64_t gphysz, bool background)
{
	int r;

	setup->disk[0] = '\0';
	if (pc->nimages && pc->images[0][0] == '/' &&
	    strlen(pc->images[0]) < VMM_DISK_MAX)
		strcpy(setup->disk, pc->images[0]);
	if ((r = sys_vmm_ctl(VMMCTL_CHECK, 0, setup, sizeof(*setup))) < 0) {
		say_refused(r, setup);
		exit();
	}
	if (!mem_fits(gphysz))
		exit();
	pc->setup = *setup;
	pc->gphysz = gphysz;
	pc->background = background;
	pc_main(pc);
}

static bool is_verb(const char *s)
{
	return !strcmp(s, "attach") || !strcmp(s, "pause") ||
	       !strcmp(s, "resume") || !strcmp(s, "kill");
}

void umain(int argc, char **argv)
{
	uint64_t gphysz = GUEST_MEM_DEFAULT;
	static struct guest_files files;
	static struct pc_opts pc;
	struct vmm_setup setup;
	struct vmm_info info;
	struct Argstate args;
	int64_t before, after;
	bool background = false;
	envid_t guest;
	bool debug = false;
	int c, r, st;

	binaryname = "vmm";
	if (argc >= 2 && is_verb(argv[1])) {
		if (argc != 3)
			usage();
		control(argv[1], argv[2]);
		exit();
	}
	memset(&setup, 0, sizeof(setup));
	strcpy(setup.disk, DEFAULT_DISK);
	argstart(&argc, argv, &args);
	while ((c = argnext(&args)) >= 0) {
		if (c == 'b' || c == 'g') {
			background |= c == 'b';
			debug |= c == 'g';
			continue;
		}
		if (!argvalue(&args))
			usage();
		if (c == 'm')
			gphysz = parse_mem(argvalue(&args));
		else if (c == 'd' && argvalue(&args)[0] == '/' &&
			 strlen(argvalue(&args)) < VMM_DISK_MAX)
			strcpy(setup.disk, argvalue(&args));
		else if (c == 'n' && strlen(argvalue(&args)) < VMM_NAME_MAX)
			strcpy(setup.name, argvalue(&args));
		else if (!pc_option(&pc, c, argvalue(&args)))
			usage();
	}
	if ((pc.cmdline || pc.nmods) && !pc.kernel)
		usage();
	if (pc.ncpus > 1 && !pc.kernel && !pc.nimages) {
		printf("vmm: -c %u: the paravirtual JOS guest has one vCPU; "
		       "more are for PC guests (-k, -i)\n", pc.ncpus);
		exit();
	}
	if (pc.kernel || pc.nimages)
		pc_start(&pc, &setup, gphysz, background);

	if ((r = sys_vmm_ctl(VMMCTL_CHECK, 0, &setup, sizeof(setup))) < 0) {
		say_refused(r, &setup);
		exit();
	}
	if (!mem_fits(gphysz))
		exit();
	if (prepare_disk(setup.disk) < 0 || read_guest_files(&files) < 0)
		exit();
	before = sys_page_free_count();
	if ((guest = sys_env_mkguest(gphysz, GUEST_BOOT_PA)) < 0) {
		complain(guest, "sys_env_mkguest");
		if (guest == -E_NO_VMX || guest == -E_NO_EPT)
			printf("vmm: guests run under make qemu-nox (QEMU: "
			       "AMD-V) and make bochs-nox (Bochs: VT-x)\n");
		exit();
	}
	if ((r = sys_vmm_ctl(VMMCTL_SETUP, guest, &setup, sizeof(setup))) < 0) {
		say_refused(r, &setup);
		give_up(guest);
	}
	sys_vmm_ctl(VMMCTL_INFO, guest, &info, sizeof(info));
	printf("vmm: guest %08x is %s, disk %s\n", guest, info.name,
	       info.disk);
	if (copy_guest_kern_gpa(guest, &files, gphysz) < 0 ||
	    copy_guest_boot(guest, &files) < 0 ||
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
	/* In the foreground from its first byte of output on. */
	if (!background &&
	    (r = sys_vmm_ctl(VMMCTL_ATTACH, guest, NULL, 0)) < 0) {
		complain(r, "attach");
		give_up(guest);
	}
	if ((r = sys_env_set_status(guest, ENV_RUNNABLE)) < 0) {
		complain(r, "sys_env_set_status");
		give_up(guest);
	}
	if (background) {
		say_left(guest, info.name, VMM_STATE_BACKGROUND);
		exit();
	}
	if ((st = vmm_follow(guest)) != 0) {
		say_left(guest, info.name, st);
		exit();
	}
	after = sys_page_free_count();
	printf("vmm: guest %08x exited; free pages: %ld before, %ld after\n",
	       guest, before, after);
	if (after < before)
		printf("vmm: not a leak: each CPU keeps pages from its "
		       "first guest on (VT-x: its VMXON region; AMD-V: its "
		       "host save and host VMSAVE areas), the "
		       "host file server caches up to %d disk blocks, and it "
		       "keeps a guest's %d-page bulk window until its next "
		       "request when the guest ended without a sync\n",
		       HOST_FS_CACHE_BLOCKS, FSBULK_PAGES);
}
