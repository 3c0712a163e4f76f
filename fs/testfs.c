/*
 * testfs: tests the file-system server by speaking its IPC protocol
 * (inc/fs.h) directly, with no descriptor layer in between: reading the
 * files fsformat put on the disk, writing, truncating, a file of more
 * than 64 MiB (double-indirect blocks), directories, and a long list of
 * malformed requests, after each of which the server must still work.
 * Run it beside the server: `make run-fs+testfs-nox`.
 *
 * Invariants: every file it makes it removes again, and it ends with a
 * sync, so the disk is left as it was found (`fsformat -c` finds no lost
 * blocks). Any failure panics; success prints "testfs: all tests passed".
 */
#include <inc/lib.h>
#include <inc/fd.h>

/* Where the Fd pages of the files this test opens are mapped. */
#define FD_VA 0xD0000000UL
#define FDPAGE(i) ((struct Fd *)(FD_VA + (uintptr_t)(i) * PGSIZE))
/* A page the test maps read-only, to send as a request page. */
#define RO_VA ((void *)0xCF000000UL)
/* The server's limit on open files (inc/fs.h). */
#define MAXOPEN FSOPEN_MAX
/* Files in a directory made to span several directory blocks. */
#define NDIRFILES (3 * BLKFILES + 1)
/* Size of the pattern file written, read back and truncated. */
#define PATTERN_SIZE 10000
/* Bytes streamed through the server by test_stream. */
#define STREAM_SIZE (4 << 20)
/* A length that is not a multiple of anything in the file system. */
#define ODD_CHUNK 3001

static union Fsipc fsipcbuf __attribute__((aligned(PGSIZE)));
static envid_t fsenv;
static char buf[4 * PGSIZE], buf2[4 * PGSIZE];

#define EXPECT(expr, want)                                                   \
	do {                                                                 \
		int64_t _got = (int64_t)(expr), _want = (int64_t)(want);     \
		if (_got != _want)                                           \
			panic("%s: got %ld (%e), want %ld (%e)", #expr,      \
			      (long)_got, (int)_got, (long)_want,            \
			      (int)_want);                                   \
	} while (0)

/* Send request type with fsipcbuf; the reply page (if any) goes to dst. */
static int fsipc(uint64_t type, void *dstva)
{
	volatile char *touch = fsipcbuf._pad;

	/* After a fork the page is copy-on-write, so read-only: a write
	 * makes it this env's own, which the kernel lets us send writable. */
	*touch = *touch;
	ipc_send(fsenv, type, &fsipcbuf, PTE_P | PTE_W | PTE_U);
	return ipc_recv(NULL, dstva, NULL);
}

static int fs_open(const char *path, int omode, struct Fd *fd)
{
	int r;

	strcpy(fsipcbuf.open.req_path, path);
	fsipcbuf.open.req_omode = omode;
	if ((r = fsipc(FSREQ_OPEN, fd)) < 0)
		return r;
	if (!(uvpt[PGNUM(fd)] & PTE_P) || fd->fd_dev_id != DEVID_FILE)
		panic("open %s: no Fd page came back", path);
	return r;
}

static int fs_flush_id(int id)
{
	fsipcbuf.flush.req_fileid = id;
	return fsipc(FSREQ_FLUSH, NULL);
}

/* Close as the library will: flush, then drop the Fd page. */
static void fs_close(struct Fd *fd)
{
	EXPECT(fs_flush_id(fd->fd_file.id), 0);
	EXPECT(sys_page_unmap(0, fd), 0);
}

static ssize_t fs_read_id(int id, void *dst, size_t n)
{
	int r;

	fsipcbuf.read.req_fileid = id;
	fsipcbuf.read.req_n = n;
	if ((r = fsipc(FSREQ_READ, NULL)) > 0)
		memmove(dst, fsipcbuf.readRet.ret_buf, r);
	return r;
}

