/*
 * GDB remote-protocol framing over COM2 (kern/com2.c) for the VMM's gdb
 * stub (vmm/gdbstub.c): "$payload#hh" in, acked '+' or '-'; Ctrl-C
 * (0x03) between packets; replies framed the same way out; and the hex
 * encoding that packets use for numbers and bytes.
 *
 * A packet is assembled by a state machine that keeps its place between
 * calls, so a packet that arrives a byte at a time, over many ticks,
 * costs each tick only the bytes that came: nothing here waits for the
 * next byte. The caller gives every call a byte budget.
 *
 * Replies are never waited for either. A reply that does not fit in the
 * transmit ring is dropped (counted, and said once on the console). The
 * stub avoids that by taking input only while gdbpkt_can_reply(): a
 * client that does not read its replies fills the ring, and then its
 * further input waits, unread, in COM2's ring and UART and in the
 * emulator's socket: it is deferred, not lost, and costs the host
 * nothing until the client reads again.
 *
 * Invariants:
 *  - Called only under the kernel lock (gdbstub.c's callers).
 *  - rx.len <= PKT_MAX and rx.in[rx.len] is where the next byte goes;
 *    a packet that would be longer is dropped whole (no ack: gdb
 *    resends on its own timeout).
 *  - '$' always starts a packet afresh, wherever it comes (gdb escapes
 *    '$' inside the binary packets it may send; we take none), so any
 *    garbage or a half-sent packet is left behind at the next '$'.
 */
#include <inc/stdio.h>
#include <inc/string.h>

#include <kern/com2.h>
#include <vmm/gdbpkt.h>

#define CTRL_C 0x03
/* "$" before a payload, "#hh" after it. */
#define FRAME_BYTES 4
#define ACK_BYTES 1
/* An asynchronous stop reply ("S05", "W00") that may follow the reply to
 * the packet that asked for it (c, s, ?): framed, with room to spare. */
#define STOP_RESERVE 16
/* The transmit room to take one more event: its ack, the largest reply
 * it may cause, and a stop reply after that. */
#define REPLY_ROOM (ACK_BYTES + PKT_MAX + FRAME_BYTES + STOP_RESERVE)
/* Else gdbpkt_can_reply() would never be true and the stub deaf. */
_Static_assert(COM2_TX_SIZE >= REPLY_ROOM,
	       "COM2's transmit ring must hold the largest reply");

enum rx_state {
	RX_IDLE,        /* between packets */
	RX_DATA,        /* after '$': payload bytes */
	RX_SUM_HI,      /* after '#': the checksum's first digit */
	RX_SUM_LO,      /* its second digit */
};

static struct {
	enum rx_state state;
	size_t len;
	uint8_t sum;
	int hi;
	char in[PKT_MAX + 1];
} rx;

static uint64_t replies_dropped;

static const char hexdigits[] = "0123456789abcdef";

/* A hex digit's value, or -1. */
int gdbpkt_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void start_packet(void)
{
	rx.state = RX_DATA;
	rx.len = 0;
	rx.sum = 0;
}

/*
 * Feed the state machine from COM2's receive ring, at most *budget
 * bytes (decremented per byte taken), until an event. Its ack is queued
 * before it returns; a packet's payload is in *payload, NUL-terminated,
 * valid until the next call.
 */
enum gdbpkt_event gdbpkt_receive(unsigned *budget, const char **payload)
{
	int c, lo;

	while (*budget > 0 && (c = com2_getc()) >= 0) {
		(*budget)--;
		if (c == '$') {
			start_packet();
			continue;
		}
		switch (rx.state) {
		case RX_IDLE:
			/* '+' and '-' acks of our replies, and noise. */
			if (c == CTRL_C)
				return GDBPKT_INTERRUPT;
			break;
		case RX_DATA:
			if (c == '#')
				rx.state = RX_SUM_HI;
			else if (rx.len == PKT_MAX)
				rx.state = RX_IDLE;
			else {
				rx.in[rx.len++] = c;
				rx.sum += (uint8_t)c;
			}
			break;
		case RX_SUM_HI:
			rx.hi = gdbpkt_hexval(c);
			rx.state = RX_SUM_LO;
			break;
		case RX_SUM_LO:
			rx.state = RX_IDLE;
			lo = gdbpkt_hexval(c);
			if (rx.hi < 0 || lo < 0 || ((rx.hi << 4) | lo) != rx.sum) {
				com2_queue("-", ACK_BYTES);
				return GDBPKT_BAD;
			}
			com2_queue("+", ACK_BYTES);
			rx.in[rx.len] = '\0';
			*payload = rx.in;
			return GDBPKT_PACKET;
		}
	}
	return GDBPKT_NONE;
}

/* Whether the transmit ring has room for whatever the next event may
 * make us send (REPLY_ROOM). */
bool gdbpkt_can_reply(void)
{
	return com2_tx_room() >= REPLY_ROOM;
}

/* "$data#hh" into the transmit ring, whole, or dropped. */
void gdbpkt_put(const char *data)
{
	size_t len = strlen(data);
	uint8_t sum = 0;
	char tail[3];
	size_t i;

	for (i = 0; i < len; i++)
		sum += (uint8_t)data[i];
	tail[0] = '#';
	tail[1] = hexdigits[sum >> 4];
	tail[2] = hexdigits[sum & 0xF];
	if (com2_tx_room() < len + FRAME_BYTES) {
		if (!replies_dropped++)
			cprintf("vmm: gdb stub: the client reads no replies; "
				"one was dropped\n");
		return;
	}
	com2_queue("$", 1);
	com2_queue(data, len);
	com2_queue(tail, sizeof(tail));
}

/* ---- Hex, as packets carry numbers and bytes ------------------------------- */

/* Parse hex digits at *p into *v, up to a non-hex byte; false if none. */
bool gdbpkt_parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	int d, n = 0;

	*v = 0;
	while ((d = gdbpkt_hexval(*s)) >= 0 && n < 16) {
		*v = (*v << 4) | d;
		s++;
		n++;
	}
	*p = s;
	return n > 0;
}

/* Little-endian bytes <-> hex, as gdb sends register and memory values. */
char *gdbpkt_put_hex(char *o, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		*o++ = hexdigits[b[i] >> 4];
		*o++ = hexdigits[b[i] & 0xF];
	}
	*o = '\0';
	return o;
}

bool gdbpkt_get_hex(const char *s, void *buf, size_t len)
{
	uint8_t *b = buf;
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if ((hi = gdbpkt_hexval(s[2 * i])) < 0 ||
		    (lo = gdbpkt_hexval(s[2 * i + 1])) < 0)
			return false;
		b[i] = (hi << 4) | lo;
	}
	return true;
}

/* "ADDR,LEN" (memory and breakpoint packets). */
bool gdbpkt_parse_range(const char **p, uint64_t *addr, uint64_t *len)
{
	return gdbpkt_parse_hex(p, addr) && *(*p)++ == ',' &&
	       gdbpkt_parse_hex(p, len);
}
