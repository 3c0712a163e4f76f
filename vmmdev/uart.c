/*
 * A 16550A UART (COM1: 8 ports at 0x3F8, IRQ 4), the guest's console.
 * Reference: National Semiconductor / TI PC16550D datasheet (registers,
 * Table 2 and 3; interrupt priorities, Table 4; FIFO control).
 *
 * Transmitted bytes go to the guest's console (vrun_cons_put: the
 * kernel's per-guest console, with its foreground, ring and attach);
 * bytes typed at that console arrive in the receive FIFO, at most as
 * many as it has room for. In loopback (MCR.LOOP) transmitted bytes come
 * back to the receive FIFO instead, as the datasheet wires it.
 *
 * Invariants:
 * - rx holds rx_n (<= RX_FIFO) bytes from rx_r on; without FIFO mode
 *   only one of them counts as the holding register, as on a 16450.
 * - The transmitter is as fast as the console: THR is empty whenever
 *   the console has room (LSR.THRE and TEMT); a byte written while it
 *   has none is dropped and counted.
 * - The IRQ line is high exactly when an interrupt is pending (IIR bit 0
 *   clear). MCR.OUT2, which some PC boards use to gate the COM IRQ, is
 *   not a gate here, as in QEMU's 16550A: xv6 clears MCR and still
 *   counts on receive interrupts.
 * - msr_deltas holds MSR's delta bits since MSR was last read; only an
 *   MCR write changes the modem lines (loopback on or off, or the
 *   outputs it loops back), and it sets them (modem_changed).
 */
#include <inc/lib.h>
#include <vmmdev/dev.h>
#include <vmmdev/pc.h>

#define UART_PORTS 8
#define RX_FIFO 16

/* Register offsets. */
enum {
	REG_DATA = 0,  /* RBR / THR; DLL when LCR.DLAB */
	REG_IER,       /* DLM when LCR.DLAB */
	REG_IIR,       /* FCR on writes */
	REG_LCR,
	REG_MCR,
	REG_LSR,
	REG_MSR,
	REG_SCR,
};

#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_RLS 0x04
#define IER_MS 0x08
#define IER_MASK 0x0F

#define IIR_NONE 0x01
#define IIR_RLS 0x06
#define IIR_RDA 0x04
#define IIR_TIMEOUT 0x0C
#define IIR_THRE 0x02
#define IIR_MS 0x00
#define IIR_FIFO_ON 0xC0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_TRIGGER(v) (((v) >> 6) & 3)

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1F

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08

static const uint8_t rx_trigger[] = { 1, 4, 8, 14 };

struct uart {
	unsigned irq;
	uint8_t ier, lcr, mcr, scr, fcr, msr_deltas;
	uint8_t dll, dlm;
	bool overrun;       /* LSR.OE until LSR is read */
	bool thre_pending;  /* the THR-empty interrupt, until IIR/THR */
	bool irq_level;
	uint8_t rx[RX_FIFO];
	unsigned rx_r, rx_n;
	uint64_t dropped;   /* bytes the console had no room for */
};

static struct uart com1 VDEV_SHARED;

static unsigned rx_cap(const struct uart *u)
{
	return (u->fcr & FCR_ENABLE) ? RX_FIFO : 1;
}

/* The pending interrupt of highest priority (Table 4), or IIR_NONE. */
static uint8_t pending(const struct uart *u)
{
	if ((u->ier & IER_RLS) && u->overrun)
		return IIR_RLS;
	if ((u->ier & IER_RDA) && u->rx_n) {
		if (!(u->fcr & FCR_ENABLE) ||
		    u->rx_n >= rx_trigger[FCR_TRIGGER(u->fcr)])
			return IIR_RDA;
		return IIR_TIMEOUT;
	}
	if ((u->ier & IER_THRE) && u->thre_pending)
		return IIR_THRE;
	if ((u->ier & IER_MS) && u->msr_deltas)
		return IIR_MS;
	return IIR_NONE;
}

static void update_irq(struct uart *u)
{
	bool level = pending(u) != IIR_NONE;

	if (level != u->irq_level) {
		u->irq_level = level;
		vdev_irq_set(u->irq, level);
	}
}

static void rx_push(struct uart *u, uint8_t c)
{
	if (u->rx_n >= rx_cap(u)) {
		u->overrun = true;
		return;
	}
	u->rx[(u->rx_r + u->rx_n++) % RX_FIFO] = c;
}

/* Console input (vrun: at each exit, at most uart_room() bytes). */
static void uart_rx(const uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		rx_push(&com1, buf[i]);
	update_irq(&com1);
}