/* Read n bytes at fd's offset, a page at a time; the total, or error. */
static ssize_t fs_read(struct Fd *fd, void *dst, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = fs_read_id(fd->fd_file.id, (char *)dst + done,
			       MIN(n - done, (size_t)PGSIZE));
		if (r < 0)
			return r;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

static ssize_t fs_write_id(int id, const void *src, size_t n)
{
	fsipcbuf.write.req_fileid = id;
	fsipcbuf.write.req_n = n;
	memmove(fsipcbuf.write.req_buf, src,
		MIN(n, sizeof(fsipcbuf.write.req_buf)));
	return fsipc(FSREQ_WRITE, NULL);
}

/* Write all n bytes at fd's offset, in as many requests as it takes. */
static ssize_t fs_write(struct Fd *fd, const void *src, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = fs_write_id(fd->fd_file.id, (const char *)src + done,
				MIN(n - done, (size_t)FSWRITE_MAXBUF));
		if (r <= 0)
			return r ? r : -E_UNSPECIFIED;
		done += r;
	}
	return done;
}

static int fs_set_size_id(int id, off_t size)
{
	fsipcbuf.set_size.req_fileid = id;
	fsipcbuf.set_size.req_size = size;
	return fsipc(FSREQ_SET_SIZE, NULL);
}

static int fs_stat_id(int id, struct Stat *st)
{
	int r;

	fsipcbuf.stat.req_fileid = id;
	if ((r = fsipc(FSREQ_STAT, NULL)) < 0)
		return r;
	strcpy(st->st_name, fsipcbuf.statRet.ret_name);
	st->st_size = fsipcbuf.statRet.ret_size;
	st->st_isdir = fsipcbuf.statRet.ret_isdir;
	return 0;
}

static int fs_remove(const char *path)
{
	strcpy(fsipcbuf.remove.req_path, path);
	return fsipc(FSREQ_REMOVE, NULL);
}

static int fs_sync(void)
{
	return fsipc(FSREQ_SYNC, NULL);
}

/* The byte at offset i of the pattern file. */
static char pattern(off_t i)
{
	return (char)(i * 7 + i / PGSIZE);
}

/* Does s contain t? */
static bool contains(const char *s, const char *t)
{
	size_t n = strlen(t);

	for (; *s; s++)
		if (strncmp(s, t, n) == 0)
			return true;
	return false;
}

/* Does the directory open at fd hold an entry called name? */
static bool dir_has(struct Fd *fd, const char *name)
{
	struct File f;
	ssize_t r;

	fd->fd_offset = 0;
	while ((r = fs_read(fd, &f, sizeof(f))) == sizeof(f))
		if (f.f_name[0] && strcmp(f.f_name, name) == 0)
			return true;
	EXPECT(r, 0);
	return false;
}

/* The files fsformat made: contents, stat, directories. */
static void test_read(void)
{
	struct Fd *fd = FDPAGE(0);
	struct Stat st;

	EXPECT(fs_open("/motd", O_RDONLY, fd), 0);
	EXPECT(fs_stat_id(fd->fd_file.id, &st), 0);
	if (strcmp(st.st_name, "motd") != 0 || st.st_isdir || st.st_size <= 0)
		panic("stat /motd: name %s isdir %d size %ld", st.st_name,
		      st.st_isdir, (long)st.st_size);
	memset(buf, 0, sizeof(buf));
	EXPECT(fs_read(fd, buf, sizeof(buf) - 1), st.st_size);
	if (!contains(buf, "message of the day"))
		panic("/motd holds %s", buf);
	EXPECT(fs_read_id(fd->fd_file.id, buf, PGSIZE), 0);
	fs_close(fd);

	EXPECT(fs_open("/lorem", O_RDONLY, fd), 0);
	EXPECT(fs_read(fd, buf, 7), 7);
	if (memcmp(buf, "Lorem: ", 7) != 0)
		panic("/lorem starts %.7s", buf);
	fs_close(fd);

	EXPECT(fs_open("/bin/hello", O_RDONLY, fd), 0);
	EXPECT(fs_read(fd, buf, 4), 4);
	if (memcmp(buf, "\177ELF", 4) != 0)
		panic("/bin/hello is not an ELF file");
	fs_close(fd);

	EXPECT(fs_open("/", O_RDONLY, fd), 0);
	EXPECT(fs_stat_id(fd->fd_file.id, &st), 0);
	if (!st.st_isdir || st.st_size % BLKSIZE)
		panic("stat /: isdir %d size %ld", st.st_isdir,
		      (long)st.st_size);
	if (!dir_has(fd, "bin") || !dir_has(fd, "sbin") ||
	    !dir_has(fd, "vmm") || !dir_has(fd, "motd") ||
	    dir_has(fd, "nonexistent"))
		panic("the root directory lacks an entry");
	fs_close(fd);
	EXPECT(fs_open("//sbin//fs", O_RDONLY, fd), 0);
	fs_close(fd);

	EXPECT(fs_open("/nonexistent", O_RDONLY, fd), -E_NOT_FOUND);
	EXPECT(fs_open("/nodir/x", O_RDONLY | O_CREAT, fd), -E_NOT_FOUND);
	EXPECT(fs_open("/motd/x", O_RDONLY | O_CREAT, fd), -E_NOT_FOUND);
	cprintf("testfs: reading the image OK\n");
}

