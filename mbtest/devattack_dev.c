/*
 * Attacks on the other devices and on the MMIO path (devattack.h): a
 * UART flooded with interrupts off, every register value, CMOS indexes
 * past its 128 bytes, keyboard-controller command storms, a read of
 * every port, MMIO of every size at every offset of the LAPIC, page-
 * crossing and unclaimed MMIO; and the ones the VMM must stop: MMIO by
 * instructions its decoder does not know, string I/O into the legacy
 * hole, firmware tables rewritten and then a reset, a flood for ever.
 * References: PC16550D datasheet (LSR: THRE, OE; MCR loop; FIFO of 16);
 * MC146818A (index port, NMI bit 7, 128 bytes here); 8042 (status bit 0,
 * commands, pulse 0xF0-0xFF); Intel SDM vol. 3A 11.4.1 (APIC registers
 * are 32-bit aligned: other accesses undefined, never fatal to a host).
 *
 * Invariants:
 * - Reset pulses (8042 commands 0xF0-0xFE with bit 0 clear, a data byte
 *   after 0xD1) appear only in the attack that STOPS by them.
 * - Flood output is whole lines "devattack: flood ###..." (FLOOD_LINES
 *   of them), so the grade can count what reached the console.
 */
#include "devattack.h"
#include "intr.h"

#define COM_LOOP 0x10
#define COM_LSR_OE 0x02
#define UART_FIFO 16
#define UART_REGS 8
#define LOOP_FLOOD 4096
#define FLOOD_LINES 128
#define FLOOD_HASHES 60
#define BYTE_VALUES 256
#define ONES8 0xFF
#define ONES16 0xFFFF
/* Offsets in a 16-byte LAPIC register that a write may touch without
 * reaching its first byte or the next register's. */
#define OFF_REG_FIRST 1
#define OFF_REG_LAST 13
#define HPET_REG 0xF0

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_INDEXES 256
#define CMOS_STATUS_B 0x0B
#define CMOS_B_24H 0x02

#define KBC_DATA 0x60
#define KBC_CMD 0x64
#define KBC_OBF 0x01
#define KBC_WRITE_OUT 0xD1
#define KBC_PULSE_FIRST 0xF0
#define KBC_ENABLE_KBD 0xAE
#define KBC_RESET_PULSE 0xFE
#define KBC_DRAIN_MAX 1000

#define PORTS 0x10000
#define DEBUG_EXIT 0xF4

#define LAPIC 0xFEE00000
#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define IOAPIC 0xFEC00000
#define PAGE 0x1000
#define REG_STRIDE 16
#define HPET 0xFED00000
#define PCI_HOLE 0xE0000000
#define ALL_ONES 0xFFFFFFFF
#define HOLE 0xA0000
#define BEYOND_RAM 0xFFFF0000
#define IDE_DATA 0x1F0
#define BDA 0x400
#define BDA_SIZE 0x100
#define FW_LOW 0x9F000
#define FW_END 0xA0000

static void flood_line(void)
{
	static const char head[] = "devattack: flood ";
	u32 i;

	/* THR written without waiting for THRE. */
	for (i = 0; head[i]; i++)
		outb(COM1, head[i]);
	for (i = 0; i < FLOOD_HASHES; i++)
		outb(COM1, '#');
	outb(COM1, '\n');
}

static u8 lsr_wait(const char *name, u8 bit)
{
	u32 i;
	u8 l = 0;

	for (i = 0; i < DA_POLL_MAX; i++)
		if ((l = inb(COM1 + COM_LSR)) & bit)
			return l;
	da_check(0, name, "an LSR bit never came");
	return l;
}

static void uart_flood(const struct mb_info *mbi, const char *name)
{
	u32 i;

	for (i = 0; i < FLOOD_LINES; i++)
		flood_line();
	lsr_wait(name, COM_LSR_THRE);
	da_begin(name);
	da_kv("lines", FLOOD_LINES);
	da_end();
}

/* Loopback: bytes go to the receive FIFO, which overruns (OE) and
 * keeps its 16. */
static void uart_loop_flood(const struct mb_info *mbi, const char *name)
{
	u32 i, got = 0;
	u8 lsr;

	outb(COM1 + COM_FCR, COM_FCR_ON_CLEAR);
	outb(COM1 + COM_MCR, COM_LOOP | COM_MCR_DTR_RTS);
	for (i = 0; i < LOOP_FLOOD; i++)
		outb(COM1, i);
	lsr = inb(COM1 + COM_LSR);
	while ((inb(COM1 + COM_LSR) & COM_LSR_DR) && got <= LOOP_FLOOD) {
		(void)inb(COM1);
		got++;
	}
	com_init();
	da_check(lsr & COM_LSR_OE, name, "no overrun after the flood");
	da_check(got == UART_FIFO, name, "the FIFO did not hold 16 bytes");
	da_begin(name);
	da_kv("lsr", lsr);
	da_kv("fifo", got);
	da_end();
}

