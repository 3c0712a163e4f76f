/*
 * primespipe: the prime sieve of primes.c, with pipes and fork instead
 * of IPC: each stage prints its prime and passes the numbers it does not
 * divide down a pipe to the next stage.
 *	primespipe [n]   primes below n (default 1000)
 */
#include <inc/lib.h>

#define DEFAULT_LIMIT 1000

static void stage(int in)
{
	envid_t child;
	int p[2], prime, n, r;

	for (;;) {
		if ((r = readn(in, &prime, sizeof(prime))) != sizeof(prime)) {
			if (r == 0)
				exit(); /* the stream ended */
			panic("primespipe: read %d: %e", r, r);
		}
		cprintf("%d\n", prime);
		if ((r = pipe(p)) < 0)
			panic("primespipe: pipe: %e", r);
		if ((child = fork()) < 0)
			panic("primespipe: fork: %e", child);
		if (child == 0) {
			close(in);
			close(p[1]);
			in = p[0];
			continue;
		}
		close(p[0]);
		while ((r = readn(in, &n, sizeof(n))) == sizeof(n)) {
			if (n % prime == 0)
				continue;
			if ((r = write(p[1], &n, sizeof(n))) != sizeof(n))
				panic("primespipe: write: %e", r);
		}
		close(p[1]);
		close(in);
		wait(child);
		exit();
	}
}

void umain(int argc, char **argv)
{
	envid_t child;
	int p[2], i, limit = DEFAULT_LIMIT, r;

	binaryname = "primespipe";
	if (argc > 1)
		limit = strtol(argv[1], NULL, 0);
	if ((r = pipe(p)) < 0)
		panic("pipe: %e", r);
	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0) {
		close(p[1]);
		stage(p[0]);
	}
	close(p[0]);
	for (i = 2; i < limit; i++)
		if ((r = write(p[1], &i, sizeof(i))) != sizeof(i))
			panic("generator write: %e", r);
	close(p[1]);
	wait(child);
	cprintf("primespipe: done\n");
}