/* Write, read back, O_EXCL, O_TRUNC, shrink and grow. */
static void test_write(void)
{
	struct Fd *fd = FDPAGE(0), *fd2 = FDPAGE(1);
	struct Stat st;
	off_t i;

	EXPECT(fs_open("/testfs-a", O_RDWR | O_CREAT | O_EXCL, fd), 0);
	EXPECT(fs_open("/testfs-a", O_RDWR | O_CREAT | O_EXCL, fd2),
	       -E_FILE_EXISTS);
	for (i = 0; i < PATTERN_SIZE; i++)
		buf[i] = pattern(i);
	/* Odd-sized writes, so they straddle block boundaries. */
	for (i = 0; i < PATTERN_SIZE; i += ODD_CHUNK)
		EXPECT(fs_write(fd, buf + i, MIN(ODD_CHUNK, PATTERN_SIZE - i)),
		       MIN(ODD_CHUNK, PATTERN_SIZE - i));
	EXPECT(fd->fd_offset, PATTERN_SIZE);
	EXPECT(fs_stat_id(fd->fd_file.id, &st), 0);
	EXPECT(st.st_size, PATTERN_SIZE);

	/* A second open of the same file sees the data. */
	EXPECT(fs_open("/testfs-a", O_RDONLY | O_CREAT, fd2), 0);
	memset(buf2, 0, sizeof(buf2));
	EXPECT(fs_read(fd2, buf2, sizeof(buf2)), PATTERN_SIZE);
	if (memcmp(buf, buf2, PATTERN_SIZE) != 0)
		panic("read back differs from what was written");
	fs_close(fd2);

	/* Shrink: data past the end goes, the tail of the block is zero. */
	EXPECT(fs_set_size_id(fd->fd_file.id, 5000), 0);
	fd->fd_offset = 5000;
	EXPECT(fs_read_id(fd->fd_file.id, buf2, PGSIZE), 0);
	EXPECT(fs_set_size_id(fd->fd_file.id, 9000), 0);
	fd->fd_offset = 0;
	EXPECT(fs_read(fd, buf2, sizeof(buf2)), 9000);
	if (memcmp(buf, buf2, 5000) != 0)
		panic("shrinking lost data before the new end");
	for (i = 5000; i < 9000; i++)
		if (buf2[i])
			panic("byte %ld after shrink and grow is %d",
			      (long)i, buf2[i]);

	/* Grow without writing: a hole of zeros. */
	EXPECT(fs_set_size_id(fd->fd_file.id, 1 << 20), 0);
	fd->fd_offset = (1 << 19) + 17;
	EXPECT(fs_read(fd, buf2, PGSIZE), PGSIZE);
	for (i = 0; i < PGSIZE; i++)
		if (buf2[i])
			panic("a hole holds %d", buf2[i]);
	fs_close(fd);

	/* O_TRUNC empties it. */
	EXPECT(fs_open("/testfs-a", O_WRONLY | O_TRUNC, fd), 0);
	EXPECT(fs_stat_id(fd->fd_file.id, &st), 0);
	EXPECT(st.st_size, 0);
	fs_close(fd);
	EXPECT(fs_remove("/testfs-a"), 0);
	EXPECT(fs_open("/testfs-a", O_RDONLY, fd), -E_NOT_FOUND);
	cprintf("testfs: writing and truncating OK\n");
}

