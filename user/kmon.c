/*
 * kmon CMD [ARG ...]: run one read-only kernel monitor command while the
 * host runs, as if typed at `K> ` (SYS_kmon): vms, vmstate ID, gpa ID
 * ADDR, gva ID ADDR, exits ID, devices ID (IDs and addresses in hex, as
 * vms prints them; ID.CPU names vCPU CPU of a guest). The kernel prints the output on the console; it refuses any
 * other command, so a user program cannot resume, step or change
 * anything through it.
 */
#include <inc/lib.h>

static void __attribute__((noreturn)) usage(void)
{
	printf("usage: kmon vms | vmstate ID | gpa ID ADDR | gva ID ADDR | "
	       "exits ID | devices ID (ID.CPU: vCPU CPU of guest ID)\n");
	exit();
}

/* The words of argv, from the first, joined by single spaces into line. */
static size_t join_words(int argc, char **argv, char *line, size_t size)
{
	size_t len = 0;
	int i;

	for (i = 1; i < argc; i++) {
		int n = snprintf(line + len, size - len, "%s%s",
				 i > 1 ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= size - len) {
			printf("kmon: command line longer than %d bytes\n",
			       KMON_LINE_MAX - 1);
			exit();
		}
		len += n;
	}
	return len;
}

void umain(int argc, char **argv)
{
	char line[KMON_LINE_MAX];
	size_t len;
	int r;

	binaryname = "kmon";
	if (argc < 2)
		usage();
	len = join_words(argc, argv, line, sizeof(line));
	if ((r = sys_kmon(line, len)) == -E_INVAL) {
		printf("kmon: '%s' is not a read-only monitor command\n",
		       argv[1]);
		usage();
	}
	if (r < 0)
		printf("kmon: %e\n", r);
}
