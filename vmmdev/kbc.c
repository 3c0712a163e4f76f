/*
 * The i8042 keyboard controller at ports 0x60 (data) and 0x64 (status,
 * command), with a keyboard behind it: the status register, the
 * controller's commands (command byte, self-tests, output port with the
 * A20 gate and the reset line, pulse), the keyboard's replies to its own
 * commands, and IRQ 1 for the bytes queued for the guest.
 *
 * Reference: IBM PC/AT Technical Reference (1984), "Keyboard Controller":
 * status register bits, command byte, commands 20h-FFh (AAh self-test ->
 * 55h, ABh interface test, D0h/D1h output port, F0h-FFh pulse output
 * port), output port bits (bit 0 system reset, bit 1 gate A20);
 * "Keyboard": commands EDh-FFh and their replies (FAh ACK, AAh BAT
 * completion, FEh resend, EEh echo). Intel 8042/8742 UPI datasheet for
 * the status bits (OBF, IBF, F0 system flag, F1 command/data).
 * System control port A at 0x92, the "fast A20" port of the PS/2 and
 * every PC since: IBM PS/2 Model 50/60 Technical Reference, "System
 * Control Port A": bit 0 alternate hot reset (a write of 1 resets the
 * processor), bit 1 alternate gate A20; the other bits read as 0 here
 * (no security lock, no disk lights). Boot loaders read it, set bit 1
 * and write it back (boot/boot.S does).
 *
 * Invariants:
 * - Status OBF is set exactly while a byte waits in out[] for the guest;
 *   IBF is always clear (every write is taken at once).
 * - IRQ 1 is high exactly while a byte waits and the command byte
 *   enables the keyboard interrupt.
 * - A20 is recorded (a20) but not applied: guest memory never wraps at
 *   1 MiB; every guest the model serves turns A20 on. The output port's
 *   bit 1 and port 0x92's bit 1 are one gate: each reads what either
 *   wrote last.
 * - Output-port bit 0 low (reset) or pulsed, or port 0x92 written with
 *   bit 0 set, ends the guest through vdev_guest_reset, once per
 *   request.
 */
#include <inc/string.h>
#include <inc/lib.h>
#include "dev.h"
#include "bytes.h"
#include "devices.h"

#define KBC_DATA_PORT 0x60
#define KBC_CMD_PORT 0x64
#define KBC_IRQ 1
#define KBC_QUEUE 16
/* Status register. */
#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08
#define ST_UNLOCKED 0x10
/* Command byte. */
#define CB_KBD_INT 0x01
#define CB_SYS 0x04
#define CB_KBD_OFF 0x10
#define CB_RESET (CB_KBD_INT | CB_SYS)
/* Output port. */
#define OP_RESET_HIGH 0x01
#define OP_A20 0x02
#define OP_RESET 0xCF     /* reset high, A20 on, buffers' lines idle */
/* Controller commands. */
enum {
	C_READ_CB = 0x20, C_WRITE_CB = 0x60, C_AUX_OFF = 0xA7, C_AUX_ON = 0xA8,
	C_AUX_TEST = 0xA9, C_SELF_TEST = 0xAA, C_KBD_TEST = 0xAB,
	C_KBD_OFF = 0xAD, C_KBD_ON = 0xAE, C_READ_IN = 0xC0,
	C_READ_OUT = 0xD0, C_WRITE_OUT = 0xD1, C_WRITE_KBD_OUT = 0xD2,
	C_WRITE_AUX_OUT = 0xD3, C_WRITE_AUX = 0xD4, C_A20_OFF = 0xDD,
	C_A20_ON = 0xDF, C_PULSE_FIRST = 0xF0,
};
#define SELF_TEST_OK 0x55
#define TEST_OK 0x00
/* The pulse command's low nibble: a 0 bit pulses that output line. */
#define PULSE_RESET_BIT 0x01
/* The input port: keyboard not inhibited, colour display. */
#define INPUT_PORT 0xBF
/* Keyboard commands and replies. */
enum {
	K_LEDS = 0xED, K_ECHO = 0xEE, K_SCANSET = 0xF0, K_IDENTIFY = 0xF2,
	K_TYPEMATIC = 0xF3, K_ENABLE = 0xF4, K_DISABLE = 0xF5,
	K_DEFAULTS = 0xF6, K_RESEND = 0xFE, K_RESET = 0xFF,
};
#define R_ACK 0xFA
#define R_BAT_OK 0xAA
#define R_RESEND 0xFE
#define R_ID1 0xAB
#define R_ID2 0x83
#define SCANSET_DEFAULT 2
/* System control port A. */
#define SYSCTL_PORT 0x92
#define SYSCTL_RESET 0x01
#define SYSCTL_A20 0x02

