"""Hostile PC guests (issue 22): a guest that drives the emulated
devices wildly gets device errors, never host harm.

The multiboot test kernel's device attacks (mbtest/devattack*.c): the
word `devattack` runs every attack that the guest survives, in one boot;
`devattack-NAME` runs one that the VMM must stop, alone.

Invariant: every attack named here has its expectation written from the
datasheets and the threat model (vmm/README.md), not from the code's own
output; the host's free pages are compared after a warm-up run."""

import re

from grade.helpers import (PANIC, attach, detach, fs_image_copy, host_cmd,
                           shell, shell_cmd, vboot, vmm_test, vms_free)
from grade.config import KERNEL_IMG
from grade.console import vms_state
from grade.pc import MB_STATUS, kill_background, mb_session
from grade.registry import fail

# The IDE master of the attacks: a file of the test's own copy of the
# host disk, 17 MiB (the guest JOS's pristine disk). Only its last
# sector is written, with its own bytes.
DEVATTACK_DISK = "/vmm/fs.img.orig"

# The attacks the guest survives, in the order it runs them.
DEVATTACK_RUNS = (
    "ide-lba-past-end", "ide-write-past-end", "ide-count-zero", "ide-dma",
    "ide-every-command", "ide-no-transfer", "ide-absent-slave",
    "lapic-icr-storm", "lapic-every-vector", "lapic-init-sipi",
    "lapic-timer-storm", "lapic-every-register", "pit-irq0-storm",
    "pic-exception-vectors", "pic-garbage", "ioapic-regsel",
    "ioapic-routes", "pit-no-exits", "uart-flood", "uart-loopback-flood",
    "uart-every-value", "cmos-every-index", "kbc-storm", "mmio-unclaimed",
    "mmio-sizes", "mmio-crossing", "port-scan")

# Reads every block of the image the attacks read (see pc_hostile).
DEVATTACK_WARMUP = "devattack-ide-count-zero devattack-ide-write-past-end"
# mmio-unclaimed's addresses (HPET, the PCI hole, the end of 64 MiB of
# RAM), which vmm names before the port scan fills its 16 names; the
# scan's unclaimed reads (vmm counts them all, and lists the first 32
# addresses in its report: vmm/devstats.c).
UNCLAIMED_MMIO = ("0xfed00000", "0xe0000000", "0x4000000")
UNCLAIMED_MIN = 65000
FLOOD_LINES = 128
FLOOD_LINE = r"devattack: flood #{60}\r?\n"

# Attacks the VMM stops: the line it must print for each.
GUEST = r"[0-9a-f]{8}"
DEVATTACK_STOPS = (
    ("mmio-movs", r"mmio: guest %s rip 0x[0-9a-f]+ \(32-bit code\): [^;]+; "
     r"bytes: f3 a5" % GUEST),
    ("mmio-xchg", r"mmio: guest %s rip 0x[0-9a-f]+ \(32-bit code\): [^;]+; "
     r"bytes: 87" % GUEST),
    ("mmio-lock-add", r"mmio: guest %s rip 0x[0-9a-f]+ \(32-bit code\): "
     r"[^;]+; bytes: f0 83" % GUEST),
    ("ide-insw-hole", r"vmm: guest %s stopped: INS of \d+ bytes at "
     r"guest-linear 0xa0000: not guest RAM" % GUEST),
    ("ide-outsw-beyond", r"vmm: guest %s stopped: OUTS of \d+ bytes at "
     r"guest-linear 0xffff0000: not guest RAM" % GUEST),
    ("fw-reset", r"vmm: the guest reset the machine \(keyboard controller "
     r"pulse \(0xFE to port 0x64\)\): it ends"),
)


def forever(r, attack, shows):
    """Attack ATTACK, which never ends, in a background guest: `vms`
    lists it, the host shell answers (`ls`), attached it shows SHOWS (a
    pattern, or None) and Ctrl-] d takes the console back, `vmm kill`
    ends it; the host's free pages are those of before."""
    before, _ = vms_free(r, 0)
    shell_cmd(r, "vmm -b -n %s -k /vmm/mbtest -a devattack-%s"
              % (attack, attack), r"runs in the background")
    out = host_cmd(r, "vms")
    if vms_state(out, attack) != "background":
        fail("vms does not show %s in the background:\n%s" % (attack, out))
    host_cmd(r, "ls /vmm", r"mbtest")
    attach(r, attack)
    if shows:
        r.expect(shows)
    detach(r, attack)
    after = kill_background(r, attack, before)
    if before != after:
        fail("%s: %d free pages before, %d after" % (attack, before, after))


