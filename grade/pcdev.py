"""The PC device models as a guest drives them (issue 22): the multiboot
test kernel's device tests (mbtest/devtest_*.c) in one guest boot, on
both vendors, through the VMM's real path (port-I/O and MMIO exits,
interrupts injected). user/vdevtest.c (test vdevtest) checks the same
models as units from user space; this checks them end to end.

Invariants: one boot of the host and one `vmm -k` run per vendor (the CI
budget); every check can fail: the guest's own checks print one FAILED
line and end it with status 3, this module's checks compare the guest's
figures with the host's clock and date."""

import datetime
import re
import time

from grade.config import KERNEL_IMG
from grade.helpers import (GUEST_STOPPED, PANIC, VMM_FREE, fs_image_copy,
                           shell, vboot, vendor, vmm_test)
from grade.registry import fail

DEVTEST_CMD = ("vmm -k /vmm/mbtest -a devtest-all "
               "-i /vmm/mbdisk0 -i /vmm/mbdisk1")
DEVTEST_WARMUP = DEVTEST_CMD.replace("devtest-all", "devtest-ide")
DEVTEST_FAILED = r"mbtest: \w+ FAILED: [^\r\n]*\r?\n"
DEVTEST_STATUS = r"vmm: guest [0-9a-f]{8} exited with status (\d+)\r?\n"
DEVTEST_PASS_STATUS = 15          # (EXIT_VALUE 7 << 1) | 1
DEVTEST_KEY = "k"                 # devtest_uart.c's TYPED_KEY
# The LAPIC's timed phases (devtest_lapic.c): PERIODIC_N + 1 interrupts at
# 25 Hz after the start line; N shots of 100 ms (the guest says N), then
# 200 ms without one.
LAPIC_PERIODIC_S = 17 / 25.0
LAPIC_SHOT_S, LAPIC_QUIET_S = 0.1, 0.2
# Host seconds a phase may take, as a multiple of its guest seconds. The
# guest's clock is the host TSC at the rate the host kernel measured once
# at boot, over 10 ms of PIT time (kern/lapic.c): on a loaded machine
# QEMU boots have measured up to 2.7 times the TSC's real rate, and the
# guest's clock then runs that much slower than the host's; the console
# adds its lag. So this only catches a clock off by a factor.
WALL_MIN, WALL_MAX = 0.4, 5.0
# The RTC against the host's clock: QEMU's RTC keeps UTC in step with
# the host; Bochs' (clock: sync=none) starts at the host's time and then
# runs at emulated speed, so it lags by up to the length of the run.
RTC_SLACK_S = {"svm": 120, "vmx": 900, "ryzen": 900}


def devtest_step(r, pattern):
    """Expect PATTERN; a FAILED line, the guest's end or a stop first
    fails the test with that line. Returns the match."""
    stops = [DEVTEST_FAILED, DEVTEST_STATUS] + GUEST_STOPPED + PANIC
    m = r.expect("|".join("(?:%s)" % p for p in [pattern] + stops))
    mine = re.fullmatch(pattern, m.group(0))
    if not mine:
        fail("waiting for %r, the guest said:\n%s"
             % (pattern, r.text[max(0, m.start() - 800):m.end() + 200]))
    return mine


def devtest_rtc(r):
    """The guest's RTC date and time against the host's (UTC)."""
    m = devtest_step(r, r"mbtest: rtc: (\d{4})-(\d\d)-(\d\d) "
                        r"(\d\d):(\d\d):(\d\d) \(")
    said = datetime.datetime(*map(int, m.groups()))
    now = datetime.datetime.utcnow()
    off = abs((said - now).total_seconds())
    if off > RTC_SLACK_S[vendor()]:
        fail("the guest's RTC says %s, the host's UTC clock %s (%.0f s "
             "apart)" % (said, now.replace(microsecond=0), off))


def devtest_timed(r, start, end):
    """The host seconds between the lines START and END, and END's
    match."""
    devtest_step(r, start)
    t0 = time.time()
    m = devtest_step(r, end)
    return time.time() - t0, m


def devtest_wall(wall, guest_s, what):
    """Under QEMU (whose TSC is the host's) GUEST_S seconds of the
    guest's clock take WALL_MIN..WALL_MAX as long on the host's."""
    if vendor() == "svm" and not \
            WALL_MIN * guest_s <= wall <= WALL_MAX * guest_s:
        fail("%s: %.2f s of guest time took %.2f s of the host's clock"
             % (what, guest_s, wall))