static size_t uart_room(void)
{
	/* In loopback the line is cut from the console. */
	if (com1.mcr & MCR_LOOP)
		return 0;
	return rx_cap(&com1) - com1.rx_n;
}

static uint8_t rx_pop(struct uart *u)
{
	uint8_t c;

	if (!u->rx_n)
		return 0;
	c = u->rx[u->rx_r];
	u->rx_r = (u->rx_r + 1) % RX_FIFO;
	u->rx_n--;
	return c;
}

/* The modem input lines (MSR bits 4-7): from MCR in loopback; else all
 * asserted but RI (a console is always there). */
static uint8_t msr_lines(const struct uart *u)
{
	uint8_t m = 0;

	if (!(u->mcr & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	if (u->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static uint8_t msr(const struct uart *u)
{
	return u->msr_deltas | msr_lines(u);
}

/* MSR's delta bits for a change of the lines from before (datasheet,
 * MSR): DCTS, DDSR and DDCD on any change, TERI when RI goes off. */
static void modem_changed(struct uart *u, uint8_t before)
{
	uint8_t after = msr_lines(u), diff = before ^ after;

	if (diff & MSR_CTS)
		u->msr_deltas |= MSR_DCTS;
	if (diff & MSR_DSR)
		u->msr_deltas |= MSR_DDSR;
	if ((before & MSR_RI) && !(after & MSR_RI))
		u->msr_deltas |= MSR_TERI;
	if (diff & MSR_DCD)
		u->msr_deltas |= MSR_DDCD;
}

static uint8_t lsr(struct uart *u)
{
	uint8_t l = 0;

	if (u->rx_n)
		l |= LSR_DR;
	if (u->overrun)
		l |= LSR_OE;
	if ((u->mcr & MCR_LOOP) || vrun_cons_room() > 0)
		l |= LSR_THRE | LSR_TEMT;
	return l;
}

static uint64_t uart_read(struct vdev *d, uint64_t off, unsigned size)
{
	struct uart *u = d->state;
	uint8_t v = 0, id;

	switch (off) {
	case REG_DATA:
		v = (u->lcr & LCR_DLAB) ? u->dll : rx_pop(u);
		break;
	case REG_IER:
		v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case REG_IIR:
		id = pending(u);
		/* Reading IIR clears a THR-empty interrupt it reports. */
		if (id == IIR_THRE)
			u->thre_pending = false;
		v = id | ((u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0);
		break;
	case REG_LCR:
		v = u->lcr;
		break;
	case REG_MCR:
		v = u->mcr;
		break;
	case REG_LSR:
		v = lsr(u);
		u->overrun = false;
		break;
	case REG_MSR:
		v = msr(u);
		u->msr_deltas = 0;
		break;
	case REG_SCR:
		v = u->scr;
		break;
	}
	update_irq(u);
	return v;
}

static void transmit(struct uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP)
		rx_push(u, c);
	else if (!vrun_cons_put(c))
		u->dropped++;
	/* Sent at once: the holding register is empty again. */
	u->thre_pending = true;
}

static void write_fcr(struct uart *u, uint8_t v)
{
	if ((v ^ u->fcr) & FCR_ENABLE)
		u->rx_n = 0;  /* switching FIFO mode clears them */
	if (v & FCR_CLEAR_RX)
		u->rx_n = 0;
	u->fcr = v & ~(FCR_CLEAR_RX | 0x04);
}

static void uart_write(struct vdev *d, uint64_t off, unsigned size,
		       uint64_t val)
{
	struct uart *u = d->state;
	uint8_t v = val, old;

	switch (off) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			transmit(u, v);
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling it with THR empty raises THRE at once. */
		if ((v & IER_THRE) && !(u->ier & IER_THRE))
			u->thre_pending = true;
		u->ier = v & IER_MASK;
		break;
	case REG_IIR:
		write_fcr(u, v);
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		old = msr_lines(u);
		u->mcr = v & MCR_MASK;
		modem_changed(u, old);
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default:  /* LSR and MSR are read-only (factory test writes) */
		break;
	}
	update_irq(u);
}

static struct vdev uart_dev VDEV_SHARED = {
	.name = "uart16550a",
	.space = VDEV_PIO,
	.len = UART_PORTS,
	.read = uart_read,
	.write = uart_write,
	.state = &com1,
};

int uart_init(uint16_t base, unsigned irq)
{
	memset(&com1, 0, sizeof(com1));
	com1.irq = irq;
	uart_dev.base = base;
	vrun_set_console(uart_rx, uart_room);
	return vdev_register(&uart_dev);
}
