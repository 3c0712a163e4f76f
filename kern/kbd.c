/*
 * The PS/2 keyboard: scan code set 1 from the 8042 controller, decoded
 * into the console's bytes (letters, digits, punctuation, Enter, Tab,
 * Backspace, Escape, Ctrl-letter codes, the keypad). kern/console.c polls
 * kbd_proc_data() from kbd_intr() and puts what it returns into the
 * console's input ring.
 *
 * Invariants:
 *  - kbd_proc_data() reads at most one byte from the controller per call
 *    and never waits for one: -1 when none is waiting, 0 for a byte that
 *    is not a character (a release, a modifier, a mouse byte, a prefix).
 *  - The modifier state (kbd_mods) changes only on modifier keys, so a
 *    lost byte costs at most one wrong character.
 */
#include <inc/types.h>
#include <inc/x86.h>
#include <kern/kbd.h>

#ifndef VMM_GUEST

#define KBSTATP 0x64    /* controller status port */
#define KBS_DIB 0x01    /* a byte is waiting at KBDATAP */
#define KBS_AUX 0x20    /* ... and it comes from the mouse */
#define KBDATAP 0x60    /* data port */

#define SC_RELEASE 0x80 /* set in a scan code when the key is released */
#define SC_EXT 0xE0     /* prefix of the extended keys' codes */
#define SC_PAUSE 0xE1   /* prefix of Pause's codes: two more bytes follow */
#define SC_CAPS 0x3A

/* Modifier keys held down (or toggled, for caps lock). */
#define MOD_LSHIFT 0x01
#define MOD_RSHIFT 0x02
#define MOD_LCTRL 0x04
#define MOD_RCTRL 0x08
#define MOD_LALT 0x10
#define MOD_RALT 0x20
#define MOD_CAPS 0x40
#define MOD_SHIFT (MOD_LSHIFT | MOD_RSHIFT)
#define MOD_CTRL (MOD_LCTRL | MOD_RCTRL)

/*
 * Characters for codes 0x00-0x39 (the main block), unshifted and
 * shifted; "\0" marks codes that are not characters (modifier keys).
 */
static const char key_plain[] =
	"\0\x1b" "1234567890-=" "\b\t"
	"qwertyuiop[]" "\n\0"
	"asdfghjkl;'`" "\0\\"
	"zxcvbnm,./" "\0*\0 ";
static const char key_shift[] =
	"\0\x1b" "!@#$%^&*()_+" "\b\t"
	"QWERTYUIOP{}" "\n\0"
	"ASDFGHJKL:\"~" "\0|"
	"ZXCVBNM<>?" "\0*\0 ";
/* The numeric keypad, codes 0x47-0x53, read as if num lock were on. */
static const char key_pad[] = "789-456+1230.";
#define KEY_PAD_FIRST 0x47

static uint32_t kbd_mods;
static bool kbd_ext;     /* the previous byte was SC_EXT */
static int kbd_skip;     /* bytes of a Pause sequence still to ignore */

/* The modifier bit a key controls, or 0 if it is not a modifier. */
static uint32_t
modifier_bit(uint8_t code, bool ext)
{
	switch (code) {
	case 0x2A:
		return ext ? 0 : MOD_LSHIFT;
	case 0x36:
		return ext ? 0 : MOD_RSHIFT;
	case 0x1D:
		return ext ? MOD_RCTRL : MOD_LCTRL;
	case 0x38:
		return ext ? MOD_RALT : MOD_LALT;
	default:
		return 0;
	}
}

static bool
is_letter(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The character for a pressed non-modifier key, or 0 for none. */
static int
key_char(uint8_t code, bool ext)
{
	int c = 0;

	if (ext) {
		/* Keypad Enter and '/'; arrows and the rest are ignored. */
		if (code == 0x1C)
			return '\n';
		return code == 0x35 ? '/' : 0;
	}
	if (code < sizeof(key_plain) - 1)
		c = (kbd_mods & MOD_SHIFT) ? key_shift[code] : key_plain[code];
	else if (code >= KEY_PAD_FIRST &&
		 code < KEY_PAD_FIRST + sizeof(key_pad) - 1)
		c = key_pad[code - KEY_PAD_FIRST];
	/* Caps lock flips the case of letters only. */
	if ((kbd_mods & MOD_CAPS) && is_letter(c))
		c ^= 0x20;
	if ((kbd_mods & MOD_CTRL) && is_letter(c))
		c &= 0x1F;
	return c;
}

/* Tracks one scan code byte; returns its character, or 0 for none. */
static int
kbd_decode(uint8_t sc)
{
	bool ext = kbd_ext;
	uint8_t code = sc & ~SC_RELEASE;
	uint32_t bit;

	kbd_ext = false;
	if (kbd_skip > 0) {
		kbd_skip--;
		return 0;
	}
	if (sc == SC_EXT) {
		kbd_ext = true;
		return 0;
	}
	if (sc == SC_PAUSE) {
		kbd_skip = 2;
		return 0;
	}
	bit = modifier_bit(code, ext);
	if (bit) {
		if (sc & SC_RELEASE)
			kbd_mods &= ~bit;
		else
			kbd_mods |= bit;
		return 0;
	}
	if (sc & SC_RELEASE)
		return 0;
	if (code == SC_CAPS && !ext) {
		kbd_mods ^= MOD_CAPS;
		return 0;
	}
	return key_char(code, ext);
}

/* Reads one byte from the keyboard controller, or -1 if none waits. */
int
kbd_proc_data(void)
{
	uint8_t st = inb(KBSTATP);
	uint8_t sc;

	/* 0xFF: no controller at all. */
	if (st == 0xFF || !(st & KBS_DIB))
		return -1;
	sc = inb(KBDATAP);
	/* Mouse bytes share the port; they are not ours. */
	if (st & KBS_AUX)
		return 0;
	return kbd_decode(sc);
}

#endif /* !VMM_GUEST */