/* Every value into every register but THR (DLL only, with DLAB). */
static void uart_every_value(const struct mb_info *mbi, const char *name)
{
	u32 r, v;

	for (r = 1; r < UART_REGS; r++)
		for (v = 0; v < BYTE_VALUES; v++)
			outb(COM1 + r, v);
	outb(COM1 + COM_LCR, COM_LCR_DLAB);
	for (v = 0; v < BYTE_VALUES; v++) {
		outb(COM1, v);
		outb(COM1 + COM_IER, v);
	}
	for (r = 0; r < UART_REGS * BYTE_VALUES; r++)
		(void)inb(COM1 + r % UART_REGS);
	com_init();
	da_begin(name);
	da_kv("writes", (UART_REGS + 1) * BYTE_VALUES);
	da_end();
}

/* Every index with and without the NMI bit, each written all ones. */
static void cmos_every_index(const struct mb_info *mbi, const char *name)
{
	u32 i, ones = 0;

	for (i = 0; i < CMOS_INDEXES; i++) {
		outb(CMOS_INDEX, i);
		(void)inb(CMOS_DATA);
		outb(CMOS_DATA, ONES8);
		outb(CMOS_INDEX, i);
		ones += inb(CMOS_DATA) == ONES8;
	}
	outb(CMOS_INDEX, CMOS_STATUS_B);
	outb(CMOS_DATA, CMOS_B_24H);
	da_begin(name);
	da_kv("read_back_ones", ones);
	da_end();
}

static u32 kbc_drain(void)
{
	u32 n = 0;

	while ((inb(KBC_CMD) & KBC_OBF) && n < KBC_DRAIN_MAX) {
		(void)inb(KBC_DATA);
		n++;
	}
	return n;
}

/* Every controller command that resets nothing, then every byte to the
 * keyboard: replies queue, bounded, and drain. */
static void kbc_storm(const struct mb_info *mbi, const char *name)
{
	u32 c, got;

	for (c = 0; c < KBC_PULSE_FIRST; c++)
		if (c != KBC_WRITE_OUT)
			outb(KBC_CMD, c);
	for (c = KBC_PULSE_FIRST + 1; c < BYTE_VALUES; c += 2)
		outb(KBC_CMD, c);
	outb(KBC_CMD, KBC_ENABLE_KBD);
	got = kbc_drain();
	for (c = 0; c < BYTE_VALUES; c++)
		outb(KBC_DATA, c);
	got += kbc_drain();
	da_check(!(inb(KBC_CMD) & KBC_OBF), name, "the output never drains");
	da_begin(name);
	da_kv("replies", got);
	da_end();
}

/* An inb of every port but the debug-exit's: unclaimed ones read all
 * ones (the VMM names the first 16 and counts the rest). */
static void port_scan(const struct mb_info *mbi, const char *name)
{
	u32 p, ones = 0;

	for (p = 0; p < PORTS; p++)
		if (p != DEBUG_EXIT)
			ones += inb(p) == ONES8;
	com_init();
	da_begin(name);
	da_kv("ports_all_ones", ones);
	da_end();
}

/* Reads of 1, 2 and 4 bytes at every offset of the LAPIC page and the
 * IOAPIC's registers; writes of 1 and 2 bytes off register starts. */
static void mmio_sizes(const struct mb_info *mbi, const char *name)
{
	u32 off, id = mmio_r32(LAPIC + LAPIC_ID), sum = 0;

	for (off = 0; off < PAGE; off++) {
		sum += mmio_r8(LAPIC + off);
		sum += mmio_r16(LAPIC + off);
		sum += mmio_r32(LAPIC + off);
		if (off % REG_STRIDE >= OFF_REG_FIRST &&
		    off % REG_STRIDE <= OFF_REG_LAST) {
			mmio_w8(LAPIC + off, 0);
			mmio_w16(LAPIC + off, 0);
		}
	}
	for (off = 0; off < PAGE; off += 3)
		sum += mmio_r16(IOAPIC + off) + mmio_r8(IOAPIC + off + 1);
	da_check(mmio_r32(LAPIC + LAPIC_ID) == id, name,
		 "the LAPIC ID changed");
	da_begin(name);
	da_kv("sum", sum);
	da_end();
}