@vmm_test("pc-devices", bochs_timeout=300, qemu_timeout=90)
def pc_devices():
    """Every emulated PC device, driven by a guest through exits and
    injected interrupts (mbtest -a devtest-all, one boot; the guest's
    checks are listed at the top of each mbtest/devtest_*.c).

    PIT: channel 2 with port 0x61's gate and OUT2 measures the TSC as a
    BIOS does; channel 0's IRQ 0 at 20 Hz matches that rate. RTC: UIP
    handled, BCD, binary and 12-hour readings agree, the date is the
    host's (UTC), seconds tick a second apart (and UIP is seen before
    updates, under Bochs). UART: divisor latch, IER, SCR, FIFO, LSR,
    loopback and overrun; a line sent by THR-empty interrupts; the key
    this test types arrives by a receive-data interrupt. IDE: IDENTIFY
    of master and slave (/vmm/mbdisk0, /vmm/mbdisk1), reads of their
    patterns, a write read back, READ MULTIPLE, LBA28 errors (IDNF), NOP,
    a reserved command and READ MULTIPLE before SET MULTIPLE aborted,
    IRQ 14 and nIEN. IRQ: PIC init words, masks, IRR/ISR, EOI, the
    slave's IRQ 8 at its rate; IOAPIC ID/version, edge, masked and level
    entries, IRQ 0 on pin 2. LAPIC: ID, version, TPR, the timer's 1 GHz
    clock, periodic and one-shot rates against the TSC, and under QEMU
    the two timed phases against the host's clock. The guest ends with
    status 15; after a warm-up run (devtest-ide, which opens the images)
    vmm's free pages are as before."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("pc-devices")])
    shell(r)
    # A first run opens the disk images: the host FS keeps pages for
    # them from then on (fs/openfile.c), which are not the guest's.
    r.send(DEVTEST_WARMUP)
    devtest_step(r, r"mbtest: ide ok")
    r.expect(VMM_FREE)
    r.expect(r"(?m)^\$ ")
    start = time.time()
    r.send(DEVTEST_CMD)
    tpm = int(devtest_step(r, r"mbtest: pit: TSC (\d+) ticks/ms").group(1))
    devtest_step(r, r"mbtest: pit ok")
    devtest_rtc(r)
    uip = int(devtest_step(r, r"mbtest: rtc: a second is \d+ ms of TSC "
                              r"time; UIP seen in (\d+) polls").group(1))
    if vendor() != "svm" and uip == 0:
        fail("the RTC's UIP was never seen set before an update (Bochs: "
             "the guest polls faster than the 244 us it lasts)")
    devtest_step(r, r"mbtest: rtc ok")
    devtest_step(r, r"mbtest: uart: this line went out one THR-empty "
                    r"interrupt per byte")
    devtest_step(r, r"mbtest: uart: type a key")
    r.send(DEVTEST_KEY, newline="")
    for dev in ("uart", "ide", "irq"):
        devtest_step(r, r"mbtest: %s ok" % dev)
    devtest_step(r, r"mbtest: lapic: timer clock \d+ kHz")
    periodic, _ = devtest_timed(r, r"mbtest: lapic: periodic start",
                                r"mbtest: lapic: periodic: [^\r\n]*\r?\n")
    devtest_wall(periodic, LAPIC_PERIODIC_S, "LAPIC periodic")
    oneshot, _ = devtest_timed(r, r"mbtest: lapic: one-shot start",
                               r"mbtest: lapic: one-shot: [^\r\n]*\r?\n")
    shots = int(devtest_step(r, r"mbtest: lapic: one-shot: (\d+) shots")
                .group(1))
    devtest_wall(oneshot, shots * LAPIC_SHOT_S + LAPIC_QUIET_S,
                 "LAPIC one-shot")
    devtest_step(r, r"mbtest: lapic ok")
    devtest_step(r, r"mbtest: all devices ok")
    status = int(r.expect(DEVTEST_STATUS).group(1))
    m = r.expect(VMM_FREE)
    r.expect(r"(?m)^\$ ")
    if status != DEVTEST_PASS_STATUS:
        fail("exit status %d, not %d" % (status, DEVTEST_PASS_STATUS))
    if m.group(2) != m.group(3):
        fail("free pages %s before the guest, %s after"
             % (m.group(2), m.group(3)))
    print("  TSC %d ticks/ms; LAPIC phases %.2f s and %.2f s of host "
          "time; the guest ran %.1f s" % (tpm, periodic, oneshot,
                                          time.time() - start))
