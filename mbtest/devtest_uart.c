/*
 * 16550A UART test (word "devtest-uart"): COM1's registers and its
 * interrupts through the PIC (IRQ 4), as a guest driver sees them.
 *
 * Registers: the divisor latch behind LCR.DLAB, IER's four bits, SCR,
 * FCR's FIFO bits as IIR shows them, LSR's empty transmitter, the
 * loopback of MCR (modem lines into MSR with their delta bits and the
 * modem-status interrupt, bytes into the receive FIFO in order, an
 * overrun past 16 bytes, FCR's receive clear). Interrupts: a
 * received byte in loopback raises RDA; THR-empty interrupts send a line
 * one byte per interrupt; and a byte the grade test types on the console
 * arrives by a receive-data interrupt.
 *
 * Reference: PC16550D datasheet (tables 2-4: registers, IIR
 * priorities; FIFO control; loopback; MSR: DCTS, DDSR, TERI (RI going
 * off), DDCD).
 *
 * Invariants:
 * - Nothing is printed while MCR.LOOP is set (it would loop back) or
 *   while IER.THRE is set outside the interrupt-driven line.
 * - The test leaves COM1 as com_init left it: divisor 1, 8N1, FIFO on,
 *   DTR|RTS, IER 0; IRQ 4 masked.
 */
#include "devtest.h"

