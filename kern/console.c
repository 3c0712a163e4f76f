/*
 * The kernel console. Output is written to the COM1 serial port and the
 * CGA text screen; input is read from COM1 and the PS/2 keyboard into one
 * ring buffer. See kern/console.h for the rules callers rely on.
 *
 * A guest kernel (VMM_GUEST) has none of these devices: the VMM stops a
 * guest at its first port access. Its console is hypercalls: VMCALL_PUTS
 * out (a buffer at a time; VMCALL_PUTC for single bytes), and
 * VMCALL_GETC in, one byte at a time, polled.
 */
#include <inc/types.h>
#include <inc/x86.h>
#include <inc/uart.h>
#include <inc/memlayout.h>
#include <inc/string.h>
#include <inc/stdio.h>
#include <inc/vmx.h>
#include <kern/console.h>
#include <kern/time.h>
#include <kern/kbd.h>
#ifndef VMM_GUEST
#include <vmm/vmcons.h>
#else
#include <kern/pmap.h>
#endif

static void cons_putc(int c);

/* Ctrl-C: counted, never input (kern/console.h). */
#define CTRL_C 0x03
static volatile unsigned int interrupts;
#ifdef VMM_GUEST
static void guest_look_ahead(void);
#endif

unsigned int
cons_interrupts(void)
{
#ifdef VMM_GUEST
	guest_look_ahead();
#endif
	return interrupts;
}

#ifdef VMM_GUEST

/***** The guest console: hypercalls *****/

/* No devices to poll or to interrupt us. */
void
serial_intr(void)
{
}

void
kbd_intr(void)
{
}

/* Nothing to probe: the hypercall works from the first instruction. */
void
cons_init(void)
{
}

/*
 * The VMM buffers our input, and we take it one byte at a time. Only to
 * see a Ctrl-C behind bytes no one has read yet do we take input early
 * (guest_look_ahead): those bytes wait here, in order, for cons_getc.
 * When this ring is full we take no more, and the VMM keeps the rest.
 */
#define AHEADSIZE 256
static struct {
	uint8_t buf[AHEADSIZE];
	uint32_t rpos, wpos; /* only grow; wpos - rpos bytes wait */
} ahead;

/*
 * The next byte typed on the host console for us, a Ctrl-C counted
 * instead; or -1 if there is none. A VMM that does not know VMCALL_GETC
 * (an error) reads as nothing typed.
 */
static int
guest_fetch(void)
{
	int64_t c;

	for (;;) {
		c = vmcall(VMCALL_GETC, 0, 0, 0, 0, 0);
		if (c <= 0)
			return -1;
		if ((c & 0xFF) != CTRL_C)
			return c & 0xFF;
		interrupts++;
	}
}

/*
 * Look at most once per guest timer tick: a shell waiting for its command
 * asks for Ctrl-C in a loop, and an empty GETC gives the whole guest's
 * CPU back to the host, so polling every time starved the command it
 * waits for (a guest's fsbench ran 1.8x slower). Ctrl-C is seen within a
 * tick.
 */
static void
guest_look_ahead(void)
{
	static uint64_t looked_at = ~0ULL;
	uint64_t now = time_msec();
	int c;

	if (now == looked_at)
		return;
	looked_at = now;
	while (ahead.wpos - ahead.rpos < AHEADSIZE && (c = guest_fetch()) >= 0)
		ahead.buf[ahead.wpos++ % AHEADSIZE] = c;
}

/* The next byte typed for us, or 0 if there is none. */
int
cons_getc(void)
{
	int c;

	if (ahead.rpos != ahead.wpos)
		return ahead.buf[ahead.rpos++ % AHEADSIZE];
	return (c = guest_fetch()) < 0 ? 0 : c;
}

/* A guest runs no guests of its own: nothing is typed ahead for one. */
int
cons_take_pending(void)
{
	return -1;
}

/* The VMM prints c on the host console, which adds a CR where needed. */
static void
cons_putc(int c)
{
	vmcall(VMCALL_PUTC, c & 0xFF, 0, 0, 0, 0);
}

/*
 * Output for VMCALL_PUTS, which takes a guest-physical address: bytes go
 * through this buffer in the kernel image, whose address PADDR knows
 * from the first instruction on. Aligned to its size, it lies inside one
 * page, as PUTS needs. A guest has one CPU and its kernel runs with
 * interrupts off, so one buffer does.
 */
#define PUTS_CHUNK 256
static char puts_buf[PUTS_CHUNK] __attribute__((aligned(PUTS_CHUNK)));

