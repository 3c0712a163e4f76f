/*
 * COM2: a 16550 UART at 0x2F8 on IRQ 3, between two rings. See
 * kern/com2.h for the rules; the register names are those of
 * kern/console.c's COM1 driver.
 *
 * Why it looks like this: whoever connects to the COM2 TCP port may send
 * anything, as fast as the emulator takes it, or never read what we send.
 * So no loop here waits on the UART: the interrupt moves at most one
 * FIFO's worth each way, a tick moves the same, and the number of
 * interrupts and of transmitted bytes per tick is capped. When the
 * receive ring is full the receive interrupt is masked and the bytes stay
 * in the UART, whose full FIFO makes the emulator stop reading the socket
 * (QEMU offers only as many bytes as the FIFO has room for; Bochs reads
 * its socket only until the trigger level is reached): the client is
 * held back, the host spends nothing.
 *
 * Invariants (with kern/com2.h's):
 *  - rx and tx indices only grow (wrapping at 2^32, a multiple of the
 *    sizes); wpos - rpos bytes wait, never more than the ring's size.
 *  - The UART's IER is 0 inside com2_intr and otherwise what set_ier()
 *    last computed: receive only while the rx ring has a FIFO's worth of
 *    room, transmit only while tx has bytes and the tick's budget lasts,
 *    nothing once the tick's interrupt budget is spent.
 */
#include <inc/x86.h>
#include <inc/uart.h>
#include <kern/com2.h>

/*
 * Sizes and budgets. The receive ring only has to cover the bytes that
 * arrive between two ticks at a useful rate (the packet itself is
 * assembled elsewhere, vmm/gdbpkt.c). The transmit ring holds two of
 * the largest replies (4 KiB of payload), so one can be built while the
 * previous one drains. Per tick at most COM2_TX_PER_TICK bytes leave
 * (50 KiB/s at TIMER_HZ = 100: a register dump in a tick or two, more
 * than gdb needs; Bochs' 115200 baud line carries less anyway) and at
 * most COM2_IRQS_PER_TICK interrupts are taken (the 32 that 512 bytes
 * of output need, and some for input): COM2 costs the boot CPU a bounded
 * number of short interrupts per tick whatever the client does.
 */
#define RX_SIZE 1024
#define TX_SIZE COM2_TX_SIZE
#define COM2_TX_PER_TICK 512
#define COM2_IRQS_PER_TICK 48

static struct {
	bool exists;
	uint8_t ier;             /* what set_ier() last wrote */
	unsigned irqs;           /* interrupts taken this tick */
	unsigned tx_budget;      /* bytes that may still leave this tick */
	uint8_t rx[RX_SIZE];
	uint32_t rx_rpos, rx_wpos;
	uint8_t tx[TX_SIZE];
	uint32_t tx_rpos, tx_wpos;
} com2;

static uint32_t rx_count(void)
{
	return com2.rx_wpos - com2.rx_rpos;
}

static uint32_t tx_count(void)
{
	return com2.tx_wpos - com2.tx_rpos;
}

/* What the UART holds, into rx: one FIFO's worth at most. */
static void rx_drain(void)
{
	int n;

	for (n = 0; n < COM_FIFO && rx_count() < RX_SIZE; n++) {
		if (!(inb(COM2 + COM_LSR) & COM_LSR_DATA))
			return;
		com2.rx[com2.rx_wpos++ % RX_SIZE] = inb(COM2 + COM_RX);
	}
}

/* From tx into an empty transmit FIFO, within the tick's budget. */
static void tx_fill(void)
{
	int n;

	if (!tx_count() || !com2.tx_budget ||
	    !(inb(COM2 + COM_LSR) & COM_LSR_THRE))
		return;
	for (n = 0; n < COM_FIFO && tx_count() && com2.tx_budget; n++) {
		outb(COM2 + COM_TX, com2.tx[com2.tx_rpos++ % TX_SIZE]);
		com2.tx_budget--;
	}
}

/*
 * The interrupts we want now. Written even when unchanged: after IER = 0
 * the write raises the IRQ line again if a condition is still pending,
 * and the PIC (edge-triggered) sees a fresh edge instead of a line that
 * never went low.
 */
static void set_ier(void)
{
	uint8_t ier = 0;

	if (com2.irqs < COM2_IRQS_PER_TICK) {
		if (RX_SIZE - rx_count() >= COM_FIFO)
			ier |= COM_IER_RDI;
		if (tx_count() && com2.tx_budget)
			ier |= COM_IER_THRI;
	}
	com2.ier = ier;
	outb(COM2 + COM_IER, ier);
}

/* Probe and program COM2: 115200 8N1, FIFOs on, interrupts on. */
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
	outb(COM2 + COM_FCR, COM_FCR_ON | COM_FCR_CLR_RX | COM_FCR_CLR_TX |
				     COM_FCR_TRIG14);
	outb(COM2 + COM_MCR, COM_MCR_DTR | COM_MCR_RTS | COM_MCR_OUT2);
	(void)inb(COM2 + COM_IIR);
	com2.exists = true;
	com2.tx_budget = COM2_TX_PER_TICK;
	set_ier();
	return true;
}

bool com2_present(void)
{
	return com2.exists;
}

void com2_intr(void)
{
	if (!com2.exists)
		return;
	/* Line low; set_ier() raises it again if work remains. */
	outb(COM2 + COM_IER, 0);
	com2.irqs++;
	rx_drain();
	tx_fill();
	set_ier();
}

void com2_tick(void)
{
	if (!com2.exists)
		return;
	com2.irqs = 0;
	com2.tx_budget = COM2_TX_PER_TICK;
	outb(COM2 + COM_IER, 0);
	rx_drain();
	tx_fill();
	set_ier();
}

int com2_getc(void)
{
	if (!com2.exists || !rx_count())
		return -1;
	return com2.rx[com2.rx_rpos++ % RX_SIZE];
}

size_t com2_tx_room(void)
{
	return com2.exists ? TX_SIZE - tx_count() : 0;
}

bool com2_queue(const void *buf, size_t n)
{
	const uint8_t *b = buf;
	size_t i;

	if (!com2.exists || n > com2_tx_room())
		return false;
	for (i = 0; i < n; i++)
		com2.tx[com2.tx_wpos++ % TX_SIZE] = b[i];
	/* Start now rather than at the next tick; the rest follows by
	 * interrupt. */
	if (!(com2.ier & COM_IER_THRI)) {
		tx_fill();
		set_ier();
	}
	return true;
}
