/*
 * testfile: the file device from the outside, through descriptors: open,
 * stat, read, write, seek, truncate, remove, and files bigger than one
 * request (reads and writes the library must split). Each step prints
 * "NAME is good" or panics.
 */
#include <inc/lib.h>

/* The first line of /motd, as fs/motd has it. */
#define MOTD_START "This is /motd, the message of the day."
/* Spans several pages, so reads and writes take several requests. */
#define BIGSIZE (3 * PGSIZE + 123)

static char buf[BIGSIZE], buf2[BIGSIZE];

void umain(int argc, char **argv)
{
	struct Stat st;
	ssize_t n;
	int fd, fd2, i, r;

	if ((r = open("/not-found", O_RDONLY)) != -E_NOT_FOUND)
		panic("open /not-found: %e", r);
	cprintf("open nonexistent is good\n");

	if ((fd = open("/motd", O_RDONLY)) < 0)
		panic("open /motd: %e", fd);
	if ((r = fstat(fd, &st)) < 0)
		panic("fstat: %e", r);
	if (strcmp(st.st_name, "motd") != 0 || st.st_isdir ||
	    st.st_size <= (off_t)strlen(MOTD_START) || st.st_dev != &devfile)
		panic("fstat /motd: name %s size %ld isdir %d", st.st_name,
		      st.st_size, st.st_isdir);
	cprintf("open and fstat are good\n");

	memset(buf, 0, sizeof(buf));
	if ((n = read(fd, buf, sizeof(buf))) != st.st_size)
		panic("read /motd: got %ld of %ld", n, st.st_size);
	if (strncmp(buf, MOTD_START, strlen(MOTD_START)) != 0)
		panic("/motd reads '%s'", buf);
	if ((n = read(fd, buf, sizeof(buf))) != 0)
		panic("read at end of file: %ld", n);
	cprintf("read is good\n");

	if ((r = seek(fd, 5)) < 0 || (n = read(fd, buf2, 2)) != 2 ||
	    memcmp(buf2, MOTD_START + 5, 2) != 0)
		panic("seek then read: %e", r);
	cprintf("seek is good\n");

	if ((n = write(fd, "x", 1)) >= 0)
		panic("write to a read-only file succeeded");
	close(fd);
	if ((n = read(fd, buf, 1)) != -E_INVAL)
		panic("read after close: %e", n);
	cprintf("close is good\n");

	/* A new file, written in one call that spans several requests. */
	remove("/newfile");
	if ((fd = open("/newfile", O_RDWR | O_CREAT | O_EXCL)) < 0)
		panic("create /newfile: %e", fd);
	if ((r = open("/newfile", O_RDWR | O_CREAT | O_EXCL)) !=
	    -E_FILE_EXISTS)
		panic("O_EXCL on an existing file: %e", r);
	for (i = 0; i < BIGSIZE; i++)
		buf[i] = 'a' + i % 26 + (i / 26) % 3;
	if ((n = write(fd, buf, BIGSIZE)) != BIGSIZE)
		panic("write %d bytes: %e", BIGSIZE, n);
	if ((r = fstat(fd, &st)) < 0 || st.st_size != BIGSIZE)
		panic("size after write: %ld", st.st_size);
	seek(fd, 0);
	memset(buf2, 0, sizeof(buf2));
	if ((n = read(fd, buf2, BIGSIZE)) != BIGSIZE ||
	    memcmp(buf, buf2, BIGSIZE) != 0)
		panic("read back %ld bytes, or different ones", n);
	cprintf("large file is good\n");

	/* A second open of the file has its own offset. */
	if ((fd2 = open("/newfile", O_RDONLY)) < 0)
		panic("open again: %e", fd2);
	if ((n = read(fd2, buf2, 10)) != 10 || memcmp(buf, buf2, 10) != 0)
		panic("second descriptor reads wrong");
	close(fd2);

	if ((r = ftruncate(fd, PGSIZE + 1)) < 0)
		panic("ftruncate: %e", r);
	if ((r = fstat(fd, &st)) < 0 || st.st_size != PGSIZE + 1)
		panic("size after ftruncate: %ld", st.st_size);
	close(fd);
	if ((fd = open("/newfile", O_RDONLY)) < 0 ||
	    (n = readn(fd, buf2, BIGSIZE)) != PGSIZE + 1 ||
	    memcmp(buf, buf2, PGSIZE + 1) != 0)
		panic("after truncate: read %ld", n);
	close(fd);
	cprintf("ftruncate is good\n");

	/* Path normalisation is the client's: . and .. */
	if ((r = stat("/bin/../newfile", &st)) < 0 || st.st_size != PGSIZE + 1)
		panic("stat /bin/../newfile: %e", r);
	if ((r = stat("/./bin/./sh", &st)) < 0)
		panic("stat /./bin/./sh: %e", r);
	cprintf("path normalization is good\n");

	if ((r = open("/newfile", O_RDWR | O_TRUNC)) < 0)
		panic("open O_TRUNC: %e", r);
	if ((r = fstat(r, &st)) < 0 || st.st_size != 0)
		panic("O_TRUNC left size %ld", st.st_size);
	if ((r = remove("/newfile")) < 0)
		panic("remove: %e", r);
	if ((r = open("/newfile", O_RDONLY)) != -E_NOT_FOUND)
		panic("open after remove: %e", r);
	close_all();
	cprintf("remove is good\n");

	if ((r = open("/d", O_MKDIR)) < 0)
		panic("mkdir /d: %e", r);
	close(r);
	if ((fd = open("/d/f", O_WRONLY | O_CREAT)) < 0)
		panic("create /d/f: %e", fd);
	close(fd);
	if ((r = remove("/d")) != -E_NOT_SUPP)
		panic("remove non-empty dir: %e", r);
	if ((r = remove("/d/f")) < 0 || (r = remove("/d")) < 0)
		panic("remove /d/f, /d: %e", r);
	cprintf("directories are good\n");

	if ((r = sync()) < 0)
		panic("sync: %e", r);
	cprintf("testfile: all tests passed\n");
}
