/*
 * The multiboot (v1) loader of `vmm -k KERNEL [-a CMDLINE] [-M MODULE]...`,
 * as the Multiboot Specification 0.6.96 defines it (3.1 the OS image
 * header, 3.2 machine state, 3.3 boot information): the kernel's
 * segments, each module page-aligned after the kernel, the boot
 * information with mem_lower/mem_upper, the memory map, the command line
 * ("KERNEL CMDLINE", as QEMU's -kernel/-append passes it) and the
 * modules, and the boot stub (mbstub.S) at GUEST_BOOT_PA, all staged
 * with gmem_ptr.
 *
 * Invariants:
 * - Everything the kernel file or a module says (offsets, sizes,
 *   addresses) is checked against the file's size and guest RAM before
 *   a byte is written; a bad file is refused with one line naming it.
 * - The loader's own data sits below GUEST_BOOT_PA's page + LOW_END, in
 *   low RAM; kernel segments must lie in RAM from 1 MiB up.
 * - The memory map and mem_lower call RAM usable only below the EBDA
 *   (FW_EBDA_PA): [FW_EBDA_PA, 1 MiB) is reserved.
 */
#include <inc/lib.h>
#include <inc/vmx.h>
#include <inc/multiboot.h>
#include <inc/elf.h>
#include <vmmdev/dev.h>
#include <vmmdev/pc.h>
#include <vmmdev/fwtables.h>

/* The OS image header (3.1.1): in the first 8 KiB, 4-byte aligned. */
#define MBH_MAGIC 0x1BADB002
#define MBH_SEARCH 8192
#define MBH_PAGE_ALIGN (1U << 0)
#define MBH_MEMINFO (1U << 1)
#define MBH_VIDEO (1U << 2)
#define MBH_ADDRS (1U << 16)
/* Bits 0-15 the loader must honour: the three above. */
#define MBH_REQUIRED_MASK 0xFFFF
#define MBH_KNOWN (MBH_PAGE_ALIGN | MBH_MEMINFO | MBH_VIDEO)

struct mb_header {
	uint32_t magic, flags, checksum;
	/* With MBH_ADDRS (3.1.3). */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
	uint32_t entry_addr;
};

/* multiboot_info.flags the header file lacks (3.3). */
#define MB_FLAG_MODS 0x008

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
};

/* ELF32 (System V ABI, i386 supplement): what the loader reads. */
#define ELF_CLASS32 1
#define EM_386 3
#define PT_LOAD 1