/* Print s[0 .. n): a hypercall per PUTS_CHUNK bytes, not per byte. */
void
cons_write(const char *s, size_t n)
{
	size_t chunk, i;

	while (n > 0) {
		chunk = MIN(n, sizeof(puts_buf));
		memcpy(puts_buf, s, chunk);
		if (vmcall(VMCALL_PUTS, PADDR(puts_buf), chunk, 0, 0, 0) < 0)
			for (i = 0; i < chunk; i++) /* lose nothing */
				cons_putc(puts_buf[i]);
		s += chunk;
		n -= chunk;
	}
}

#else /* !VMM_GUEST */

/* Device registers are reached through the boot direct map. */
#define PHYS_TO_VIRT(pa) ((void *)(uintptr_t)(KERNBASE + (pa)))

/***** Input: a raw ring, then routing *****/

/*
 * Input moves in two steps. Draining (drain_device) copies what a
 * device holds into the raw ring: it prints nothing and calls nothing
 * outside this file, so serial_putc can do it between output bytes and
 * the UART's 16-byte receive FIFO never overruns while we print.
 * Routing (route_input) then hands each byte to the foreground guest's
 * own queue (vmcons_input, vmm/vmcons.c) or, with no guest in the
 * foreground, to the host's ring that cons_getc reads. Routing may
 * print (a guest's escape keys, an overflow notice), so it is never
 * re-entered: bytes that arrive meanwhile wait in the raw ring.
 *
 * Both rings are large enough for a 4 KiB paste. A byte that does not
 * fit is dropped, and the console says so once (until the ring that
 * overflowed has been emptied again).
 */
#define CONSBUFSIZE 8192
#define RAWBUFSIZE 8192

/*
 * rpos and wpos only ever increase (wrapping at 2^32, a multiple of the
 * size); wpos - rpos is the number of unread characters.
 */
static struct {
	uint8_t buf[CONSBUFSIZE];
	uint32_t rpos;
	uint32_t wpos;
} cons;

/*
 * The raw ring has one producer at a time (drain_device, which may run
 * on a CPU that does not hold the kernel lock: some messages are printed
 * outside it) and one consumer (route_input, always under the kernel
 * lock). Each side writes only its own index, after the data.
 */
static struct {
	uint8_t buf[RAWBUFSIZE];
	volatile uint32_t rpos;
	volatile uint32_t wpos;
} raw;
/* Some CPU is reading a device now: the others leave it to that one. */
static volatile uint32_t draining;

static bool routing;
/* Bytes were dropped and not yet reported; the report was made. */
static bool input_lost, input_loss_said;
/* The UART said bytes came faster than we read them (LSR overrun). */
static bool uart_overran;

static void
raw_put(int c)
{
	if (raw.wpos - raw.rpos == RAWBUFSIZE) {
		input_lost = true;
		return;
	}
	raw.buf[raw.wpos % RAWBUFSIZE] = c;
	/* The byte before the index that publishes it (x86 keeps the
	 * order of stores; the compiler must too). */
	asm volatile("" ::: "memory");
	raw.wpos++;
}

/* Appends c to the host's ring, dropping it if the ring is full. */
static void
cons_put_input(int c)
{
	if (cons.wpos - cons.rpos == CONSBUFSIZE) {
		input_lost = true;
		return;
	}
	cons.buf[cons.wpos++ % CONSBUFSIZE] = c;
}

/*
 * Copies what a device holds into the raw ring. proc returns a
 * character, 0 for a byte that yields none, or -1 when the device has
 * nothing more. The bound keeps a broken device that always claims data
 * from hanging us.
 */
static void
drain_device(int (*proc)(void))
{
	int c, n;

	/* Two CPUs must not interleave reads of one device's registers. */
	if (xchg(&draining, 1))
		return;
	for (n = 0; n < RAWBUFSIZE && (c = proc()) != -1; n++)
		if (c != 0)
			raw_put(c);
	asm volatile("" ::: "memory");
	draining = 0;
}

static void
route_input(void)
{
	bool say;

	if (routing)
		return;
	routing = true;
	while (raw.rpos != raw.wpos) {
		int c = raw.buf[raw.rpos % RAWBUFSIZE];
		asm volatile("" ::: "memory");
		raw.rpos++;
		if (vmcons_input(c))
			continue;
		if (c == CTRL_C)
			interrupts++;
		else
			cons_put_input(c);
	}
	say = (input_lost || uart_overran) && !input_loss_said;
	if (say)
		input_loss_said = true;
	if (say && input_lost)
		cprintf("\nconsole: input buffer full: input was dropped\n");
	else if (say)
		cprintf("\nconsole: the serial port's receive FIFO overran: "
			"input was dropped\n");
	routing = false;
}

/* Drains a device, then routes what it gave. */
static void
cons_intr(int (*proc)(void))
{
	drain_device(proc);
	route_input();
}

