/*
 * init: checks that spawn set it up right (initialised data, zeroed bss,
 * arguments), makes the console its standard input and output, and keeps
 * a shell running on it: when sh exits, init starts another.
 */
#include <inc/lib.h>
#include <inc/x86.h>

/* Initialised data that spawn must have loaded from the file... */
#define DATA_LEN 6000
static struct {
	int words[DATA_LEN];
} data = { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 } };
/* ...whose sum is this... */
#define DATA_SUM 55
/* ...and bss that it must have zeroed. */
static char bss[DATA_LEN];

static int sum(const void *p, size_t n)
{
	const unsigned char *b = p;
	int s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s = s * 31 + b[i];
	return s;
}

static int word_sum(void)
{
	int i, s = 0;

	for (i = 0; i < DATA_LEN; i++)
		s += data.words[i];
	return s;
}

void umain(int argc, char **argv)
{
	envid_t sh;
	int i, r;

	cprintf("init: running\n");

	if ((r = word_sum()) != DATA_SUM)
		cprintf("init: data is not initialized: got sum %d wanted %d\n",
			r, DATA_SUM);
	else
		cprintf("init: data seems okay\n");
	if ((r = sum(bss, sizeof(bss))) != 0)
		cprintf("init: bss is not initialized: got sum %d wanted 0\n",
			r);
	else
		cprintf("init: bss seems okay\n");

	cprintf("init: args:");
	for (i = 0; i < argc; i++)
		cprintf(" '%s'", argv[i]);
	cprintf("\n");

	cprintf("init: running sh\n");
	/* Standard input and output: the console, whatever we had before. */
	close(0);
	if ((r = opencons()) < 0)
		panic("init: opencons: %e", r);
	if (r != 0)
		panic("init: first opencons returned %d, not 0", r);
	if ((r = dup(0, 1)) < 0)
		panic("init: dup: %e", r);

	for (;;) {
		printf("init: starting sh\n");
		/* For boot-time measurements. The TSC, not sys_time_msec: a
		 * guest's milliseconds are only the timer ticks it got. */
		printf("init: shell starts at TSC %lu\n", read_tsc());
		if ((sh = spawnl("/bin/sh", "sh", NULL)) < 0) {
			printf("init: spawn sh: %e\n", sh);
			continue;
		}
		wait(sh);
	}
}