/* A file of more than 64 MiB: direct, indirect, double-indirect blocks. */
static void test_big(void)
{
	static const off_t offsets[] = {
		0,
		(off_t)NDIRECT * BLKSIZE - 3,              /* direct/indirect */
		(off_t)(NDIRECT + NINDIRECT) * BLKSIZE - 5, /* into dindirect */
		(64L << 20) + 123,
		(100L << 20) - 10,
		MAXFILESIZE - BLKSIZE,                     /* the very last */
	};
	struct Fd *fd = FDPAGE(0);
	struct Stat st;
	char tag[32];
	int i, n;

	EXPECT(fs_open("/testfs-big", O_RDWR | O_CREAT | O_EXCL, fd), 0);
	for (i = 0; i < (int)ARRAY_SIZE(offsets); i++) {
		n = snprintf(tag, sizeof(tag), "<block tag %d>", i);
		fd->fd_offset = offsets[i];
		EXPECT(fs_write(fd, tag, n), n);
	}
	EXPECT(fs_stat_id(fd->fd_file.id, &st), 0);
	EXPECT(st.st_size, MAXFILESIZE - BLKSIZE + n);
	for (i = 0; i < (int)ARRAY_SIZE(offsets); i++) {
		n = snprintf(tag, sizeof(tag), "<block tag %d>", i);
		fd->fd_offset = offsets[i];
		memset(buf, 0, n + 1);
		EXPECT(fs_read(fd, buf, n + 1), i + 1 < (int)ARRAY_SIZE(offsets)
						    ? n + 1 : n);
		if (memcmp(buf, tag, n) != 0 || buf[n] != 0)
			panic("big file: at %ld read %s", (long)offsets[i],
			      buf);
	}
	/* Past the largest file: refused, and nothing changes. */
	fd->fd_offset = MAXFILESIZE - 2;
	EXPECT(fs_write_id(fd->fd_file.id, "abcd", 4), -E_INVAL);
	EXPECT(fs_set_size_id(fd->fd_file.id, MAXFILESIZE + 1), -E_INVAL);

	/* Cut back to 70 MiB: the tag at 64 MiB stays. */
	EXPECT(fs_set_size_id(fd->fd_file.id, 70L << 20), 0);
	fd->fd_offset = offsets[3];
	EXPECT(fs_read(fd, buf, 14), 14);
	if (memcmp(buf, "<block tag 3>", 13) != 0)
		panic("big file: truncation lost the tag at 64 MiB");
	fd->fd_offset = offsets[4];
	EXPECT(fs_read(fd, buf, 14), 0);
	/* Cut back into the indirect range, then to nothing. */
	EXPECT(fs_set_size_id(fd->fd_file.id, (NDIRECT + 5) * BLKSIZE), 0);
	fd->fd_offset = offsets[1];
	EXPECT(fs_read(fd, buf, 14), 14);
	if (memcmp(buf, "<block tag 1>", 13) != 0)
		panic("big file: truncation lost the tag at block %d",
		      NDIRECT);
	EXPECT(fs_set_size_id(fd->fd_file.id, 0), 0);
	fs_close(fd);
	EXPECT(fs_remove("/testfs-big"), 0);
	cprintf("testfs: a %ld MiB file OK\n", (long)(MAXFILESIZE >> 20));
}

/*
 * A few MiB written and read back in full pages: more blocks than a
 * small block cache holds, so (built with a small BC_MAXCACHED) this
 * checks that evicted blocks come back intact.
 */
static void test_stream(void)
{
	struct Fd *fd = FDPAGE(0);
	off_t pos, i;

	EXPECT(fs_open("/testfs-stream", O_RDWR | O_CREAT | O_EXCL, fd), 0);
	for (pos = 0; pos < STREAM_SIZE; pos += PGSIZE) {
		for (i = 0; i < PGSIZE; i++)
			buf[i] = pattern(pos + i);
		EXPECT(fs_write(fd, buf, PGSIZE), PGSIZE);
	}
	fs_close(fd);
	EXPECT(fs_open("/testfs-stream", O_RDONLY, fd), 0);
	for (pos = 0; pos < STREAM_SIZE; pos += PGSIZE) {
		EXPECT(fs_read(fd, buf, PGSIZE), PGSIZE);
		for (i = 0; i < PGSIZE; i++)
			if (buf[i] != pattern(pos + i))
				panic("stream: byte %ld differs",
				      (long)(pos + i));
	}
	EXPECT(fs_read(fd, buf, PGSIZE), 0);
	fs_close(fd);
	EXPECT(fs_remove("/testfs-stream"), 0);
	cprintf("testfs: streaming %d MiB OK\n", STREAM_SIZE >> 20);
}