/* Accesses across the end of the LAPIC and IOAPIC pages and of RAM. */
static void mmio_crossing(const struct mb_info *mbi, const char *name)
{
	u32 ram_end = HIGHMEM_START + mbi->mem_upper * KIB;
	u32 a, b, c;

	a = mmio_r32(LAPIC + PAGE - 2);
	mmio_w32(LAPIC + PAGE - 2, 0);
	b = mmio_r16(IOAPIC + PAGE - 1);
	mmio_w16(IOAPIC + PAGE - 1, 0);
	c = mmio_r32(ram_end - 2);
	mmio_w32(ram_end - 2, ALL_ONES);
	da_begin(name);
	da_kv("lapic_end", a);
	da_kv("ioapic_end", b);
	da_kv("ram_end", c);
	da_end();
}

/* Nobody's MMIO: reads all ones at every size, writes dropped. */
static void mmio_unclaimed(const struct mb_info *mbi, const char *name)
{
	u32 ram_end = HIGHMEM_START + mbi->mem_upper * KIB;
	const u32 where[] = { HPET, HPET + HPET_REG, PCI_HOLE, ram_end };
	u32 i;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		mmio_w32(where[i], 0);
		mmio_w8(where[i] + 1, 0);
		da_check(mmio_r32(where[i]) == ALL_ONES &&
			 mmio_r16(where[i] + 2) == ONES16 &&
			 mmio_r8(where[i] + 3) == ONES8, name,
			 "unclaimed MMIO is not all ones");
	}
	da_begin(name);
	da_kv("addresses", i);
	da_end();
}

/* ---- Attacks the VMM must stop ----------------------------------------- */

static void mmio_movs(const struct mb_info *mbi, const char *name)
{
	u32 src = LAPIC, dst = DA_SCRATCH, n = 4;

	asm volatile("cld; rep movsl" : "+S"(src), "+D"(dst), "+c"(n)
		     : : "memory");
}

static void mmio_xchg(const struct mb_info *mbi, const char *name)
{
	u32 v = 0;

	asm volatile("xchgl %0, (%1)" : "+r"(v) : "r"(LAPIC + LAPIC_TPR)
		     : "memory");
}

static void mmio_lock_add(const struct mb_info *mbi, const char *name)
{
	asm volatile("lock addl $1, (%0)" : : "r"(LAPIC + LAPIC_TPR)
		     : "memory");
}

/* The IDE data port's string path (a sector per exit: vmmdev/run.c),
 * into the legacy hole and from beyond RAM. */
static void ide_insw_hole(const struct mb_info *mbi, const char *name)
{
	u32 dst = HOLE, n = PAGE;

	asm volatile("cld; rep insw" : "+D"(dst), "+c"(n) : "d"(IDE_DATA)
		     : "memory");
}

static void ide_outsw_beyond(const struct mb_info *mbi, const char *name)
{
	u32 src = BEYOND_RAM, n = PAGE;

	asm volatile("cld; rep outsw" : "+S"(src), "+c"(n) : "d"(IDE_DATA)
		     : "memory");
}

/* The BDA and the EBDA with the MP and ACPI tables, all ones; then the
 * 8042's reset pulse: the guest ends (a reset is not a reboot here). */
static void fw_reset(const struct mb_info *mbi, const char *name)
{
	u32 a;

	for (a = BDA; a < BDA + BDA_SIZE; a++)
		*(volatile u8 *)a = 0xFF;
	for (a = FW_LOW; a < FW_END; a++)
		*(volatile u8 *)a = 0xFF;
	outb(KBC_CMD, KBC_RESET_PULSE);
}

/* THR for ever: the console must stay the host's to take back. */
static void flood_forever(const struct mb_info *mbi, const char *name)
{
	for (;;)
		flood_line();
}

const struct devattack da_dev[] = {
	{ "uart-flood", uart_flood, DA_RUNS },
	{ "uart-loopback-flood", uart_loop_flood, DA_RUNS },
	{ "uart-every-value", uart_every_value, DA_RUNS },
	{ "cmos-every-index", cmos_every_index, DA_RUNS },
	{ "kbc-storm", kbc_storm, DA_RUNS },
	{ "mmio-unclaimed", mmio_unclaimed, DA_RUNS },
	{ "mmio-sizes", mmio_sizes, DA_RUNS },
	{ "mmio-crossing", mmio_crossing, DA_RUNS },
	/* Last: its unclaimed ports fill the VMM's 16 named addresses. */
	{ "port-scan", port_scan, DA_RUNS },
	{ "mmio-movs", mmio_movs, DA_STOPS },
	{ "mmio-xchg", mmio_xchg, DA_STOPS },
	{ "mmio-lock-add", mmio_lock_add, DA_STOPS },
	{ "ide-insw-hole", ide_insw_hole, DA_STOPS },
	{ "ide-outsw-beyond", ide_outsw_beyond, DA_STOPS },
	{ "fw-reset", fw_reset, DA_STOPS },
	{ "flood-forever", flood_forever, DA_STOPS },
	{ 0, 0, 0 },
};