static struct kbc {
	uint8_t out[KBC_QUEUE];
	unsigned head, n;
	uint8_t cb, outport;
	uint8_t pending_cmd;   /* controller command awaiting its data byte */
	uint8_t kbd_pending;   /* keyboard command awaiting its argument */
	bool sys, last_was_cmd, a20, kbd_enabled;
	uint8_t scanset, last_sent;
	uint64_t dropped;
} kbc VDEV_SHARED;

static void irq_update(void)
{
	vdev_irq_set(KBC_IRQ, kbc.n && (kbc.cb & CB_KBD_INT));
}

static void push(uint8_t b)
{
	if (kbc.n == KBC_QUEUE) {
		kbc.dropped++;
		return;
	}
	kbc.out[(kbc.head + kbc.n++) % KBC_QUEUE] = b;
	irq_update();
}

void kbc_queue(uint8_t byte)
{
	if (kbc.kbd_enabled && !(kbc.cb & CB_KBD_OFF))
		push(byte);
	else
		kbc.dropped++;
}

__attribute__((weak)) void vdev_guest_reset(const char *why)
{
	cprintf("vmm: the guest reset the machine (%s)\n", why);
}

static void set_a20(bool on)
{
	kbc.a20 = on;
	kbc.outport = (kbc.outport & ~OP_A20) | (on ? OP_A20 : 0);
}

static void write_outport(uint8_t v)
{
	kbc.outport = v;
	set_a20(v & OP_A20);
	if (!(v & OP_RESET_HIGH))
		vdev_guest_reset("keyboard controller output port reset line");
}

static void controller_cmd(uint8_t c)
{
	switch (c) {
	case C_READ_CB: push(kbc.cb); break;
	case C_WRITE_CB: case C_WRITE_OUT: case C_WRITE_KBD_OUT:
	case C_WRITE_AUX_OUT: case C_WRITE_AUX:
		kbc.pending_cmd = c;
		break;
	case C_AUX_OFF: case C_AUX_ON: break;
	case C_AUX_TEST: push(TEST_OK); break;
	case C_SELF_TEST:
		kbc.sys = true;
		push(SELF_TEST_OK);
		break;
	case C_KBD_TEST: push(TEST_OK); break;
	case C_KBD_OFF: kbc.cb |= CB_KBD_OFF; break;
	case C_KBD_ON: kbc.cb &= ~CB_KBD_OFF; break;
	case C_READ_IN: push(INPUT_PORT); break;
	case C_READ_OUT: push(kbc.outport); break;
	case C_A20_OFF: set_a20(false); break;
	case C_A20_ON: set_a20(true); break;
	default:
		if (c >= C_PULSE_FIRST && !(c & PULSE_RESET_BIT))
			vdev_guest_reset("keyboard controller pulse (0xFE to "
					 "port 0x64)");
		break;
	}
}

/* A byte for the keyboard itself (no controller command pending). */
static void keyboard_cmd(uint8_t b)
{
	if (kbc.kbd_pending) {
		if (kbc.kbd_pending == K_SCANSET && b != 0)
			kbc.scanset = b;
		else if (kbc.kbd_pending == K_SCANSET)
			push(kbc.scanset);
		kbc.kbd_pending = 0;
		push(R_ACK);
		return;
	}
	switch (b) {
	case K_LEDS: case K_SCANSET: case K_TYPEMATIC:
		kbc.kbd_pending = b;
		push(R_ACK);
		break;
	case K_ECHO: push(K_ECHO); break;
	case K_IDENTIFY: push(R_ACK); push(R_ID1); push(R_ID2); break;
	case K_ENABLE: kbc.kbd_enabled = true; push(R_ACK); break;
	case K_DISABLE: kbc.kbd_enabled = false; push(R_ACK); break;
	case K_DEFAULTS: kbc.scanset = SCANSET_DEFAULT; push(R_ACK); break;
	case K_RESEND: push(kbc.last_sent); break;
	case K_RESET:
		kbc.kbd_enabled = true;
		kbc.scanset = SCANSET_DEFAULT;
		push(R_ACK);
		push(R_BAT_OK);
		break;
	default: push(R_RESEND); break;
	}
}

