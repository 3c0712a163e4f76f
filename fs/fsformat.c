/*
 * fsformat: make or check a JOS file-system image (format: inc/fs.h).
 * It runs on the build host (Linux), built with the host's compiler and
 * headers: the one program here that is not a JOS program.
 *
 *   fsformat IMAGE NBLOCKS [ITEM...]    make IMAGE with NBLOCKS blocks
 *       -d /DIR            an empty directory
 *       /PATH=HOSTFILE     a file holding HOSTFILE's bytes
 *       HOSTFILE           the same as /BASENAME=HOSTFILE
 *     Missing parent directories are made as needed.
 *   fsformat -c IMAGE                   check IMAGE, list its files
 *   fsformat -x IMAGE /PATH             copy a file of IMAGE to stdout
 *
 * Invariants:
 *  - The image is NBLOCKS blocks padded to whole disk cylinders (16
 *    heads x 63 sectors), since Bochs takes only exact geometries; the
 *    padding lies past s_nblocks and is never used.
 *  - The image is sparse: only the blocks written here take host disk
 *    space, so even a large image is quick to make. Blocks of zeros in a
 *    host file become holes.
 *  - Blocks are handed out in order, so fsformat never frees one; every
 *    block that a File points to is marked in use in the bitmap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define JOS_HOST_TOOL
#define PGSIZE 4096
#include <inc/fs.h>

/* Bytes in one cylinder of the 16-head, 63-sectors-per-track geometry. */
#define CYLBYTES (16 * 63 * 512)
/* The largest disk the server can map (fs/fs.h DISKSIZE). */
#define MAX_NBLOCKS (0xC0000000UL / BLKSIZE)
/* Bits in one word of the bitmap. */
#define WORDBITS 32
/* How deep -c follows directories before calling the tree a loop. */
#define MAX_DEPTH 64

static const char *image_name;
static uint8_t *disk;
static uint32_t nblocks;
static struct Super *sup;
static uint32_t *bitmap;
static uint32_t nextb; /* the next block to hand out */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fsformat: %s: ", image_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *blockaddr(uint32_t b)
{
	if (b == 0 || b >= nblocks)
		die("block %u out of range", b);
	return disk + (size_t)b * BLKSIZE;
}

static bool bit_is_free(uint32_t b)
{
	return (bitmap[b / WORDBITS] >> (b % WORDBITS)) & 1;
}

/* A new zeroed block, marked in use. */
static uint32_t alloc_block(void)
{
	uint32_t b;

	if (nextb >= nblocks)
		die("disk full (%u blocks)", nblocks);
	b = nextb++;
	bitmap[b / WORDBITS] &= ~(1U << (b % WORDBITS));
	return b;
}

/* The slot holding the disk block of f's block fbn; makes tables. */
static uint32_t *file_slot(struct File *f, uint64_t fbn)
{
	uint32_t *tab;

	if (fbn < NDIRECT)
		return &f->f_direct[fbn];
	fbn -= NDIRECT;
	if (fbn < NINDIRECT) {
		if (!f->f_indirect)
			f->f_indirect = alloc_block();
		return (uint32_t *)blockaddr(f->f_indirect) + fbn;
	}
	fbn -= NINDIRECT;
	if (fbn >= NDINDIRECT)
		die("file %s is too large", f->f_name);
	if (!f->f_dindirect)
		f->f_dindirect = alloc_block();
	tab = (uint32_t *)blockaddr(f->f_dindirect) + fbn / NINDIRECT;
	if (!*tab)
		*tab = alloc_block();
	return (uint32_t *)blockaddr(*tab) + fbn % NINDIRECT;
}

/* f's block fbn, allocated if it is not there yet. */
static void *file_block(struct File *f, uint64_t fbn)
{
	uint32_t *slot = file_slot(f, fbn);

	if (!*slot)
		*slot = alloc_block();
	return blockaddr(*slot);
}

/* A new entry called name in dir (which holds no entry of that name). */
static struct File *dir_add(struct File *dir, const char *name)
{
	uint64_t i, nblock = dir->f_size / BLKSIZE;
	struct File *f;
	int j;

	if (strlen(name) >= MAXNAMELEN || !name[0])
		die("bad file name '%s'", name);
	for (i = 0; i < nblock; i++) {
		f = file_block(dir, i);
		for (j = 0; j < BLKFILES; j++)
			if (!f[j].f_name[0])
				goto found;
	}
	f = file_block(dir, nblock);
	j = 0;
	dir->f_size += BLKSIZE;
found:
	strcpy(f[j].f_name, name);
	return &f[j];
}

