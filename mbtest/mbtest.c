/*
 * The multiboot test kernel (vmm -k /vmm/mbtest): a 32-bit freestanding
 * program that checks what a multiboot loader hands it and says so on
 * COM1, polled: its command line, each module's first line, and whether
 * the memory map is a PC's (RAM below the EBDA, reserved up to 1 MiB,
 * RAM from 1 MiB to the end mem_upper gives). Then it writes 7 to the
 * debug-exit port 0xf4: the VMM ends it with status (7 << 1) | 1 = 15.
 *
 * The word "spin" makes it poll COM1 for ever instead of exiting, and
 * echo each byte typed as "mbtest: got C" (the console's input path);
 * "bench" times BENCH_INB reads of LSR, each one exit handled by the
 * VMM program, in TSC ticks (instructions under Bochs and QEMU -icount);
 * "benchmmio" times LAPIC MMIO reads and writes (benchmmio.c);
 * "fetchremap" runs LAPIC loads from a code page remapped under it
 * (fetchremap.c); "smp" starts CPU 1 of a vmm -c 2 guest and aims
 * IPIs at it (smp.c); "smpbench" times an IPI round trip between two
 * vCPUs (smpbench.c); "smpattack" and "smpattack-*" are multi-vCPU
 * attacks (smpattack.c).
 * The word "intr" checks the IDT of intr.c with two software
 * interrupts. The word "unclaimed" touches a port and an MMIO address
 * no device claims (unclaimed.c). The word "halt" makes it halt HALTS
 * times with interrupts on first, each after "mbtest: halt N" (no
 * interrupt comes; a byte typed on its console makes the VMM resume
 * it). A word "hostile-*" runs an attack (hostile.c): a guest stopped
 * cleanly by the VMM never reaches the exit. Words "devtest-*" run the
 * device tests (devtest.h). Words "devattack" and "devattack-*" drive
 * the devices wildly (devattack.c). Shared types, port I/O and COM1
 * output: mb.h, mbio.c.
 *
 * Invariants:
 * - Each further part the command line can name lives in a file of its
 *   own and is called from mbtest_main after the memory-map check.
 */
#include "mb.h"
#include "intr.h"
#include "unclaimed.h"
#include "devtest.h"

#define MODULE_SHOWN 120
#define HALTS 3
#define BENCH_INB 1000
#define SELFTEST_VECTOR 0x80
/* The BIOS data area's word holding the EBDA's segment. */
#define BDA_EBDA_SEG 0x40E

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

/* A PC's map: usable [0, mem_lower KiB), ending at or before the EBDA
 * whose segment the BIOS data area gives (the MP and ACPI tables live
 * there), and [1M, 1M + mem_upper KiB); nothing usable from the EBDA to
 * 1 MiB. 0, or why not. */
static const char *check_mmap(const struct mb_info *mbi, u32 *n, u64 *kib)
{
	u32 off, ebda = *(volatile unsigned short *)BDA_EBDA_SEG * 16;
	int low = 0, high = 0;

	if ((mbi->flags & (MB_FLAG_MEM | MB_FLAG_MMAP)) !=
	    (MB_FLAG_MEM | MB_FLAG_MMAP))
		return "no memory information";
	if (ebda == 0 || ebda >= LOWMEM_END)
		return "no EBDA below 640 KiB in the BIOS data area";
	if (mbi->mem_lower * KIB > ebda)
		return "mem_lower runs into the EBDA";
	for (off = 0; off < mbi->mmap_length;) {
		const struct mb_mmap *e = (const void *)(mbi->mmap_addr + off);

		off += e->size + sizeof(e->size);
		(*n)++;
		if (e->type != MB_TYPE_USABLE)
			continue;
		*kib += e->length / KIB;
		if (e->base < HIGHMEM_START && e->base + e->length > ebda)
			return "usable RAM in the EBDA or the hole";
		if (e->base == 0 && e->length == (u64)mbi->mem_lower * KIB)
			low = 1;
		if (e->base == HIGHMEM_START &&
		    e->length == (u64)mbi->mem_upper * KIB)
			high = 1;
	}
	if (!low || !high)
		return "no low RAM matching mem_lower or no RAM from 1 MiB "
		       "matching mem_upper";
	return 0;
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

/* The IDT the device tests use takes a software interrupt and returns. */
static void intr_selftest(void)
{
	intr_init();
	asm volatile("int %0" : : "i"(SELFTEST_VECTOR));
	asm volatile("int %0" : : "i"(SELFTEST_VECTOR));
	if (intr_count[SELFTEST_VECTOR] != 2) {
		puts("mbtest: int $0x80 not counted twice\n");
		finish(FAIL_VALUE);
	}
	puts("mbtest: interrupts ok\n");
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
	if (has_word(cmdline, "intr"))
		intr_selftest();
	if (has_word(cmdline, "bench"))
		bench();
	if (has_word(cmdline, "unclaimed"))
		unclaimed();
	if (has_word(cmdline, "benchmmio"))
		bench_mmio();
	if (has_word(cmdline, "fetchremap"))
		fetch_remap();
	if (has_word(cmdline, "smp"))
		smp_test();
	if (has_word(cmdline, "smpbench"))
		smp_bench();
	smpattack(cmdline);
	if (has_word(cmdline, "spin"))
		spin();
	devtests(cmdline);
	hostile(mbi, cmdline);
	devattack(mbi, cmdline);
	finish(EXIT_VALUE);
}