static void data_write(uint8_t v)
{
	uint8_t c = kbc.pending_cmd;

	kbc.pending_cmd = 0;
	kbc.last_was_cmd = false;
	switch (c) {
	case C_WRITE_CB:
		kbc.cb = v;
		kbc.sys = v & CB_SYS;
		irq_update();
		break;
	case C_WRITE_OUT: write_outport(v); break;
	case C_WRITE_KBD_OUT: push(v); break;
	case C_WRITE_AUX_OUT: case C_WRITE_AUX: break; /* no mouse */
	default: keyboard_cmd(v); break;
	}
}

static uint8_t kbc_read8(struct vdev *d, uint64_t off)
{
	uint8_t b;

	if (off == KBC_CMD_PORT - KBC_DATA_PORT)
		return (kbc.n ? ST_OBF : 0) | (kbc.sys ? ST_SYS : 0) |
		       (kbc.last_was_cmd ? ST_CMD : 0) | ST_UNLOCKED;
	if (off != 0)
		return 0xFF;
	if (!kbc.n)
		return kbc.last_sent;
	b = kbc.out[kbc.head];
	kbc.head = (kbc.head + 1) % KBC_QUEUE;
	kbc.n--;
	kbc.last_sent = b;
	irq_update();
	return b;
}

static void kbc_write8(struct vdev *d, uint64_t off, uint8_t val)
{
	if (off == KBC_CMD_PORT - KBC_DATA_PORT) {
		kbc.last_was_cmd = true;
		controller_cmd(val);
	} else if (off == 0) {
		data_write(val);
	}
}

static uint64_t kbc_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, kbc_read8);
}

static void kbc_write(struct vdev *d, uint64_t off, unsigned size,
		      uint64_t val)
{
	vdev_write_bytes(d, off, size, val, kbc_write8);
}

/* Two one-port ranges: 0x61 between them is port B (pit.c). */
static struct vdev kbc_data_dev VDEV_SHARED = {
	.name = "kbc-data", .space = VDEV_PIO, .base = KBC_DATA_PORT,
	.len = 1, .read = kbc_read, .write = kbc_write,
};

static uint64_t kbc_cmd_read(struct vdev *d, uint64_t off, unsigned size)
{
	return kbc_read(d, off + KBC_CMD_PORT - KBC_DATA_PORT, size);
}

static void kbc_cmd_write(struct vdev *d, uint64_t off, unsigned size,
			  uint64_t val)
{
	kbc_write(d, off + KBC_CMD_PORT - KBC_DATA_PORT, size, val);
}

static struct vdev kbc_cmd_dev VDEV_SHARED = {
	.name = "kbc-cmd", .space = VDEV_PIO, .base = KBC_CMD_PORT, .len = 1,
	.read = kbc_cmd_read, .write = kbc_cmd_write,
};

static uint64_t sysctl_read(struct vdev *d, uint64_t off, unsigned size)
{
	return kbc.a20 ? SYSCTL_A20 : 0;
}

static void sysctl_write(struct vdev *d, uint64_t off, unsigned size,
			 uint64_t val)
{
	set_a20(val & SYSCTL_A20);
	if (val & SYSCTL_RESET)
		vdev_guest_reset("system control port A (bit 0 of port "
				 "0x92)");
}

static struct vdev sysctl_dev VDEV_SHARED = {
	.name = "sysctl-a", .space = VDEV_PIO, .base = SYSCTL_PORT, .len = 1,
	.read = sysctl_read, .write = sysctl_write,
};

int kbc_init(void)
{
	int r;

	memset(&kbc, 0, sizeof(kbc));
	kbc.cb = CB_RESET;
	kbc.sys = true;
	kbc.outport = OP_RESET;
	kbc.a20 = true;
	kbc.kbd_enabled = true;
	kbc.scanset = SCANSET_DEFAULT;
	if ((r = vdev_register(&kbc_data_dev)) < 0 ||
	    (r = vdev_register(&kbc_cmd_dev)) < 0)
		return r;
	return vdev_register(&sysctl_dev);
}