static struct File *dir_find(struct File *dir, const char *name)
{
	uint64_t i, nblock = dir->f_size / BLKSIZE;
	struct File *f;
	int j;

	for (i = 0; i < nblock; i++) {
		f = file_block(dir, i);
		for (j = 0; j < BLKFILES; j++)
			if (f[j].f_name[0] && strcmp(f[j].f_name, name) == 0)
				return &f[j];
	}
	return NULL;
}

/*
 * The file at path, made (with missing parent directories) if it does
 * not exist yet; type is what the last element must be.
 */
static struct File *make_path(const char *path, uint32_t type)
{
	char buf[MAXPATHLEN], *name, *next;
	struct File *dir = &sup->s_root, *f = dir;

	if (strlen(path) >= sizeof(buf))
		die("path too long: %s", path);
	strcpy(buf, path);
	for (name = buf; name; name = next) {
		while (*name == '/')
			name++;
		if (!*name)
			break;
		if ((next = strchr(name, '/')))
			*next++ = 0;
		if (dir->f_type != FTYPE_DIR)
			die("%s: %s is not a directory", path, dir->f_name);
		if (!(f = dir_find(dir, name))) {
			f = dir_add(dir, name);
			f->f_type = (next && *next) ? FTYPE_DIR : type;
		}
		dir = f;
	}
	if (f->f_type != type)
		die("%s: exists with the wrong type", path);
	return f;
}

/* Copy the host file src into the image as path. */
static void add_file(const char *path, const char *src)
{
	static uint8_t buf[BLKSIZE], zero[BLKSIZE];
	struct File *f = make_path(path, FTYPE_REG);
	uint64_t fbn;
	ssize_t n;
	int fd;

	if (f->f_size)
		die("%s is named twice", path);
	if ((fd = open(src, O_RDONLY)) < 0)
		die("open %s: %s", src, strerror(errno));
	for (fbn = 0;; fbn++) {
		memset(buf, 0, sizeof(buf));
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			die("read %s: %s", src, strerror(errno));
		if (n == 0)
			break;
		if (memcmp(buf, zero, sizeof(buf)) != 0)
			memcpy(file_block(f, fbn), buf, sizeof(buf));
		f->f_size += n;
		if (n < (ssize_t)sizeof(buf))
			break;
	}
	close(fd);
}

/* Map image_name (made with size bytes, if create) as the disk. */
static void open_image(bool create, off_t size)
{
	int fd;
	struct stat st;

	fd = open(image_name, create ? O_RDWR | O_CREAT | O_TRUNC : O_RDONLY,
		  0666);
	if (fd < 0)
		die("open: %s", strerror(errno));
	if (create && ftruncate(fd, size) < 0)
		die("ftruncate: %s", strerror(errno));
	if (fstat(fd, &st) < 0)
		die("stat: %s", strerror(errno));
	if (st.st_size < 2 * BLKSIZE)
		die("too small to hold a file system");
	disk = mmap(NULL, st.st_size, PROT_READ | (create ? PROT_WRITE : 0),
		    MAP_SHARED, fd, 0);
	if (disk == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	close(fd);
	sup = (struct Super *)(disk + (size_t)SUPER_BLOCKNO * BLKSIZE);
	bitmap = (uint32_t *)(disk + (size_t)BITMAP_BLOCKNO * BLKSIZE);
	if (!create && (uint64_t)st.st_size / BLKSIZE < sup->s_nblocks)
		die("image is smaller than its s_nblocks");
}

static void make_image(uint32_t n)
{
	uint64_t bytes = (uint64_t)n * BLKSIZE;
	uint32_t b, nbitmap = NBITMAPBLOCKS(n);

	nblocks = n;
	if (n > MAX_NBLOCKS || n < BITMAP_BLOCKNO + nbitmap + 1)
		die("bad block count %u", n);
	open_image(true, (bytes + CYLBYTES - 1) / CYLBYTES * CYLBYTES);
	/* Every block free, then the reserved ones in use. */
	for (b = 0; b < n; b++)
		bitmap[b / WORDBITS] |= 1U << (b % WORDBITS);
	nextb = 0;
	while (nextb < BITMAP_BLOCKNO + nbitmap)
		alloc_block();
	sup->s_magic = FS_MAGIC;
	sup->s_nblocks = n;
	strcpy(sup->s_root.f_name, "/");
	sup->s_root.f_type = FTYPE_DIR;
}

/* ---- -c: check an image -------------------------------------------------- */

static uint8_t *seen; /* blocks some File holds */
static int nerrors, nfiles, ndirs;
static uint64_t nused;

static void complain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fsformat: %s: ", image_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	nerrors++;
}

