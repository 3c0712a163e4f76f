/*
 * The VGA's register ports (text memory at 0xB8000 is plain guest RAM,
 * not this file's): the CRT controller at 0x3D4/0x3D5 (colour) and
 * 0x3B4/0x3B5 (mono), the attribute controller (0x3C0/0x3C1), miscellaneous
 * output (write 0x3C2, read 0x3CC), sequencer (0x3C4/0x3C5), DAC
 * (0x3C6-0x3C9), graphics controller (0x3CE/0x3CF) and input status 1
 * (0x3DA, 0x3BA). Registers keep what the guest writes, so that the
 * cursor position (CRTC 0x0E/0x0F), which xv6 and JOS read back, is
 * consistent; nothing is displayed.
 *
 * Reference: IBM VGA Technical Reference (Personal System/2 Hardware
 * Interface Technical Reference, "Video Subsystem"): "CRT Controller
 * Registers" (index 00h-18h; 0Eh/0Fh cursor location), "Attribute
 * Controller Registers" (address/data flip-flop, reset by reading input
 * status 1), "General Registers" (miscellaneous output, input status 0
 * and 1: bit 0 display enable, bit 3 vertical retrace), "Sequencer
 * Registers" (00h-04h), "Graphics Controller Registers" (00h-08h),
 * "Video DAC" (PEL mask, read/write index, data).
 *
 * Invariants:
 * - Every index is masked into its register array: no access goes past
 *   the arrays, whatever the guest writes.
 * - Input status 1 alternates its retrace bits on each read, so a guest
 *   waiting for retrace (either edge) never waits forever.
 */
#include <inc/string.h>
#include "dev.h"
#include "bytes.h"
#include "devices.h"

#define CRTC_MONO_PORT 0x3B4
#define STATUS_MONO_PORT 0x3BA
#define VGA_PORT 0x3C0
#define VGA_PORTS 16
#define CRTC_COLOR_PORT 0x3D4
#define STATUS_COLOR_PORT 0x3DA
#define CRTC_PORTS 2
/* Register counts (rounded up to powers of two for masking). */
#define CRTC_REGS 32
#define ATTR_REGS 32
#define SEQ_REGS 8
#define GC_REGS 16
#define DAC_ENTRIES 256
#define DAC_COMPONENTS 3
/* Offsets from VGA_PORT. */
enum {
	O_ATTR = 0x0, O_ATTR_READ = 0x1, O_MISC_W = 0x2, O_SEQ_INDEX = 0x4,
	O_SEQ_DATA = 0x5, O_DAC_MASK = 0x6, O_DAC_READ_INDEX = 0x7,
	O_DAC_WRITE_INDEX = 0x8, O_DAC_DATA = 0x9, O_MISC_R = 0xC,
	O_GC_INDEX = 0xE, O_GC_DATA = 0xF,
};
#define STATUS1_DISPLAY 0x01
#define STATUS1_RETRACE 0x08
/* Misc output at power-on: colour addressing (0x3Dx), RAM enabled. */
#define MISC_RESET 0x67
#define ATTR_INDEX_MASK 0x3F

static struct vga {
	uint8_t crtc_index, crtc[CRTC_REGS];
	uint8_t attr_index, attr[ATTR_REGS];
	bool attr_data_next;
	uint8_t misc, seq_index, seq[SEQ_REGS], gc_index, gc[GC_REGS];
	uint8_t dac_mask, dac_read, dac_write, dac_comp;
	uint8_t dac[DAC_ENTRIES][DAC_COMPONENTS];
	bool retrace;
} vga VDEV_SHARED;

static uint8_t crtc_read8(struct vdev *d, uint64_t off)
{
	return off ? vga.crtc[vga.crtc_index % CRTC_REGS] : vga.crtc_index;
}

static void crtc_write8(struct vdev *d, uint64_t off, uint8_t val)
{
	if (off)
		vga.crtc[vga.crtc_index % CRTC_REGS] = val;
	else
		vga.crtc_index = val;
}

static uint8_t status_read8(struct vdev *d, uint64_t off)
{
	vga.attr_data_next = false;
	vga.retrace = !vga.retrace;
	return vga.retrace ? STATUS1_RETRACE | STATUS1_DISPLAY : 0;
}

static void ignore8(struct vdev *d, uint64_t off, uint8_t val)
{
}