def disk_size(r):
    """The attacks' disk image's size, as the host's `ls -l` says."""
    out = host_cmd(r, "ls -l %s" % DEVATTACK_DISK)
    m = re.search(r"(\d+)\s+%s" % re.escape(DEVATTACK_DISK), out)
    if not m:
        fail("ls -l printed no size for %s:\n%s" % (DEVATTACK_DISK, out))
    return int(m.group(1))


@vmm_test("pc-hostile", bochs_timeout=400, qemu_timeout=150)
def pc_hostile():
    """At least 20 device attacks: device errors, never host harm.

    One boot runs every attack the guest survives (mbtest -a devattack):
    IDE commands past the image's end, counts of 0 (256 sectors), DMA and
    every other command byte, the data port without a transfer and a rep
    insw of 8 MiB; LAPIC ICR storms, self-IPIs at every vector, INIT and
    SIPI to itself and to absent APIC IDs, a periodic timer of count 1,
    every register written; PIT reload 1 through the 8259A; the 8259A at
    exception vectors and fed garbage; IOAPIC registers past its last and
    its PIT pin in every delivery mode to absurd destinations; a UART
    flood with interrupts off (every line reaches the console), its
    loopback overrun, every register value; CMOS indexes past 128; 8042
    command storms; an inb of every port; MMIO of every size at every
    LAPIC offset, across page ends, and where no device is (all ones).
    The guest checks each device's answer and exits with status 15.
    Then each attack the VMM must stop, in a guest of its own: MMIO by
    movs, xchg and lock add (the decoder names the bytes), IDE string I/O
    into the hole and from beyond RAM (the address named), firmware
    tables rewritten and an 8042 reset (the guest ends), a UART flood for
    ever and a self-IPI and timer storm for ever, each in the background
    (the host shell answers; `vmm kill` ends it).
    The host's free pages are equal before and after every run after a
    warm-up, the disk image keeps its size, the host shell answers."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("pc-hostile")])
    shell(r)
    size = disk_size(r)
    # Warm-up: the host's one-time per-CPU pages, and the file server's
    # cache of the image's blocks that the attacks read.
    mb_session(r, "-i %s -a '%s'" % (DEVATTACK_DISK, DEVATTACK_WARMUP),
               MB_STATUS)
    before, after, out = mb_session(
        r, "-i %s -a devattack" % DEVATTACK_DISK,
        r"devattack: %d attacks survived" % len(DEVATTACK_RUNS), MB_STATUS)
    status = re.search(MB_STATUS, out).group(1)
    for name in DEVATTACK_RUNS:
        if not re.search(r"devattack: %s ok:" % re.escape(name), out):
            fail("attack %s did not say ok:\n%s" % (name, out[-3000:]))
    if "FAIL" in out or status != "15":
        fail("the devattack guest failed (status %s):\n%s"
             % (status, out[-3000:]))
    flood = len(re.findall(FLOOD_LINE, out))
    if flood != FLOOD_LINES:
        fail("%d of %d flood lines reached the console"
             % (flood, FLOOD_LINES))
    if before != after:
        fail("devattack: %d free pages before, %d after" % (before, after))
    for addr in UNCLAIMED_MMIO:
        if not re.search(r"vmm: (read from|write to) mmio %s: no device "
                         r"\(reads as all ones\)" % addr, out):
            fail("vmm did not name unclaimed MMIO at %s" % addr)
    m = re.search(r"vmm: (\d+) accesses no device claimed, at 32\+ "
                  r"addresses", out)
    if not m or int(m.group(1)) < UNCLAIMED_MIN:
        fail("vmm did not count the port scan's unclaimed accesses")
    for name, line in DEVATTACK_STOPS:
        before, after, out = mb_session(
            r, "-i %s -a devattack-%s" % (DEVATTACK_DISK, name), line)
        if "the guest came back" in out or re.search(MB_STATUS, out):
            fail("%s: the guest went on:\n%s" % (name, out))
        if before != after:
            fail("%s: %d free pages before, %d after"
                 % (name, before, after))
    # A UART flood for ever: the console must stay the host's to take
    # back; an interrupt storm for ever: the host must answer beside it.
    forever(r, "flood-forever", FLOOD_LINE)
    forever(r, "storm-forever", None)
    if disk_size(r) != size:
        fail("the disk image's size changed")
    for p in PANIC:
        if re.search(p, r.text):
            fail("the host panicked")