struct elf32_hdr {
	uint32_t magic;
	uint8_t ident[12];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

/* Where the loader puts its own data, in low RAM after the stub. */
#define MBI_PA 0x8000
#define MMAP_PA 0x8100
#define MODS_PA 0x8200
#define CMDLINE_PA 0x8400
#define CMDLINE_MAX 1024
#define MODSTR_PA (CMDLINE_PA + CMDLINE_MAX)
#define MODSTR_MAX 128
#define LOW_END (MODSTR_PA + PC_MODS_MAX * MODSTR_MAX)
#define MMAP_ENTRIES 3

static_assert(LOW_END <= FW_EBDA_PA);
static_assert(MODS_PA + PC_MODS_MAX * sizeof(struct mb_module) <= CMDLINE_PA);
static_assert(MMAP_PA + MMAP_ENTRIES * MB_MMAP_ENTRY_SIZE <= MODS_PA);

extern const uint8_t mbstub_start[], mbstub_end[], mbstub_entry[],
	mbstub_mbi[];
extern const uint32_t mbstub_pa;

static uint8_t head[MBH_SEARCH];

static int bad(const char *path, const char *why)
{
	printf("vmm: %s: %s\n", path, why);
	return -E_NOT_EXEC;
}

/* Read [off, off + n) of fd into guest-physical gpa. */
static int file_to_guest(int fd, const char *path, uint32_t off, uint32_t n,
			 uint64_t gpa)
{
	void *dst = gmem_ptr(gpa, n);
	int r;

	if (n == 0)
		return 0;
	if (!dst)
		return bad(path, "a part lies outside guest RAM");
	if ((r = seek(fd, off)) < 0 || (r = readn(fd, dst, n)) != (int)n)
		return bad(path, "short read");
	return 0;
}

/* Zero guest [gpa, gpa + n): a bss (staged pages start zeroed, but a
 * page may hold file bytes of another segment). */
static int zero_guest(uint64_t gpa, uint64_t n)
{
	void *p;

	if (n == 0)
		return 0;
	if (!(p = gmem_ptr(gpa, n)))
		return -E_INVAL;
	memset(p, 0, n);
	return 0;
}

static const struct mb_header *find_header(size_t len)
{
	size_t off;

	for (off = 0; off + 3 * sizeof(uint32_t) <= len; off += 4) {
		const struct mb_header *h = (const void *)(head + off);

		if (h->magic == MBH_MAGIC &&
		    h->magic + h->flags + h->checksum == 0)
			return h;
	}
	return NULL;
}

/* The a.out kludge (3.1.3): the header's own address fields. */
static int load_addrs(int fd, const char *path, const struct mb_header *h,
		      size_t hoff, size_t fsize, uint32_t *entry, uint64_t *end)
{
	uint32_t start, n, bss_end;

	if (hoff + sizeof(*h) > MBH_SEARCH || h->load_addr > h->header_addr ||
	    h->header_addr - h->load_addr > hoff)
		return bad(path, "bad multiboot address fields");
	start = hoff - (h->header_addr - h->load_addr);
	n = h->load_end_addr ? h->load_end_addr - h->load_addr
			     : fsize - start;
	if (h->load_end_addr && h->load_end_addr < h->load_addr)
		return bad(path, "load_end_addr below load_addr");
	if (n > fsize - start)
		return bad(path, "load_end_addr past the file's end");
	bss_end = h->bss_end_addr ? h->bss_end_addr : h->load_addr + n;
	if (bss_end < h->load_addr + n || h->load_addr < GUEST_HIGHMEM_START)
		return bad(path, "bad load or bss address");
	if (file_to_guest(fd, path, start, n, h->load_addr) < 0 ||
	    zero_guest(h->load_addr + n, bss_end - (h->load_addr + n)) < 0)
		return bad(path, "does not fit in guest RAM");
	*entry = h->entry_addr;
	*end = bss_end;
	return 0;
}

static int load_segment(int fd, const char *path, const struct elf32_phdr *ph,
			size_t fsize, uint64_t *end)
{
	if (ph->filesz > ph->memsz || ph->offset > fsize ||
	    ph->filesz > fsize - ph->offset)
		return bad(path, "an ELF segment runs past the file's end");
	if (ph->paddr < GUEST_HIGHMEM_START ||
	    (uint64_t)ph->paddr + ph->memsz > gmem_size())
		return bad(path, "an ELF segment lies outside guest RAM from "
			   "1 MiB");
	if (file_to_guest(fd, path, ph->offset, ph->filesz, ph->paddr) < 0 ||
	    zero_guest(ph->paddr + ph->filesz, ph->memsz - ph->filesz) < 0)
		return -E_INVAL;
	*end = MAX(*end, (uint64_t)ph->paddr + ph->memsz);
	return 0;
}

/* An ELF32 kernel: each PT_LOAD at its physical address. */
static int load_elf(int fd, const char *path, size_t len, size_t fsize,
		    uint32_t *entry, uint64_t *end)
{
	const struct elf32_hdr *eh = (const void *)head;
	struct elf32_phdr ph;
	int i, r;

	if (len < sizeof(*eh) || eh->magic != ELF_MAGIC ||
	    eh->ident[0] != ELF_CLASS32 || eh->machine != EM_386 ||
	    eh->phentsize != sizeof(ph))
		return bad(path, "not a 32-bit x86 ELF file, and no multiboot "
			   "address fields");
	for (i = 0; i < eh->phnum; i++) {
		if ((r = seek(fd, eh->phoff + i * sizeof(ph))) < 0 ||
		    readn(fd, &ph, sizeof(ph)) != sizeof(ph))
			return bad(path, "program headers past the file's end");
		if (ph.type == PT_LOAD && ph.memsz &&
		    (r = load_segment(fd, path, &ph, fsize, end)) < 0)
			return r;
	}
	*entry = eh->entry;
	return 0;
}

static int open_file(const char *path, size_t *size)
{
	struct Stat st;
	int fd, r;

	if ((fd = open(path, O_RDONLY)) < 0) {
		printf("vmm: %s: %e\n", path, fd);
		return fd;
	}
	if ((r = fstat(fd, &st)) < 0 || st.st_isdir || st.st_size <= 0) {
		close(fd);
		return bad(path, "not a file with something in it");
	}
	*size = st.st_size;
	return fd;
}

static int load_kernel(const char *path, uint32_t *entry, uint64_t *end)
{
	const struct mb_header *h;
	size_t fsize, len;
	int fd, r;

	if ((fd = open_file(path, &fsize)) < 0)
		return fd;
	len = MIN(fsize, sizeof(head));
	if (readn(fd, head, len) != (int)len) {
		close(fd);
		return bad(path, "short read");
	}
	if (!(h = find_header(len)))
		r = bad(path, "no multiboot header in the first 8 KiB");
	else if (h->flags & MBH_REQUIRED_MASK & ~MBH_KNOWN)
		r = bad(path, "asks for multiboot features we lack");
	else if (h->flags & MBH_ADDRS)
		r = load_addrs(fd, path, h, (const uint8_t *)h - head, fsize,
			       entry, end);
	else
		r = load_elf(fd, path, len, fsize, entry, end);
	close(fd);
	return r;
}

/* Module i (a whole file) at the next page from *end. */
static int load_module(int i, const char *path, uint64_t *end,
		       struct mb_module *m)
{
	uint64_t at = ROUNDUP(*end, PGSIZE);
	char *name;
	size_t fsize;
	int fd, r;