/* O_MKDIR, nested directories, directories of several blocks. */
static void test_dirs(void)
{
	struct Fd *fd = FDPAGE(0), *dfd = FDPAGE(1);
	char name[MAXPATHLEN];
	struct Stat st;
	int i;

	EXPECT(fs_open("/testfs-d", O_MKDIR, dfd), 0);
	EXPECT(fs_open("/testfs-d", O_MKDIR, fd), -E_FILE_EXISTS);
	EXPECT(fs_open("/testfs-d/sub", O_MKDIR | O_RDWR, fd), 0);
	EXPECT(fd->fd_omode & O_ACCMODE, O_RDONLY);
	EXPECT(fs_write_id(fd->fd_file.id, "x", 1), -E_INVAL);
	fs_close(fd);
	EXPECT(fs_open("/testfs-d/sub/f", O_WRONLY | O_CREAT, fd), 0);
	EXPECT(fs_write(fd, "hello", 5), 5);
	fs_close(fd);
	EXPECT(fs_open("/testfs-d/sub/f", O_RDONLY, fd), 0);
	EXPECT(fs_read(fd, buf, 10), 5);
	fs_close(fd);

	for (i = 0; i < NDIRFILES; i++) {
		snprintf(name, sizeof(name), "/testfs-d/file%d", i);
		EXPECT(fs_open(name, O_RDWR | O_CREAT | O_EXCL, fd), 0);
		fs_close(fd);
	}
	EXPECT(fs_stat_id(dfd->fd_file.id, &st), 0);
	if (!st.st_isdir || st.st_size < (NDIRFILES / BLKFILES) * BLKSIZE)
		panic("stat /testfs-d: isdir %d size %ld", st.st_isdir,
		      (long)st.st_size);
	if (!dir_has(dfd, "sub") || !dir_has(dfd, "file0") ||
	    !dir_has(dfd, "file48"))
		panic("/testfs-d lacks an entry");

	EXPECT(fs_open("/testfs-d", O_RDWR, fd), -E_INVAL);
	EXPECT(fs_open("/testfs-d", O_RDONLY | O_TRUNC, fd), -E_INVAL);
	EXPECT(fs_set_size_id(dfd->fd_file.id, 0), -E_INVAL);
	EXPECT(fs_remove("/testfs-d"), -E_NOT_SUPP);
	EXPECT(fs_remove("/testfs-d/sub"), -E_NOT_SUPP);
	EXPECT(fs_remove("/"), -E_INVAL);
	EXPECT(fs_remove("/testfs-d/sub/f"), 0);
	EXPECT(fs_remove("/testfs-d/sub"), 0);
	for (i = 0; i < NDIRFILES; i++) {
		snprintf(name, sizeof(name), "/testfs-d/file%d", i);
		EXPECT(fs_remove(name), 0);
	}
	EXPECT(fs_remove("/testfs-d/file0"), -E_NOT_FOUND);
	EXPECT(fs_remove("/testfs-d"), 0);
	/* Its open id went stale with it. */
	EXPECT(fs_stat_id(dfd->fd_file.id, &st), -E_INVAL);
	EXPECT(sys_page_unmap(0, dfd), 0);
	cprintf("testfs: directories OK\n");
}

/* Send raw value type with page pg (perm), and return the reply. */
static int raw_request(uint64_t type, void *pg, int perm)
{
	ipc_send(fsenv, type, pg, perm);
	return ipc_recv(NULL, NULL, NULL);
}

