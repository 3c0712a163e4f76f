/*
 * What every program of the multiboot test kernel shares (mbtest/): its
 * types, the multiboot information it is handed, port I/O, and COM1
 * output (mbio.c). The kernel is one 32-bit program; mbtest.c checks
 * what the loader gave it and then runs the parts the command line
 * names, each in its own file.
 *
 * Invariants:
 * - No header of the host tree is used: those are for 64-bit code.
 * - Every write to COM1 waits for LSR.THRE, as a driver of a real
 *   16550A must (putc).
 * - finish() never returns: the VMM ends the guest at the debug-exit
 *   port, with status (v << 1) | 1.
 */
#ifndef MBTEST_MB_H
#define MBTEST_MB_H

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

/* A PC's memory layout, as the memory map must give it. */
#define KIB 1024
#define LOWMEM_END 0xA0000
#define HIGHMEM_START 0x100000

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

/* 16- and 32-bit port I/O (the names other parts use too). */
static inline void outw(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline u16 inw(u16 port)
{
	u16 v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* mbio.c */
void com_init(void);
void putc(char c);
void puts(const char *s);
void putu(u32 v);
void puthex(u32 v);
void __attribute__((noreturn)) finish(u8 v);
int has_word(const char *line, const char *w);
int has_prefixed_word(const char *line, const char *pre, const char *w);

/* hostile.c: string I/O the VMM must stop (words "hostile-*"). */
void hostile(const struct mb_info *mbi, const char *cmdline);
/* smp.c: the word "smp" (vmm -c 2): start CPU 1, then IPIs at it. */
void smp_test(void);
/* smpattack.c: multi-vCPU attacks (words "smpattack", "smpattack-*");
 * smpbench.c: IPI round trip between two vCPUs (word "smpbench"). */
void smpattack(const char *cmdline);
void smp_bench(void);
/* benchmmio.c: LAPIC MMIO round trips and shadow checks (word
 * "benchmmio"). */
void bench_mmio(void);
/* Word "fetchremap": MMIO loads from a remapped code page (fetchremap.c). */
void fetch_remap(void);

/* devattack.c: devices driven wildly (words "devattack", "devattack-*"). */
void devattack(const struct mb_info *mbi, const char *cmdline);

#endif /* !MBTEST_MB_H */