static uint8_t dac_data_read(void)
{
	uint8_t v = vga.dac[vga.dac_read][vga.dac_comp];

	if (++vga.dac_comp == DAC_COMPONENTS) {
		vga.dac_comp = 0;
		vga.dac_read++;
	}
	return v;
}

static uint8_t misc_read8(struct vdev *d, uint64_t off)
{
	switch (off) {
	case O_ATTR: return vga.attr_index;
	case O_ATTR_READ: return vga.attr[vga.attr_index % ATTR_REGS];
	case O_SEQ_INDEX: return vga.seq_index;
	case O_SEQ_DATA: return vga.seq[vga.seq_index % SEQ_REGS];
	case O_DAC_MASK: return vga.dac_mask;
	case O_DAC_WRITE_INDEX: return vga.dac_write;
	case O_DAC_DATA: return dac_data_read();
	case O_MISC_R: return vga.misc;
	case O_GC_INDEX: return vga.gc_index;
	case O_GC_DATA: return vga.gc[vga.gc_index % GC_REGS];
	}
	return 0; /* input status 0 (0x3C2) and the unused ports */
}

static void misc_write8(struct vdev *d, uint64_t off, uint8_t val)
{
	switch (off) {
	case O_ATTR:
		if (vga.attr_data_next)
			vga.attr[vga.attr_index % ATTR_REGS] = val;
		else
			vga.attr_index = val & ATTR_INDEX_MASK;
		vga.attr_data_next = !vga.attr_data_next;
		break;
	case O_MISC_W: vga.misc = val; break;
	case O_SEQ_INDEX: vga.seq_index = val; break;
	case O_SEQ_DATA: vga.seq[vga.seq_index % SEQ_REGS] = val; break;
	case O_DAC_MASK: vga.dac_mask = val; break;
	case O_DAC_READ_INDEX: vga.dac_read = val; vga.dac_comp = 0; break;
	case O_DAC_WRITE_INDEX: vga.dac_write = val; vga.dac_comp = 0; break;
	case O_DAC_DATA:
		vga.dac[vga.dac_write][vga.dac_comp] = val;
		if (++vga.dac_comp == DAC_COMPONENTS) {
			vga.dac_comp = 0;
			vga.dac_write++;
		}
		break;
	case O_GC_INDEX: vga.gc_index = val; break;
	case O_GC_DATA: vga.gc[vga.gc_index % GC_REGS] = val; break;
	}
}

static uint64_t crtc_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, crtc_read8);
}

static void crtc_write(struct vdev *d, uint64_t off, unsigned size,
		       uint64_t val)
{
	vdev_write_bytes(d, off, size, val, crtc_write8);
}

static uint64_t status_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, status_read8);
}

static void status_write(struct vdev *d, uint64_t off, unsigned size,
			 uint64_t val)
{
	vdev_write_bytes(d, off, size, val, ignore8);
}

static uint64_t misc_read(struct vdev *d, uint64_t off, unsigned size)
{
	return vdev_read_bytes(d, off, size, misc_read8);
}

static void misc_write(struct vdev *d, uint64_t off, unsigned size,
		       uint64_t val)
{
	vdev_write_bytes(d, off, size, val, misc_write8);
}

static struct vdev vga_devs[] VDEV_SHARED = {
	{ .name = "vga-crtc-mono", .space = VDEV_PIO, .base = CRTC_MONO_PORT,
	  .len = CRTC_PORTS, .read = crtc_read, .write = crtc_write },
	{ .name = "vga-status-mono", .space = VDEV_PIO,
	  .base = STATUS_MONO_PORT, .len = 1, .read = status_read,
	  .write = status_write },
	{ .name = "vga", .space = VDEV_PIO, .base = VGA_PORT, .len = VGA_PORTS,
	  .read = misc_read, .write = misc_write },
	{ .name = "vga-crtc", .space = VDEV_PIO, .base = CRTC_COLOR_PORT,
	  .len = CRTC_PORTS, .read = crtc_read, .write = crtc_write },
	{ .name = "vga-status", .space = VDEV_PIO, .base = STATUS_COLOR_PORT,
	  .len = 1, .read = status_read, .write = status_write },
};

int vga_init(void)
{
	unsigned i;
	int r;

	memset(&vga, 0, sizeof(vga));
	vga.misc = MISC_RESET;
	vga.dac_mask = 0xFF;
	for (i = 0; i < ARRAY_SIZE(vga_devs); i++)
		if ((r = vdev_register(&vga_devs[i])) < 0)
			return r;
	return 0;
}