/* Record that path holds block b; false if b cannot be followed. */
static bool claim(const char *path, uint32_t b)
{
	if (b < BITMAP_BLOCKNO + NBITMAPBLOCKS(nblocks) || b >= nblocks) {
		complain("%s: bad block number %u", path, b);
		return false;
	}
	if (seen[b]) {
		complain("%s: block %u is used twice", path, b);
		return false;
	}
	if (bit_is_free(b))
		complain("%s: block %u is marked free", path, b);
	seen[b] = 1;
	nused++;
	return true;
}

/* Claim the tree at b (depth as in fs.c's free_tree); count blocks. */
static void claim_tree(const char *path, uint32_t b, int depth)
{
	uint32_t *tab;
	int i;

	if (b == 0 || !claim(path, b) || depth == 0)
		return;
	tab = blockaddr(b);
	for (i = 0; i < NINDIRECT; i++)
		claim_tree(path, tab[i], depth - 1);
}

/* The disk block of f's block fbn, or 0; makes nothing (for -c). */
static uint32_t peek_block(struct File *f, uint64_t fbn)
{
	uint32_t t;

	if (fbn < NDIRECT)
		t = f->f_direct[fbn];
	else if ((fbn -= NDIRECT) < NINDIRECT)
		t = f->f_indirect && f->f_indirect < nblocks
			    ? ((uint32_t *)blockaddr(f->f_indirect))[fbn]
			    : 0;
	else if ((fbn -= NINDIRECT) < NDINDIRECT && f->f_dindirect &&
		 f->f_dindirect < nblocks &&
		 (t = ((uint32_t *)blockaddr(f->f_dindirect))[fbn / NINDIRECT]))
		t = t < nblocks ? ((uint32_t *)blockaddr(t))[fbn % NINDIRECT]
				: 0;
	else
		t = 0;
	return t < nblocks ? t : 0;
}

static void check_file(const char *path, struct File *f, int depth);

static void check_dir(const char *path, struct File *dir, int depth)
{
	char child[MAXPATHLEN + MAXNAMELEN];
	uint64_t i, nblock = dir->f_size / BLKSIZE;
	struct File *f;
	uint32_t b;
	int j;

	if (dir->f_size % BLKSIZE)
		complain("%s: directory size %ld", path, (long)dir->f_size);
	if (depth > MAX_DEPTH) {
		complain("%s: directories nest too deep", path);
		return;
	}
	for (i = 0; i < nblock; i++) {
		if (!(b = peek_block(dir, i)))
			continue;
		f = blockaddr(b);
		for (j = 0; j < BLKFILES; j++) {
			if (!f[j].f_name[0])
				continue;
			if (strnlen(f[j].f_name, MAXNAMELEN) == MAXNAMELEN ||
			    strchr(f[j].f_name, '/')) {
				complain("%s: bad name in entry %d", path, j);
				continue;
			}
			snprintf(child, sizeof(child), "%s%s%s", path,
				 depth ? "/" : "", f[j].f_name);
			check_file(child, &f[j], depth + 1);
		}
	}
}

static void check_file(const char *path, struct File *f, int depth)
{
	int i;

	if (f->f_size < 0 || f->f_size > MAXFILESIZE)
		complain("%s: bad size %ld", path, (long)f->f_size);
	for (i = 0; i < NDIRECT; i++)
		claim_tree(path, f->f_direct[i], 0);
	claim_tree(path, f->f_indirect, 1);
	claim_tree(path, f->f_dindirect, 2);
	printf("%s %10ld %s\n", f->f_type == FTYPE_DIR ? "d" : "-",
	       (long)f->f_size, path);
	if (f->f_type == FTYPE_DIR) {
		ndirs++;
		check_dir(path, f, depth);
	} else if (f->f_type == FTYPE_REG) {
		nfiles++;
	} else {
		complain("%s: bad type %u", path, f->f_type);
	}
}

