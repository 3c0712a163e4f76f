/*
 * fsbench: rough timings of the file-system path and of spawn, for
 * `make bench`. Every figure is wall-clock time from sys_time_msec
 * (millisecond resolution) around the whole loop, so short phases are
 * run long enough to make that resolution matter little. The file
 * phases are also given in TSC ticks, the figure to compare between the
 * host and a guest JOS: under Bochs the TSC counts emulated instructions,
 * and a guest's milliseconds are only the timer ticks it got.
 *
 * Three file phases: write + sync of a new file; a warm read (every
 * block still in the server's cache, as written); a cold read, after
 * fdrop() has written the file out and dropped its blocks from the
 * server's cache, so that every block comes from the disk. In a guest
 * "the disk" is the host: the guest's server drops the host's cached
 * copy of its disk image too, so a cold read there reaches the host's
 * disk as the host's cold read does (only the file's own blocks are
 * cold; the directory and the tables of the file system are not).
 *
 *	fsbench          run the benchmark
 *	fsbench child    exit at once (what the spawn timing spawns)
 */
#include <inc/lib.h>
#include <inc/x86.h>

/* Bytes written and read back through one descriptor. */
#define FILE_BYTES (4 << 20)
/* Bytes per read or write call. */
#define CHUNK (32 << 10)
/* Bytes pushed through a pipe. */
#define PIPE_BYTES (1 << 20)
/* spawn + wait rounds. */
#define SPAWNS 20

#define BENCH_FILE "/fsbench.dat"

static char buf[CHUNK];

/* KiB per second, for n bytes in ms milliseconds (ms 0 counts as 1). */
static unsigned long kib_per_sec(unsigned long n, unsigned ms)
{
	return n / 1024 * 1000 / (ms ? ms : 1);
}

/* Read the file open as fd from its start; returns the TSC ticks taken
 * and stores the milliseconds in *ms. */
static uint64_t read_all(int fd, unsigned *ms)
{
	unsigned t0 = sys_time_msec();
	uint64_t tsc0 = read_tsc();
	ssize_t n;
	long done;

	seek(fd, 0);
	for (done = 0; done < FILE_BYTES; done += n)
		if ((n = readn(fd, buf, CHUNK)) != CHUNK)
			panic("read: %e", n);
	*ms = sys_time_msec() - t0;
	return read_tsc() - tsc0;
}

static void bench_file(void)
{
	unsigned t0, t1, warm_ms, cold_ms;
	uint64_t tsc0, tsc_written, tsc1, warm, cold;
	ssize_t n;
	long done;
	int fd, i, r;

	for (i = 0; i < CHUNK; i++)
		buf[i] = i;
	if ((fd = open(BENCH_FILE, O_RDWR | O_CREAT | O_TRUNC)) < 0)
		panic("open %s: %e", BENCH_FILE, fd);

	t0 = sys_time_msec();
	tsc0 = read_tsc();
	for (done = 0; done < FILE_BYTES; done += n)
		if ((n = write(fd, buf, CHUNK)) != CHUNK)
			panic("write: %e", n);
	tsc_written = read_tsc();
	sync();
	t1 = sys_time_msec();
	tsc1 = read_tsc();
	warm = read_all(fd, &warm_ms);
	if ((r = fdrop(fd)) < 0)
		panic("fdrop: %e", r);
	cold = read_all(fd, &cold_ms);
	close(fd);
	remove(BENCH_FILE);

	printf("fsbench: write %d KiB in %d KiB writes, then sync: %u ms "
	       "(%lu KiB/s)\n", FILE_BYTES >> 10, CHUNK >> 10, t1 - t0,
	       kib_per_sec(FILE_BYTES, t1 - t0));
	printf("fsbench: read it back in %d KiB reads: %u ms (%lu KiB/s)\n",
	       CHUNK >> 10, warm_ms, kib_per_sec(FILE_BYTES, warm_ms));
	printf("fsbench: cold read (its blocks dropped from the cache): %u ms "
	       "(%lu KiB/s)\n", cold_ms, kib_per_sec(FILE_BYTES, cold_ms));
	printf("fsbench: TSC ticks: write + sync %lu, read %lu, cold read "
	       "%lu\n", tsc1 - tsc0, warm, cold);
	printf("fsbench: TSC ticks of write + sync: writes %lu, sync %lu\n",
	       tsc_written - tsc0, tsc1 - tsc_written);
}

static void bench_pipe(void)
{
	unsigned t0, t1;
	envid_t child;
	ssize_t n;
	long done;
	int p[2], r;

	if ((r = pipe(p)) < 0)
		panic("pipe: %e", r);
	t0 = sys_time_msec();
	if ((child = fork()) < 0)
		panic("fork: %e", child);
	if (child == 0) {
		close(p[0]);
		for (done = 0; done < PIPE_BYTES; done += n)
			if ((n = write(p[1], buf, CHUNK)) != CHUNK)
				panic("pipe write: %e", n);
		exit();
	}
	close(p[1]);
	for (done = 0; (n = read(p[0], buf, CHUNK)) > 0; done += n)
		;
	t1 = sys_time_msec();
	close(p[0]);
	wait(child);
	if (done != PIPE_BYTES)
		panic("pipe carried %ld bytes", done);
	printf("fsbench: %d KiB through a pipe (fork included): %u ms "
	       "(%lu KiB/s)\n", PIPE_BYTES >> 10, t1 - t0,
	       kib_per_sec(PIPE_BYTES, t1 - t0));
}

static void bench_spawn(void)
{
	unsigned t0, t1;
	envid_t child;
	int i;

	t0 = sys_time_msec();
	for (i = 0; i < SPAWNS; i++) {
		if ((child = spawnl("/bin/fsbench", "fsbench", "child",
				    NULL)) < 0)
			panic("spawn: %e", child);
		wait(child);
	}
	t1 = sys_time_msec();
	printf("fsbench: spawn + wait of a program that exits at once, %d "
	       "times: %u ms (%u us each)\n", SPAWNS, t1 - t0,
	       (t1 - t0) * 1000 / SPAWNS);
}

void umain(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return;
	printf("fsbench: timings are wall-clock, from sys_time_msec; file "
	       "phases in TSC ticks too\n");
	bench_file();
	bench_pipe();
	bench_spawn();
	printf("fsbench: done\n");
}
