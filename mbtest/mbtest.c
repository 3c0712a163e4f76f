/*
 * The multiboot test kernel (vmm -k /vmm/mbtest): a 32-bit freestanding
 * program that checks what a multiboot loader hands it and says so on
 * COM1, polled: its command line, each module's first line, and whether
 * the memory map is a PC's (RAM below 640 KiB, the hole up to 1 MiB,
 * RAM from 1 MiB to the end mem_upper gives). Then it writes 7 to the
 * debug-exit port 0xf4: the VMM ends it with status (7 << 1) | 1 = 15.
 *
 * The word "spin" makes it poll COM1 for ever instead of exiting, and
 * echo each byte typed as "mbtest: got C" (the console's input path);
 * "bench" times BENCH_INB reads of LSR, each one exit handled by the
 * VMM program, in TSC ticks (instructions under Bochs and QEMU -icount).
 * The word "halt" makes it halt HALTS times with interrupts on first,
 * each after "mbtest: halt N" (no interrupt comes; a byte typed on its
 * console makes the VMM resume it). A word "hostile-*"
 * on the command line first attacks the VMM's
 * string I/O (grade-project.py runs each): a guest stopped cleanly by
 * the VMM never reaches the exit.
 *
 * Invariants:
 * - No header of the host tree is used: those are for 64-bit code.
 * - Every write to COM1 waits for LSR.THRE, as a driver of a real
 *   16550A must.
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define MB_LOADER_MAGIC 0x2BADB002
#define MB_FLAG_MEM 0x001
#define MB_FLAG_CMDLINE 0x004
#define MB_FLAG_MODS 0x008
#define MB_FLAG_MMAP 0x040
#define MB_TYPE_USABLE 1

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

struct mb_module {
	u32 mod_start, mod_end, string, reserved;
};

struct mb_mmap {
	u32 size;
	u64 base, length;
	u32 type;
} __attribute__((packed));

#define COM1 0x3F8
#define COM_LSR 5
#define COM_LSR_THRE 0x20
#define COM_LSR_DR 0x01
#define COM_LCR 3
#define COM_LCR_DLAB 0x80
#define COM_LCR_8N1 0x03
#define COM_IER 1
#define COM_FCR 2
#define COM_FCR_ON_CLEAR 0x07
#define COM_MCR 4
#define COM_MCR_DTR_RTS 0x03
#define DEBUG_EXIT_PORT 0xf4
#define EXIT_VALUE 7
#define FAIL_VALUE 1

#define KIB 1024
#define LOWMEM_END 0xA0000
#define HIGHMEM_START 0x100000
#define MODULE_SHOWN 120
/* Hostile string I/O: more than one exit's worth, past RAM's end. */
#define HOSTILE_COUNT 4096
#define HOSTILE_BEFORE_END 16
#define BEYOND_RAM 0xFFFF0000
#define HALTS 3
#define BENCH_INB 1000

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void com_init(void)
{
	outb(COM1 + COM_IER, 0);
	outb(COM1 + COM_LCR, COM_LCR_DLAB);
	outb(COM1 + 0, 1);  /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + COM_LCR, COM_LCR_8N1);
	outb(COM1 + COM_FCR, COM_FCR_ON_CLEAR);
	outb(COM1 + COM_MCR, COM_MCR_DTR_RTS);
}

