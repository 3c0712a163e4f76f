/*
 * ls [-dFl] [path...]: list directories (the root if no path).
 *	-d  list a directory itself, not what it holds
 *	-F  mark directories with a trailing /
 *	-l  long form: type (d or -), size, name
 * A directory's data is its array of struct File (inc/fs.h); free
 * entries have an empty name.
 */
#include <inc/lib.h>

static bool flag_d, flag_F, flag_l;

static void show(const char *name, bool isdir, off_t size)
{
	if (flag_l)
		printf("%c %8ld ", isdir ? 'd' : '-', (long)size);
	printf("%s%s\n", name, flag_F && isdir ? "/" : "");
}

static void lsdir(const char *path)
{
	struct File f;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0) {
		printf("ls: open %s: %e\n", path, fd);
		return;
	}
	while ((n = readn(fd, &f, sizeof(f))) == sizeof(f))
		if (f.f_name[0])
			show(f.f_name, f.f_type == FTYPE_DIR, f.f_size);
	if (n < 0)
		printf("ls: reading %s: %e\n", path, n);
	else if (n > 0)
		printf("ls: %s: short directory entry\n", path);
	close(fd);
}

static void ls(const char *path)
{
	struct Stat st;
	int r;

	if ((r = stat(path, &st)) < 0) {
		printf("ls: %s: %e\n", path, r);
		return;
	}
	if (st.st_isdir && !flag_d)
		lsdir(path);
	else
		show(path, st.st_isdir, st.st_size);
}

void umain(int argc, char **argv)
{
	struct Argstate args;
	int i, c;

	binaryname = "ls";
	argstart(&argc, argv, &args);
	while ((c = argnext(&args)) >= 0) {
		switch (c) {
		case 'd':
			flag_d = true;
			break;
		case 'F':
			flag_F = true;
			break;
		case 'l':
			flag_l = true;
			break;
		default:
			printf("usage: ls [-dFl] [path...]\n");
			return;
		}
	}
	if (argc == 1)
		ls("/");
	for (i = 1; i < argc; i++)
		ls(argv[i]);
}