static int check_image(void)
{
	uint32_t b, first;
	uint64_t leaked = 0;

	open_image(false, 0);
	if (sup->s_magic != FS_MAGIC)
		die("bad magic %08x", sup->s_magic);
	nblocks = sup->s_nblocks;
	if (nblocks > MAX_NBLOCKS ||
	    nblocks <= BITMAP_BLOCKNO + NBITMAPBLOCKS(nblocks))
		die("bad block count %u", nblocks);
	first = BITMAP_BLOCKNO + NBITMAPBLOCKS(nblocks);
	if (!(seen = calloc(nblocks, 1)))
		die("out of memory");
	for (b = 0; b < first; b++)
		if (bit_is_free(b))
			complain("reserved block %u is marked free", b);
	check_file("/", &sup->s_root, 0);
	for (b = first; b < nblocks; b++)
		if (!seen[b] && !bit_is_free(b))
			leaked++;
	if (leaked)
		complain("%lu blocks are in use but in no file",
			 (unsigned long)leaked);
	printf("%d files, %d directories, %lu of %u blocks in use: %s\n",
	       nfiles, ndirs, (unsigned long)(nused + first), nblocks,
	       nerrors ? "ERRORS" : "OK");
	return nerrors ? 1 : 0;
}

/* Copy the file at path in the image to standard output. */
static int extract(const char *path)
{
	char buf[MAXPATHLEN], *name, *next;
	struct File *f = NULL, *dir, *e;
	uint64_t fbn, nblock, i;
	static const uint8_t zero[BLKSIZE];
	uint32_t b;
	off_t left;
	int j;

	open_image(false, 0);
	nblocks = sup->s_nblocks;
	if (sup->s_magic != FS_MAGIC || nblocks > MAX_NBLOCKS)
		die("not a JOS file system");
	dir = &sup->s_root;
	snprintf(buf, sizeof(buf), "%s", path);
	for (name = buf; name; name = next, dir = f) {
		while (*name == '/')
			name++;
		if (!*name)
			break;
		if ((next = strchr(name, '/')))
			*next++ = 0;
		nblock = dir->f_type == FTYPE_DIR ? dir->f_size / BLKSIZE : 0;
		for (f = NULL, i = 0; i < nblock && !f; i++) {
			if (!(b = peek_block(dir, i)))
				continue;
			e = blockaddr(b);
			for (j = 0; j < BLKFILES && !f; j++)
				if (e[j].f_name[0] &&
				    strncmp(e[j].f_name, name, MAXNAMELEN) == 0)
					f = &e[j];
		}
		if (!f)
			die("%s: no such file", path);
	}
	f = dir;
	for (fbn = 0, left = f->f_size; left > 0; fbn++, left -= BLKSIZE) {
		b = peek_block(f, fbn);
		fwrite(b ? blockaddr(b) : zero, 1,
		       left < BLKSIZE ? (size_t)left : BLKSIZE, stdout);
	}
	return ferror(stdout) ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: fsformat IMAGE NBLOCKS [-d /DIR | "
			"/PATH=HOSTFILE | HOSTFILE]...\n"
			"       fsformat -c IMAGE\n"
			"       fsformat -x IMAGE /PATH\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char *end, *eq, path[MAXPATHLEN];
	unsigned long n;
	int i;

	if (argc == 3 && strcmp(argv[1], "-c") == 0) {
		image_name = argv[2];
		return check_image();
	}
	if (argc == 4 && strcmp(argv[1], "-x") == 0) {
		image_name = argv[2];
		return extract(argv[3]);
	}
	if (argc < 3)
		usage();
	image_name = argv[1];
	n = strtoul(argv[2], &end, 0);
	if (*end || n == 0 || n > MAX_NBLOCKS)
		usage();
	make_image(n);
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0) {
			if (++i == argc)
				usage();
			make_path(argv[i], FTYPE_DIR);
		} else if ((eq = strchr(argv[i], '='))) {
			snprintf(path, sizeof(path), "%.*s",
				 (int)(eq - argv[i]), argv[i]);
			add_file(path, eq + 1);
		} else {
			end = strrchr(argv[i], '/');
			add_file(end ? end + 1 : argv[i], argv[i]);
		}
	}
	if (msync(disk, (size_t)nblocks * BLKSIZE, MS_SYNC) < 0)
		die("msync: %s", strerror(errno));
	return 0;
}