static void putc(char c)
{
	while (!(inb(COM1 + COM_LSR) & COM_LSR_THRE))
		;
	outb(COM1, c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void putu(u32 v)
{
	char buf[12];
	int i = 0;

	do
		buf[i++] = '0' + v % 10;
	while ((v /= 10) != 0);
	while (i > 0)
		putc(buf[--i]);
}

static void __attribute__((noreturn)) finish(u8 v)
{
	outb(DEBUG_EXIT_PORT, v);
	puts("mbtest: still running after the debug-exit port\n");
	for (;;)
		asm volatile("pause");
}

/* Is w a whole word (space-separated) of line? */
static int has_word(const char *line, const char *w)
{
	const char *s, *p, *q;

	for (s = line; *s; s++) {
		if (s != line && s[-1] != ' ')
			continue;
		for (p = s, q = w; *q && *p == *q; p++, q++)
			;
		if (!*q && (*p == ' ' || *p == '\0'))
			return 1;
	}
	return 0;
}

static void show_modules(const struct mb_info *mbi)
{
	const struct mb_module *m = (const void *)mbi->mods_addr;
	u32 i, j;

	for (i = 0; (mbi->flags & MB_FLAG_MODS) && i < mbi->mods_count; i++) {
		const char *text = (const char *)m[i].mod_start;
		u32 len = m[i].mod_end - m[i].mod_start;

		puts("mbtest: module ");
		putu(i);
		puts(" (");
		putu(len);
		puts(" bytes, page-aligned: ");
		puts(m[i].mod_start % 4096 ? "no" : "yes");
		puts("): ");
		for (j = 0; j < len && j < MODULE_SHOWN && text[j] != '\n'; j++)
			putc(text[j] >= ' ' && text[j] < 127 ? text[j] : '.');
		putc('\n');
	}
}

/* A PC's map: usable [0, 640K) and [1M, 1M + mem_upper KiB), nothing
 * usable in the hole. 0, or why not. */
static const char *check_mmap(const struct mb_info *mbi, u32 *n, u64 *kib)
{
	u32 off;
	int low = 0, high = 0;

	if ((mbi->flags & (MB_FLAG_MEM | MB_FLAG_MMAP)) !=
	    (MB_FLAG_MEM | MB_FLAG_MMAP))
		return "no memory information";
	if (mbi->mem_lower != LOWMEM_END / KIB)
		return "mem_lower is not 640";
	for (off = 0; off < mbi->mmap_length;) {
		const struct mb_mmap *e = (const void *)(mbi->mmap_addr + off);

		off += e->size + sizeof(e->size);
		(*n)++;
		if (e->type != MB_TYPE_USABLE)
			continue;
		*kib += e->length / KIB;
		if (e->base < HIGHMEM_START && e->base + e->length > LOWMEM_END)
			return "usable RAM in the hole";
		if (e->base == 0 && e->length == LOWMEM_END)
			low = 1;
		if (e->base == HIGHMEM_START &&
		    e->length == (u64)mbi->mem_upper * KIB)
			high = 1;
	}
	if (!low || !high)
		return "no low RAM or no RAM from 1 MiB matching mem_upper";
	return 0;
}

static u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* The average round trip of an inb the VMM program emulates. */
static void bench(void)
{
	u64 t0, t1;
	u32 i;

	t0 = rdtsc();
	for (i = 0; i < BENCH_INB; i++)
		(void)inb(COM1 + COM_LSR);
	t1 = rdtsc();
	puts("mbtest: inb round trip: ");
	/* Under 2^32 ticks in all (no 64-bit division in 32-bit code). */
	putu((u32)(t1 - t0) / BENCH_INB);
	puts(" TSC ticks (average of ");
	putu(BENCH_INB);
	puts(")\n");
}

static void __attribute__((noreturn)) spin(void)
{
	char c;

	puts("mbtest: spinning\n");
	for (;;) {
		if (!(inb(COM1 + COM_LSR) & COM_LSR_DR))
			continue;
		c = inb(COM1);
		puts("mbtest: got ");
		putc(c >= ' ' && c < 127 ? c : '.');
		putc('\n');
	}
}

/* String I/O the VMM must stop: the guest never comes back from it. */
static void hostile(const struct mb_info *mbi, const char *cmdline)
{
	u32 end = HIGHMEM_START + mbi->mem_upper * KIB;
	u32 dst = end - HOSTILE_BEFORE_END, cnt = HOSTILE_COUNT;

	if (has_word(cmdline, "hostile-ins")) {
		puts("mbtest: rep insb past the end of RAM\n");
		asm volatile("cld; rep insb"
			     : "+D"(dst), "+c"(cnt) : "d"(COM1) : "memory");
	} else if (has_word(cmdline, "hostile-outs")) {
		puts("mbtest: rep outsb from beyond RAM\n");
		dst = BEYOND_RAM;
		asm volatile("cld; rep outsb"
			     : "+S"(dst), "+c"(cnt) : "d"(COM1) : "memory");
	} else if (has_word(cmdline, "hostile-insl-hole")) {
		puts("mbtest: rep insl into the legacy hole\n");
		dst = LOWMEM_END;
		asm volatile("cld; rep insl"
			     : "+D"(dst), "+c"(cnt) : "d"(COM1) : "memory");
	} else {
		return;
	}
	puts("mbtest: hostile string I/O came back\n");
	finish(FAIL_VALUE);
}

void mbtest_main(u32 magic, const struct mb_info *mbi)
{
	const char *why, *cmdline = "";
	u64 kib = 0;
	u32 n = 0;

	com_init();
	if (magic != MB_LOADER_MAGIC) {
		puts("mbtest: EAX is not the multiboot loader's magic\n");
		finish(FAIL_VALUE);
	}
	if (mbi->flags & MB_FLAG_CMDLINE)
		cmdline = (const char *)mbi->cmdline;
	puts("mbtest: cmdline: ");
	puts(cmdline);
	putc('\n');
	show_modules(mbi);
	if ((why = check_mmap(mbi, &n, &kib)) != 0) {
		puts("mbtest: memory map bad: ");
		puts(why);
		putc('\n');
		finish(FAIL_VALUE);
	}
	puts("mbtest: memory map ok: ");
	putu(n);
	puts(" entries, ");
	putu((u32)kib);
	puts(" KiB usable\n");
	if (has_word(cmdline, "halt")) {
		for (n = 0; n < HALTS; n++) {
			puts("mbtest: halt ");
			putu(n);
			putc('\n');
			asm volatile("sti; hlt; cli");
		}
		puts("mbtest: ");
		putu(HALTS);
		puts(" HLTs came back\n");
	}
	if (has_word(cmdline, "bench"))
		bench();
	if (has_word(cmdline, "spin"))
		spin();
	hostile(mbi, cmdline);
	finish(EXIT_VALUE);
}