enum { DATA, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR
#define DLL DATA
#define DLM IER
#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_ALL 0x0F
#define IIR_ID_MASK 0x0F
#define IIR_NONE 0x01
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_FIFO_MASK 0xC0
#define FCR_ON_TRIGGER14 0xC7
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE_TEMT 0x60
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_LINES 0x0F
#define MCR_LOOP 0x10
#define MSR_LINES 0xF0
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define IER_MS 0x08
#define IIR_MS 0x00
#define TEST_DIVISOR 3
#define SCR_PROBE 0xA5
#define RX_FIFO 16
#define LOOP_BYTE 'z'
#define TYPED_KEY 'k'
#define KEY_WAIT_MS 20000
#define INTR_WAIT_MS 100

static const char dev[] = "uart";
static const char tx_line[] = "mbtest: uart: this line went out one "
			      "THR-empty interrupt per byte\n";
static u32 tx_next, tx_intrs, rx_intrs;
static u8 last_rx;

static u8 rd(u32 reg)
{
	return inb(COM1 + reg);
}

static void wr(u32 reg, u8 v)
{
	outb(COM1 + reg, v);
}

/* IRQ 4: the pending source IIR names, served as a driver serves it. */
static void uart_intr(u32 vec)
{
	u8 id = rd(IIR) & IIR_ID_MASK;

	if (id == IIR_RDA) {
		last_rx = rd(DATA);
		rx_intrs++;
	} else if (id == IIR_THRE) {
		tx_intrs++;
		if (tx_line[tx_next])
			wr(DATA, tx_line[tx_next++]);
	}
	pic_eoi(IRQ_COM1);
}

static void registers(void)
{
	wr(LCR, COM_LCR_DLAB | COM_LCR_8N1);
	wr(DLL, TEST_DIVISOR);
	wr(DLM, 0);
	dt_check(dev, "DLL read back", rd(DLL), TEST_DIVISOR);
	dt_check(dev, "DLM read back", rd(DLM), 0);
	dt_check(dev, "LCR read back", rd(LCR), COM_LCR_DLAB | COM_LCR_8N1);
	wr(DLL, 1);
	wr(LCR, COM_LCR_8N1);
	dt_check(dev, "IER after DLM writes (DLAB set)", rd(IER), 0);
	wr(SCR, SCR_PROBE);
	dt_check(dev, "SCR read back", rd(SCR), SCR_PROBE);
	wr(IER, 0xFF);
	dt_check(dev, "IER keeps its 4 bits", rd(IER), IER_ALL);
	wr(IER, 0);
	wr(FCR, FCR_ON_TRIGGER14);
	dt_check(dev, "IIR FIFO bits, FIFO on", rd(IIR) & IIR_FIFO_MASK,
		 IIR_FIFO_MASK);
	wr(FCR, 0);
	dt_check(dev, "IIR, FIFO off, nothing pending", rd(IIR), IIR_NONE);
	wr(FCR, COM_FCR_ON_CLEAR);
	dt_check(dev, "LSR THRE and TEMT", rd(LSR) & LSR_THRE_TEMT,
		 LSR_THRE_TEMT);
}

/* Loopback: modem lines, the FIFO, overrun, and an RDA interrupt. */
static void loopback(void)
{
	u32 vec = DT_PIC_MASTER_VEC + IRQ_COM1, i;

	wr(MCR, MCR_LOOP | MCR_LINES);
	dt_check(dev, "MSR lines, loopback all on", rd(MSR) & MSR_LINES,
		 MSR_LINES);
	wr(MCR, MCR_LOOP | MCR_DTR);
	dt_check(dev, "MSR, loopback DTR only (DSR; CTS, DCD changed, RI "
		 "trailing edge)", rd(MSR), MSR_DSR | MSR_DCTS | MSR_TERI |
		 MSR_DDCD);
	dt_check(dev, "MSR deltas cleared by reading MSR", rd(MSR), MSR_DSR);
	wr(IER, IER_MS);
	wr(MCR, MCR_LOOP | MCR_RTS);
	dt_check(dev, "IIR: modem status interrupt", rd(IIR) & IIR_ID_MASK,
		 IIR_MS);
	dt_check(dev, "MSR, loopback RTS only (CTS; DSR changed)", rd(MSR),
		 MSR_CTS | MSR_DCTS | MSR_DDSR);
	dt_check(dev, "IIR after reading MSR", rd(IIR) & IIR_ID_MASK,
		 IIR_NONE);
	wr(IER, 0);
	dt_check(dev, "LSR DR, empty FIFO", rd(LSR) & LSR_DR, 0);
	for (i = 0; i < 3; i++)
		wr(DATA, 'a' + i);
	for (i = 0; i < 3; i++)
		dt_check(dev, "looped-back bytes in order", rd(DATA), 'a' + i);
	dt_check(dev, "LSR DR after reading all", rd(LSR) & LSR_DR, 0);
	for (i = 0; i <= RX_FIFO; i++)
		wr(DATA, 'A' + i);
	dt_check(dev, "LSR DR and OE after 17 bytes",
		 rd(LSR) & (LSR_DR | LSR_OE), LSR_DR | LSR_OE);
	dt_check(dev, "LSR OE cleared by reading LSR", rd(LSR) & LSR_OE, 0);
	wr(FCR, COM_FCR_ON_CLEAR);
	dt_check(dev, "LSR DR after FCR clears the FIFO", rd(LSR) & LSR_DR, 0);
	intr_set(vec, uart_intr);
	pic_unmask(IRQ_COM1);
	wr(IER, IER_RDA);
	wr(DATA, LOOP_BYTE);
	if (!dt_wait_ms(&rx_intrs, 1, INTR_WAIT_MS))
		dt_fail(dev, "RDA interrupt of a looped-back byte", 0, 1);
	dt_check(dev, "byte read in the RDA interrupt", last_rx, LOOP_BYTE);
	wr(IER, 0);
	wr(MCR, COM_MCR_DTR_RTS);
}

/* A line sent one byte per THR-empty interrupt; a typed byte received. */
static void interrupts(void)
{
	u32 vec = DT_PIC_MASTER_VEC + IRQ_COM1, n = sizeof(tx_line) - 1;

	intr_count[vec] = 0;
	tx_next = tx_intrs = 0;
	wr(IER, IER_THRE);  /* THR is empty: the first interrupt at once */
	if (!dt_wait_ms(&tx_intrs, n + 1, INTR_WAIT_MS + n))
		dt_fail(dev, "THR-empty interrupts for the line", tx_intrs,
			n + 1);
	wr(IER, 0);
	dt_check(dev, "bytes sent by THR-empty interrupts", tx_next, n);
	rx_intrs = 0;
	wr(IER, IER_RDA);
	puts("mbtest: uart: type a key\n");
	if (!dt_wait_ms(&rx_intrs, 1, KEY_WAIT_MS))
		dt_fail(dev, "RDA interrupt of a typed byte", 0, 1);
	wr(IER, 0);
	pic_mask_all();
	dt_check(dev, "typed byte read in the RDA interrupt", last_rx,
		 TYPED_KEY);
	dt_check(dev, "IRQ 4 interrupts at the PIC's vector",
		 intr_count[vec], tx_intrs + rx_intrs);
}

void devtest_uart(void)
{
	pic_setup(DT_PIC_MASTER_VEC, DT_PIC_SLAVE_VEC);
	registers();
	loopback();
	interrupts();
	dt_ok(dev);
}
