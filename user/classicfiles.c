/*
 * classicfiles: the disk contents classic JOS programs rely on. /newmotd
 * holds exactly the classic message (classic testfile checks its size),
 * /motd opens with its classic line, and init is /sbin/init as well as
 * /bin/init: we compare the two, then spawn /sbin/init as classic icode
 * does (it starts a shell on the console).
 */
#include <inc/lib.h>

#define NEWMOTD "This is the NEW message of the day!\n\n"
#define MOTD_LINE1 "This is /motd, the message of the day.\n"
/* Bytes compared at a time between the two inits. */
#define CHUNK 512

static char buf1[CHUNK], buf2[CHUNK];

/* The whole of path, which must be shorter than buf1, NUL-terminated. */
static ssize_t slurp(const char *path)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		panic("open %s: %e", path, fd);
	if ((n = readn(fd, buf1, sizeof(buf1) - 1)) < 0)
		panic("read %s: %e", path, n);
	buf1[n] = 0;
	close(fd);
	return n;
}

static void check_newmotd(void)
{
	struct Stat st;
	int r;

	if ((r = stat("/newmotd", &st)) < 0)
		panic("stat /newmotd: %e", r);
	cprintf("classicfiles: /newmotd is %ld bytes\n", (long)st.st_size);
	if (st.st_size != (off_t)strlen(NEWMOTD) || slurp("/newmotd") !=
	    st.st_size || strcmp(buf1, NEWMOTD) != 0)
		panic("/newmotd is not the classic message");
	cprintf("classicfiles: /newmotd holds the classic message\n");
}

static void check_motd(void)
{
	slurp("/motd");
	if (strncmp(buf1, MOTD_LINE1, strlen(MOTD_LINE1)) != 0)
		panic("/motd does not open with the classic line");
	cprintf("classicfiles: /motd opens with the classic line\n");
}

/* /sbin/init and /bin/init have the same bytes. */
static void check_init(void)
{
	ssize_t n1, n2;
	int fd1, fd2;

	if ((fd1 = open("/sbin/init", O_RDONLY)) < 0)
		panic("open /sbin/init: %e", fd1);
	if ((fd2 = open("/bin/init", O_RDONLY)) < 0)
		panic("open /bin/init: %e", fd2);
	do {
		n1 = readn(fd1, buf1, CHUNK);
		n2 = readn(fd2, buf2, CHUNK);
		if (n1 < 0 || n2 < 0 || n1 != n2 || memcmp(buf1, buf2, n1))
			panic("/sbin/init differs from /bin/init");
	} while (n1 > 0);
	close(fd1);
	close(fd2);
	cprintf("classicfiles: /sbin/init is /bin/init\n");
}

void umain(int argc, char **argv)
{
	int r;

	check_newmotd();
	check_motd();
	check_init();
	cprintf("classicfiles: spawn /sbin/init\n");
	if ((r = spawnl("/sbin/init", "init", "initarg1", "initarg2", NULL)) < 0)
		panic("spawn /sbin/init: %e", r);
}