/* Requests a buggy or hostile client might send. */
static void test_bad(void)
{
	static const uint64_t bad_reqs[] = {
		0, FSREQ_NREQ, 1000, 0xFFFFFFFFUL, (1UL << 32) | FSREQ_SYNC,
		~0UL,
	};
	static const int bad_ids[] = { -1, 5, MAXOPEN, 0x7FFFFFFF, -MAXOPEN };
	struct Fd *fd = FDPAGE(0), *fd2 = FDPAGE(1);
	struct Stat st;
	int i, id;

	for (i = 0; i < (int)ARRAY_SIZE(bad_reqs); i++)
		EXPECT(raw_request(bad_reqs[i], &fsipcbuf,
				   PTE_P | PTE_W | PTE_U), -E_INVAL);
	/* No page, or one the server may not write into. */
	EXPECT(raw_request(FSREQ_SYNC, NULL, 0), -E_INVAL);
	EXPECT(sys_page_alloc(0, RO_VA, PTE_P | PTE_U), 0);
	EXPECT(raw_request(FSREQ_STAT, RO_VA, PTE_P | PTE_U), -E_INVAL);
	EXPECT(sys_page_unmap(0, RO_VA), 0);

	/* File ids that were never handed out. */
	for (i = 0; i < (int)ARRAY_SIZE(bad_ids); i++) {
		id = bad_ids[i];
		EXPECT(fs_read_id(id, buf, 1), -E_INVAL);
		EXPECT(fs_write_id(id, "x", 1), -E_INVAL);
		EXPECT(fs_stat_id(id, &st), -E_INVAL);
		EXPECT(fs_flush_id(id), -E_INVAL);
		EXPECT(fs_set_size_id(id, 0), -E_INVAL);
	}

	/* A closed file's id is stale, even once its slot is reused. */
	EXPECT(fs_open("/motd", O_RDONLY, fd), 0);
	id = fd->fd_file.id;
	fs_close(fd);
	EXPECT(fs_stat_id(id, &st), -E_INVAL);
	EXPECT(fs_open("/motd", O_RDONLY, fd), 0);
	if (fd->fd_file.id == id)
		panic("a reopened file got its old id back");
	EXPECT(fs_stat_id(id, &st), -E_INVAL);
	EXPECT(fs_read_id(id, buf, 1), -E_INVAL);

	/* Paths: no NUL, names too long, names that cannot be. */
	memset(fsipcbuf.open.req_path, 'a', MAXPATHLEN);
	fsipcbuf.open.req_omode = O_RDONLY;
	EXPECT(fsipc(FSREQ_OPEN, fd2), -E_BAD_PATH);
	memset(fsipcbuf.remove.req_path, '/', MAXPATHLEN);
	EXPECT(fsipc(FSREQ_REMOVE, NULL), -E_BAD_PATH);
	memset(buf, 'n', MAXNAMELEN);
	buf[0] = '/';
	buf[MAXNAMELEN] = 0; /* a name of MAXNAMELEN - 1 bytes: fine */
	EXPECT(fs_open(buf, O_RDWR | O_CREAT, fd2), 0);
	fs_close(fd2);
	EXPECT(fs_remove(buf), 0);
	buf[MAXNAMELEN] = 'n';
	buf[MAXNAMELEN + 1] = 0; /* MAXNAMELEN bytes: too long */
	EXPECT(fs_open(buf, O_RDWR | O_CREAT, fd2), -E_BAD_PATH);
	EXPECT(fs_remove(buf), -E_BAD_PATH);
	EXPECT(fs_open("/.", O_RDWR | O_CREAT, fd2), -E_BAD_PATH);
	EXPECT(fs_open("/bin/..", O_MKDIR, fd2), -E_BAD_PATH);
	EXPECT(fs_open("", O_RDONLY | O_CREAT | O_EXCL, fd2), -E_FILE_EXISTS);
	EXPECT(fs_open("/", O_RDWR | O_CREAT, fd2), -E_INVAL);

	/* Open modes the server does not know. */
	EXPECT(fs_open("/motd", O_ACCMODE, fd2), -E_INVAL);
	EXPECT(fs_open("/motd", 0x10000, fd2), -E_INVAL);
	EXPECT(fs_open("/motd", -1, fd2), -E_INVAL);

	/* Sizes and offsets out of range; access the mode does not give. */
	id = fd->fd_file.id;
	EXPECT(fs_read_id(id, buf, PGSIZE + 1), -E_INVAL);
	EXPECT(fs_read_id(id, buf, ~0UL), -E_INVAL);
	EXPECT(fs_write_id(id, "x", 1), -E_INVAL);
	EXPECT(fs_set_size_id(id, 0), -E_INVAL);
	fd->fd_omode = O_RDWR; /* the server keeps its own copy */
	EXPECT(fs_write_id(id, "x", 1), -E_INVAL);
	fd->fd_offset = -1;
	EXPECT(fs_read_id(id, buf, 1), -E_INVAL);
	fd->fd_offset = 1L << 62;
	EXPECT(fs_read_id(id, buf, 1), 0);
	fs_close(fd);

	EXPECT(fs_open("/testfs-b", O_WRONLY | O_CREAT, fd), 0);
	id = fd->fd_file.id;
	EXPECT(fs_read_id(id, buf, 1), -E_INVAL);
	EXPECT(fs_write_id(id, buf, FSWRITE_MAXBUF + 1), -E_INVAL);
	EXPECT(fs_write_id(id, buf, ~0UL), -E_INVAL);
	EXPECT(fs_set_size_id(id, -1), -E_INVAL);
	EXPECT(fs_set_size_id(id, 1L << 62), -E_INVAL);
	fd->fd_offset = -4096;
	EXPECT(fs_write_id(id, "x", 1), -E_INVAL);
	fd->fd_offset = 1L << 62;
	EXPECT(fs_write_id(id, "x", 1), -E_INVAL);
	fd->fd_offset = 0;
	EXPECT(fs_write_id(id, buf, FSWRITE_MAXBUF), FSWRITE_MAXBUF);
	/* Removed while open: the id goes stale. */
	EXPECT(fs_remove("/testfs-b"), 0);
	EXPECT(fs_write_id(id, "x", 1), -E_INVAL);
	EXPECT(fs_stat_id(id, &st), -E_INVAL);
	EXPECT(fs_flush_id(id), -E_INVAL);
	EXPECT(sys_page_unmap(0, fd), 0);

	/* After all that, the server still serves. */
	EXPECT(fs_open("/lorem", O_RDONLY, fd), 0);
	EXPECT(fs_read(fd, buf, 7), 7);
	if (memcmp(buf, "Lorem: ", 7) != 0)
		panic("/lorem changed");
	fs_close(fd);
	cprintf("testfs: malformed requests OK\n");
}