/***** Serial port: a 16550 UART at COM1 (registers: inc/uart.h) *****/

/* How many LSR polls to wait for the transmitter before giving up. */
#define COM_TX_SPINS 12800

static bool serial_exists;
/* VT100 "auto-wrap mode on" (DECAWM set). */
#define TERM_WRAP_ON "\033[?7h"

/* The previous input byte was '\r': swallow a following '\n'. */
static bool serial_saw_cr;

/* Reads one byte from the UART, or -1 if none is waiting. */
static int
serial_proc_data(void)
{
	int c;

	uint8_t lsr = inb(COM1 + COM_LSR);

	/* Reading LSR clears the overrun bit: note it now. */
	if (lsr & COM_LSR_OVERRUN)
		uart_overran = true;
	if (!(lsr & COM_LSR_DATA))
		return -1;
	c = inb(COM1 + COM_RX);
	/* Terminals send CR for Enter; some send CR LF: one newline. */
	if (c == '\n' && serial_saw_cr) {
		serial_saw_cr = false;
		return 0;
	}
	serial_saw_cr = (c == '\r');
	if (c == '\r')
		return '\n';
	/* Many terminals send DEL for the backspace key. */
	if (c == 0x7f)
		return '\b';
	return c;
}

void
serial_intr(void)
{
	if (serial_exists)
		cons_intr(serial_proc_data);
}

static void
serial_putc(int c)
{
	int i;

	if (!serial_exists)
		return;
	/*
	 * Bounded, so a wedged UART slows printing but cannot hang it.
	 * Interrupts are off while the kernel prints: take what arrives
	 * meanwhile, or the receive FIFO overruns during long output.
	 */
	for (i = 0; i < COM_TX_SPINS; i++) {
		uint8_t lsr = inb(COM1 + COM_LSR);
		if (lsr & COM_LSR_OVERRUN)
			uart_overran = true;
		if (lsr & COM_LSR_DATA)
			drain_device(serial_proc_data);
		if (lsr & COM_LSR_THRE)
			break;
	}
	outb(COM1 + COM_TX, c);
}

/*
 * A serial terminal in raw mode (Bochs' term mode, a real UART) moves to
 * the next line only on CR LF, so a newline goes out as both.
 */
static void
serial_putc_crlf(int c)
{
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
}

static void
serial_init(void)
{
	uint16_t div = COM_CLOCK / COM_BAUD;
	const char *wrap;

	/* With no UART the bus floats and every register reads 0xFF. */
	if (inb(COM1 + COM_LSR) == 0xFF)
		return;
	serial_exists = true;

	/* No interrupts while we reprogram it. */
	outb(COM1 + COM_IER, 0);
	/*
	 * Keep anything typed (or piped in) before we got here: turning
	 * the FIFO on below may discard what the receiver holds.
	 */
	serial_intr();

	outb(COM1 + COM_LCR, COM_LCR_DLAB);
	outb(COM1 + COM_DLL, div & 0xFF);
	outb(COM1 + COM_DLM, div >> 8);
	outb(COM1 + COM_LCR, COM_LCR_8N1);
	outb(COM1 + COM_FCR, COM_FCR_ON);
	outb(COM1 + COM_MCR, COM_MCR_DTR | COM_MCR_RTS | COM_MCR_OUT2);

	/* Acknowledge any stale interrupt, then ask for receive IRQs. */
	(void)inb(COM1 + COM_IIR);
	serial_intr();
	outb(COM1 + COM_IER, COM_IER_RDI);

	/* The firmware (SeaBIOS) turned the terminal's auto-wrap off: long
	 * lines would end cut off at its right edge. Turn it back on. */
	for (wrap = TERM_WRAP_ON; *wrap; wrap++)
		serial_putc(*wrap);
}

/***** CGA (or MDA) text screen *****/

#define CGA_PADDR 0xB8000
#define CGA_CRTC 0x3D4  /* CRT controller index port; data is + 1 */
#define MONO_PADDR 0xB0000
#define MONO_CRTC 0x3B4
#define CRTC_CURSOR_HI 14
#define CRTC_CURSOR_LO 15

#define CRT_ROWS 25
#define CRT_COLS 80
#define CRT_SIZE (CRT_ROWS * CRT_COLS)
#define CRT_ATTR 0x0700 /* light grey on black, in a cell's high byte */
#define CRT_TAB 8

/* Cells are (attribute << 8) | character; NULL when there's no screen. */
static uint16_t *crt_buf;
static uint16_t crt_pos;
static int crt_port;

