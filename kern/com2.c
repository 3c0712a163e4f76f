/*
 * COM2: a 16550 UART at 0x2F8, polled (no IRQ). See kern/com2.h for the
 * rules; the register names are those of kern/console.c's COM1 driver.
 */
#include <inc/x86.h>
#include <kern/com2.h>

#define COM2 0x2F8

#define COM_RX 0          /* in: receive buffer (DLAB = 0) */
#define COM_TX 0          /* out: transmit holding (DLAB = 0) */
#define COM_DLL 0         /* out: divisor latch, low byte (DLAB = 1) */
#define COM_DLM 1         /* out: divisor latch, high byte (DLAB = 1) */
#define COM_IER 1         /* out: interrupt enable */
#define COM_FCR 2         /* out: FIFO control */
#define COM_LCR 3         /* out: line control */
#define COM_LCR_DLAB 0x80 /*   divisor latch access */
#define COM_LCR_8N1 0x03  /*   8 data bits, no parity, 1 stop bit */
#define COM_MCR 4         /* out: modem control */
#define COM_MCR_DTR 0x01
#define COM_MCR_RTS 0x02
#define COM_LSR 5         /* in: line status */
#define COM_LSR_DATA 0x01 /*   a received byte is waiting */
#define COM_LSR_TXRDY 0x20 /*  transmit holding register empty */
/* With no UART the bus floats and every register reads this. */
#define COM_ABSENT 0xFF

#define COM_BAUD 115200
#define COM_CLOCK 115200
/* How many LSR polls to wait for the transmitter before giving up. */
#define COM_TX_SPINS 100000

static bool com2_exists;

/* Probe and program COM2: 115200 8N1, no FIFO, no interrupts. */
bool com2_init(void)
{
	uint16_t div = COM_CLOCK / COM_BAUD;

	if (inb(COM2 + COM_LSR) == COM_ABSENT)
		return false;
	outb(COM2 + COM_IER, 0);
	outb(COM2 + COM_LCR, COM_LCR_DLAB);
	outb(COM2 + COM_DLL, div & 0xFF);
	outb(COM2 + COM_DLM, div >> 8);
	outb(COM2 + COM_LCR, COM_LCR_8N1);
	/* FIFO off: one byte at a time, so the emulator throttles input. */
	outb(COM2 + COM_FCR, 0);
	outb(COM2 + COM_MCR, COM_MCR_DTR | COM_MCR_RTS);
	com2_exists = true;
	return true;
}

/* The next received byte, or -1 if none is waiting. */
int com2_getc(void)
{
	if (!com2_exists || !(inb(COM2 + COM_LSR) & COM_LSR_DATA))
		return -1;
	return inb(COM2 + COM_RX);
}

void com2_putc(int c)
{
	int i;

	if (!com2_exists)
		return;
	for (i = 0; i < COM_TX_SPINS; i++)
		if (inb(COM2 + COM_LSR) & COM_LSR_TXRDY)
			break;
	outb(COM2 + COM_TX, c);
}