/* Wait until env id is gone. */
static void wait_gone(envid_t id)
{
	while (envs[ENVX(id)].env_id == id &&
	       envs[ENVX(id)].env_status != ENV_FREE)
		sys_yield();
}

/*
 * Clients that vanish: one dies with a file open (its slot must come
 * back), one never waits for its reply (the server must not care).
 */
static void test_dead_clients(void)
{
	envid_t child;

	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0) {
		EXPECT(fs_open("/motd", O_RDONLY, FDPAGE(0)), 0);
		exit();
	}
	wait_gone(child);
	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0) {
		/* Write first: see fsipc. */
		fsipcbuf.flush.req_fileid = 0;
		ipc_send(fsenv, FSREQ_SYNC, &fsipcbuf, PTE_P | PTE_W | PTE_U);
		exit();
	}
	wait_gone(child);
	EXPECT(fs_sync(), 0);
	cprintf("testfs: vanishing clients OK\n");
}

/*
 * One client opens until refused: it gets exactly its share of the
 * server's slots (FSOPEN_CLIENT_MAX), and while it holds them another
 * client (a child) still opens a file; all closed, they are usable again.
 */
static void test_maxopen(void)
{
	envid_t child;
	int i, n, r;

	for (n = 0; n <= FSOPEN_CLIENT_MAX; n++)
		if ((r = fs_open("/motd", O_RDONLY, FDPAGE(n))) < 0)
			break;
	EXPECT(r, -E_MAX_OPEN);
	EXPECT(n, FSOPEN_CLIENT_MAX);
	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0) {
		/* Our parent's Fd pages are not ours: a fresh page. */
		EXPECT(fs_open("/motd", O_RDONLY, FDPAGE(n + 1)), 0);
		cprintf("testfs: another client opens beside a full share\n");
		exit();
	}
	wait_gone(child);
	for (i = 0; i < n; i++)
		EXPECT(sys_page_unmap(0, FDPAGE(i)), 0);
	for (i = 0; i < 3; i++)
		EXPECT(fs_open("/motd", O_RDONLY, FDPAGE(i)), 0);
	for (i = 0; i < 3; i++)
		fs_close(FDPAGE(i));
	cprintf("testfs: %d open files OK\n", n);
}

void umain(int argc, char **argv)
{
	binaryname = "testfs";
	if (!(fsenv = ipc_find_env(ENV_TYPE_FS)))
		panic("no file-system server: boot with \"fs testfs\"");
	test_read();
	test_write();
	test_big();
	test_stream();
	test_dirs();
	test_bad();
	test_dead_clients();
	test_maxopen();
	EXPECT(fs_sync(), 0);
	cprintf("testfs: all tests passed\n");
}