/* True if the memory at pa keeps what is written there. */
static bool
cga_probe(physaddr_t pa)
{
	/* volatile: the compiler must really store and reload. */
	volatile uint16_t *cell = PHYS_TO_VIRT(pa);
	uint16_t saved = *cell;
	bool ok;

	*cell = 0xA55A;
	ok = (*cell == 0xA55A);
	*cell = saved;
	return ok;
}

static void
cga_init(void)
{
	uint16_t pos;

	if (cga_probe(CGA_PADDR)) {
		crt_buf = PHYS_TO_VIRT(CGA_PADDR);
		crt_port = CGA_CRTC;
	} else if (cga_probe(MONO_PADDR)) {
		crt_buf = PHYS_TO_VIRT(MONO_PADDR);
		crt_port = MONO_CRTC;
	} else {
		return;
	}
	/* Carry on below whatever the BIOS and boot loader left on screen. */
	outb(crt_port, CRTC_CURSOR_HI);
	pos = inb(crt_port + 1) << 8;
	outb(crt_port, CRTC_CURSOR_LO);
	pos |= inb(crt_port + 1);
	crt_pos = pos < CRT_SIZE ? pos : 0;
}

/* Moves every row up by one and blanks the bottom row. */
static void
cga_scroll(void)
{
	int i;

	memmove(crt_buf, crt_buf + CRT_COLS,
		(CRT_SIZE - CRT_COLS) * sizeof(crt_buf[0]));
	for (i = CRT_SIZE - CRT_COLS; i < CRT_SIZE; i++)
		crt_buf[i] = CRT_ATTR | ' ';
	crt_pos -= CRT_COLS;
}

static void
cga_move_cursor(void)
{
	outb(crt_port, CRTC_CURSOR_HI);
	outb(crt_port + 1, crt_pos >> 8);
	outb(crt_port, CRTC_CURSOR_LO);
	outb(crt_port + 1, crt_pos & 0xFF);
}

/* Draws c, whose bits 8-15 may carry an attribute (else the default). */
static void
cga_putc(int c)
{
	if (crt_buf == NULL)
		return;
	if ((c & 0xFF00) == 0)
		c |= CRT_ATTR;
	switch (c & 0xFF) {
	case '\b':
		if (crt_pos > 0)
			crt_buf[--crt_pos] = (c & 0xFF00) | ' ';
		break;
	case '\n':
		crt_pos += CRT_COLS;
		__attribute__((fallthrough));
	case '\r':
		crt_pos -= crt_pos % CRT_COLS;
		break;
	case '\t':
		/* At least one space, then up to the next tab stop. */
		do
			cga_putc((c & 0xFF00) | ' ');
		while (crt_pos % CRT_TAB != 0);
		break;
	default:
		crt_buf[crt_pos++] = c;
		break;
	}
	if (crt_pos >= CRT_SIZE)
		cga_scroll();
	cga_move_cursor();
}

/***** PS/2 keyboard: decoded in kern/kbd.c *****/

void
kbd_intr(void)
{
	cons_intr(kbd_proc_data);
}

/***** The console as a whole *****/

void
cons_init(void)
{
	cga_init();
	serial_init();
}

int
cons_getc(void)
{
	/* Poll, so input works even before (or without) interrupts. */
	serial_intr();
	kbd_intr();
	/* Someone reads: the line a notice interrupted comes back. */
	vmcons_restore_line();
	if (cons.rpos == cons.wpos) {
		/* Emptied: the next loss is worth a report again. */
		if (raw.rpos == raw.wpos) {
			input_lost = false;
			uart_overran = false;
			input_loss_said = false;
		}
		return 0;
	}
	return cons.buf[cons.rpos++ % CONSBUFSIZE];
}

/*
 * The next byte waiting in the host's ring without polling the devices,
 * or -1: a guest coming to the foreground takes what was typed ahead.
 */
int
cons_take_pending(void)
{
	if (cons.rpos == cons.wpos)
		return -1;
	return cons.buf[cons.rpos++ % CONSBUFSIZE];
}

/* The one path all console output takes. */
static void
cons_putc(int c)
{
	serial_putc_crlf(c & 0xFF);
	cga_putc(c);
	vmcons_track(c & 0xFF);
}

#endif /* !VMM_GUEST */

/***** The inc/stdio.h interface, kernel side *****/

#ifndef VMM_GUEST
/* One byte at a time, each through serial and CGA (the invariants). */
void
cons_write(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cons_putc(s[i]);
}
#endif

void
cputchar(int c)
{
	cons_putc(c);
}

int
getchar(void)
{
	int c;

	while ((c = cons_getc()) == 0)
		pause();
	return c;
}

/* In the kernel, every file descriptor is the console. */
int
iscons(int fd)
{
	return 1;
}
