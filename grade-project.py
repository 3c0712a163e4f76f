#!/usr/bin/env python3
"""The JOS-in-JOS test suite.  `make grade` runs it after a clean build;
`make grade TESTS='boot-*,gdb'` runs some of it; `python3 grade-project.py
--list` names the tests, with each one's emulator and vendor.  The tests
and their harness are the grade/ package (grade/__init__.py lists its
modules; docs/writing-tests.md says how to add one)."""

import sys

import grade
from grade.runner import main

# ---- Issue 22: the BIOS of PC-image guests (vmmdev/bios16.S) -------------
# One self-contained block: its constants mirror vmmdev/bios.h and
# guests/biostest/biostest.h.
from gradelib import run_qemu as _bios_run_qemu  # noqa: E402

BIOSTEST_IMG = os.path.join("obj", "biostest", "biostest.img")
BIOSTEST_RAM_MB = 32             # BT_RAM_MB
BIOSTEST_SECTORS = 8192          # BT_DISK_SECTORS: 8 cylinders of 16 x 63
BIOSTEST_PASS_STATUS = (0x21 << 1) | 1   # BT_PASS through isa-debug-exit
BIOS_PA, BIOS_RESERVED_END, BIOS_HIGH_PA = 0x9F000, 0xA0000, 0x100000


def _bios_e820_line(base, end, kind):
    return r"e820: %016x %016x %08x\r?\n" % (base, end - base, kind)


@test("bios-services", emulator="qemu", mem=BIOSTEST_RAM_MB, timeout=90)
def bios_services():
    """vmmdev/bios16.S's services on QEMU's CPU, without our VMM.

    QEMU boots obj/biostest/biostest.img with its own firmware; the boot
    sector puts the IVT, BDA, BIOS and EBDA pages that bios_build and
    fw_tables_build wrote (guests/biostest/mkbiostest, a host build of
    vmmdev/) in place and jumps to our POST, which starts the boot sector
    again. On our BIOS alone it then prints, through INT 10h: the E820 map
    to EBX = 0 (RAM [0, 0x9F000), reserved [0x9F000, 0xA0000), RAM [1 MiB,
    32 MiB)), E801h and 88h, INT 12h's 636 KiB, INT 13h 08h's geometry
    (8 cylinders, 16 heads, 63 sectors, 1 or 2 disks), 15h's and 48h's 8192
    sectors; it checks 42h (a buffer across 64 KiB) and 02h (CHS) read
    the pattern sectors, 43h and 03h write others (read back; QEMU's
    snapshot keeps the image as built), the errors (past the disk, sector 0, drive 82h,
    AH=01h's last status, E820 without SMAP, AH=C0h), and the slave (81h):
    absent (an error) in one boot, read (the same disk again) in another,
    that INT 1Ah's ticks advance (IRQ 0 stub and its EOI), and reads a key
    typed on COM1 with INT 16h; it ends QEMU with status 67 (pass). A
    FAIL line or any other status fails."""
    _bios_services_run(1)
    _bios_services_run(2)


def _bios_services_run(ndisks):
    """One boot of the BIOS test disk, as master (and slave: ndisks 2)."""
    r = _bios_run_qemu(disks=[BIOSTEST_IMG] * ndisks, mem=BIOSTEST_RAM_MB,
                       label="bios-services-%d" % ndisks)
    r.expect(r"biostest: POST done, our BIOS runs")
    for base, end, kind in ((0, BIOS_PA, 1),
                            (BIOS_PA, BIOS_RESERVED_END, 2),
                            (BIOS_HIGH_PA, BIOSTEST_RAM_MB << 20, 1)):
        r.expect(_bios_e820_line(base, end, kind))
    ext_kb = (BIOSTEST_RAM_MB << 20) // 1024 - 1024
    above16 = ((BIOSTEST_RAM_MB - 16) << 20) // 65536
    r.expect(r"e801: 3c00 %04x 3c00 %04x\r?\n" % (above16, above16))
    r.expect(r"int15 88h: %04x\r?\n" % ext_kb)
    r.expect(r"int12: %04x\r?\n" % (BIOS_PA // 1024))
    cyls = BIOSTEST_SECTORS // (16 * 63)
    r.expect(r"int13 08h: cx=%02x3f dx=0f%02x\r?\n" % (cyls - 1, ndisks))
    r.expect(r"int13 15h: %08x\r?\n" % BIOSTEST_SECTORS)
    r.expect(r"int13 48h: %08x\r?\n" % BIOSTEST_SECTORS)
    r.expect(r"int13 42h: 3 sectors across 64 KiB ok")
    r.expect(r"int13 02h: 2 sectors by CHS ok")
    r.expect(r"int13 43h, 03h: writes read back ok")
    if ndisks == 2:
        r.expect(r"int13 81h: slave read ok")
    r.expect(r"int13 errors: ok")
    r.expect(r"int1a: ticks advance")
    r.expect(r"int16: type a key")
    r.send("k", newline="")
    r.expect(r"int16: got 006b")
    r.expect(r"biostest: PASS")
    status = r.wait(timeout=20)
    if "FAIL" in r.text or status != BIOSTEST_PASS_STATUS:
        fail("QEMU exited with status %s, not %d (pass)"
             % (status, BIOSTEST_PASS_STATUS))


if __name__ == "__main__":
    grade.load_tests()
    sys.exit(main())