	if ((fd = open_file(path, &fsize)) < 0)
		return fd;
	r = at + fsize > gmem_size()
		    ? bad(path, "module does not fit in guest RAM")
		    : file_to_guest(fd, path, 0, fsize, at);
	close(fd);
	if (r < 0)
		return r;
	name = gmem_ptr(MODSTR_PA + i * MODSTR_MAX, MODSTR_MAX);
	strncpy(name, path, MODSTR_MAX - 1);
	m->mod_start = at;
	m->mod_end = at + fsize;
	m->string = MODSTR_PA + i * MODSTR_MAX;
	*end = at + fsize;
	return 0;
}

static void mmap_entry(struct memory_map *m, uint64_t base, uint64_t len,
		       uint32_t type)
{
	m->size = MB_MMAP_ENTRY_SIZE - sizeof(m->size);
	m->base_addr = base;
	m->length = len;
	m->type = type;
}

/* The boot information (3.3), its memory map and command line. */
static int write_info(const struct pc_opts *o, int nmods)
{
	struct multiboot_info *mbi = gmem_ptr(MBI_PA, sizeof(*mbi));
	struct memory_map *mm = gmem_ptr(MMAP_PA, MMAP_ENTRIES * sizeof(*mm));
	char *line = gmem_ptr(CMDLINE_PA, CMDLINE_MAX);

	if (!mbi || !mm || !line)
		return -E_NO_MEM;
	if (strlen(o->kernel) + 1 + (o->cmdline ? strlen(o->cmdline) : 0) >=
	    CMDLINE_MAX)
		return bad(o->kernel, "command line too long");
	snprintf(line, CMDLINE_MAX, "%s%s%s", o->kernel,
		 o->cmdline ? " " : "", o->cmdline ? o->cmdline : "");
	/* Low RAM ends at the EBDA (the MP and ACPI tables, fwtables.c):
	 * a kernel that took it for RAM would overwrite its own tables. */
	mmap_entry(&mm[0], 0, FW_EBDA_PA, MB_TYPE_USABLE);
	mmap_entry(&mm[1], FW_EBDA_PA, GUEST_HIGHMEM_START - FW_EBDA_PA,
		   MB_TYPE_RESERVED);
	mmap_entry(&mm[2], GUEST_HIGHMEM_START,
		   gmem_size() - GUEST_HIGHMEM_START, MB_TYPE_USABLE);
	memset(mbi, 0, sizeof(*mbi));
	mbi->flags = MB_FLAG_MEM | MB_FLAG_MMAP | MB_FLAG_CMDLINE |
		     MB_FLAG_MODS;
	mbi->mem_lower = FW_EBDA_PA / 1024;
	mbi->mem_upper = (gmem_size() - GUEST_HIGHMEM_START) / 1024;
	mbi->cmdline = CMDLINE_PA;
	mbi->mods_count = nmods;
	mbi->mods_addr = MODS_PA;
	mbi->mmap_addr = MMAP_PA;
	mbi->mmap_length = MMAP_ENTRIES * sizeof(*mm);
	return 0;
}

/* The stub, with the entry and the information's address filled in. */
static int write_stub(uint32_t entry)
{
	size_t n = mbstub_end - mbstub_start;
	uint8_t *p = gmem_ptr(GUEST_BOOT_PA, n);
	uint32_t mbi = MBI_PA;

	if (!p)
		return -E_NO_MEM;
	memcpy(p, mbstub_start, n);
	memcpy(p + (mbstub_entry - mbstub_start), &entry, sizeof(entry));
	memcpy(p + (mbstub_mbi - mbstub_start), &mbi, sizeof(mbi));
	return 0;
}

int mboot_load(const struct pc_opts *o)
{
	struct mb_module *mods = gmem_ptr(MODS_PA, PC_MODS_MAX *
						   sizeof(struct mb_module));
	uint64_t end = GUEST_HIGHMEM_START;
	uint32_t entry = 0;
	int i, r;

	static_assert(GUEST_BOOT_PA + 512 <= MBI_PA);
	if (!mods || mbstub_end - mbstub_start > 512 ||
	    mbstub_pa != GUEST_BOOT_PA)
		return bad(o->kernel, "the boot stub does not fit (mbstub.S)");
	if ((r = load_kernel(o->kernel, &entry, &end)) < 0)
		return r;
	for (i = 0; i < o->nmods; i++)
		if ((r = load_module(i, o->mods[i], &end, &mods[i])) < 0)
			return r;
	if ((r = write_info(o, o->nmods)) < 0 || (r = write_stub(entry)) < 0)
		return r;
	printf("vmm: multiboot kernel %s: entry 0x%x, %d module%s, loaded "
	       "up to 0x%lx\n", o->kernel, entry, o->nmods,
	       o->nmods == 1 ? "" : "s", (unsigned long)end);
	return 0;
}
