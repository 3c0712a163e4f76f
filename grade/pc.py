"""Tests of PC-kind guests (issue 22): the MMIO instruction decoder and
the guest page walk, the firmware tables, the BIOS, the device models,
and multiboot kernels run by the user-space VMM (vmm -k).

Invariant: each test checks its piece against values written from the
specifications (SDM, MP 1.4, ACPI, the datasheets), not against the
code's own output."""

import datetime
import os
import re
import subprocess
import time

from grade.config import KERNEL_IMG
from grade.debugging import GUEST_KERNEL_ELF
from grade.console import vms_state
from grade.emulators import boot, run_qemu
from grade.fs import run_fs
from grade.helpers import (FREE_AFTER, HOST_PROMPT, PANIC, PROMPT,
                           USER_PANIC, VMM_FREE, attach, detach,
                           fs_image_copy, guest_problems, host_cmd, in_order,
                           kmon_cmd, run_user, shell, shell_cmd, vboot,
                           vmm_test, vms_free)
from grade.registry import fail, test


# ---- The MMIO instruction decoder and the guest page walk (issue 22) --------


# `vmm kill` of a background PC guest: its VMM program(s) say the guest
# ended and exit a moment after, and their pages come back then.
KILL_TRIES = 10
KILLED_ENDED = r"vmm: guest [0-9a-f]{8} ended without an exit status"


def kill_background(r, name, before):
    """`vmm kill NAME`; wait (at most KILL_TRIES `vms`) for its VMM
    program's last line and for the host's free pages to be BEFORE again
    (a leak stays, whatever the tries). Returns the free pages after."""
    start = len(r.text)
    shell_cmd(r, "vmm kill %s" % name, r"\(%s\) killed" % name)
    for _ in range(KILL_TRIES):
        after, _ = vms_free(r, 0)
        if re.search(KILLED_ENDED, r.text[start:]) and after == before:
            break
    if not re.search(KILLED_ENDED, r.text[start:]):
        fail("%s: its VMM program did not say its guest ended" % name)
    return after

@test("insn-decoder", emulator="qemu", timeout=30, vendor=None)
def insn_decoder():
    """The monitor's insntest: the MMIO decoder's table (MOV, MOVZX, MOVSX,
    MOVSXD, CMP/TEST/ALU reads in 16-, 32- and 64-bit code, refusals) and
    the guest page walk (32-bit with 4 KiB, 4 MiB and PSE-36 pages, PAE,
    4-level; reserved bits, not-present entries, tables outside RAM) all
    match, twice in a row (the test leaves nothing behind)."""
    r = boot("monitor")
    r.expect(PROMPT)
    for _ in range(2):
        r.send("insntest")
        r.expect(r"(?m)^insn: (\d+ ok|\d+ of \d+ cases FAILED)")
        r.expect(r"(?m)^gva: (\d+ ok|\d+ of \d+ cases FAILED)")
        r.expect(PROMPT)
    out = r.text
    bad = [l for l in out.splitlines() if "FAILED" in l]
    if bad:
        fail("self-test mismatches:\n%s" % "\n".join(bad))
    counts = re.findall(r"(?m)^(insn|gva): (\d+) ok", out)
    if len(counts) != 4 or any(int(n) < 30 for _, n in counts):
        fail("expected two 'insn: N ok' and 'gva: N ok' lines with N >= "
             "30, got %s" % counts)


# The guest's MMIO accesses that stop it (testpayload/attack.c), and what the
# decoder must make of the instruction each compiles to: the C type sets
# the size, the constant the value.
INSN_MMIO_ATTACKS = [
    ("lapic-mmio", "read", 0xfee00030, r"reads 4 bytes"),
    ("read-beyond-ram", "read", 2 << 30, r"reads 8 bytes"),
    ("write-vga-hole", "write", 0xb8000, r"writes 2 bytes, 0x4f21"),
]


def insn_len_at(elf, addr):
    """The length of the instruction at ADDR in ELF, as objdump sees it."""
    out = subprocess.run(["objdump", "-d", "--insn-width=16",
                          "--start-address=0x%x" % addr,
                          "--stop-address=0x%x" % (addr + 16), elf],
                         capture_output=True, text=True).stdout
    m = re.search(r"(?m)^\s*%x:\t((?:[0-9a-f]{2} )+)" % addr, out)
    if not m:
        fail("objdump shows no instruction at 0x%x in %s" % (addr, elf))
    return len(m.group(1).split())


@vmm_test("insn-mmio-stop", bochs_timeout=300, qemu_timeout=90)
def insn_mmio_stop():
    """The MMIO decoder on a live guest: the instruction's fetch through
    the guest's CS and 4-level paging, and its decoding, on this vendor.

    Each MMIO attack of testpayload/attack.c stops its guest at an address
    outside guest RAM; the stop line says what the instruction at the
    guest's RIP does (vmm/insn.c's mmio_decode): its length, as objdump
    reads the guest kernel, and the size (and for a store the value) of
    the access, as the C source wrote it.
    No decoder failure line, and no page leaked between sessions."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("insn-mmio")])
    shell(r)
    # A first session and a command warm the host FS cache (vmm, the guest
    # kernel, echo), as hostile-cpl0 does: free pages then hold still.
    r.send("vmm attack list")
    r.expect(VMM_FREE)
    r.expect(HOST_PROMPT)
    shell_cmd(r, "echo warm", r"(?m)^warm\r?$")
    last = None
    for name, access, gpa, what in INSN_MMIO_ATTACKS:
        start = len(r.text)
        r.send("vmm attack %s" % name)
        m = r.expect(VMM_FREE)
        r.expect(HOST_PROMPT)
        out = r.text[start:]
        if re.search(r"(?m)^mmio: ", out):
            fail("attack %s: the decoder failed:\n%s" % (name, out[-600:]))
        want = (r"stopped: .*: %s at guest-physical 0x%x \(outside guest "
                r"RAM\).*; its instruction \(([0-9]+) bytes\) %s; guest rip "
                r"0x([0-9a-f]+)" % (access, gpa, what))
        hit = re.search(want, out)
        if not hit:
            fail("attack %s: no stop line matching %r:\n%s"
                 % (name, want, out[-600:]))
        real = insn_len_at(GUEST_KERNEL_ELF, int(hit.group(2), 16))
        if int(hit.group(1)) != real:
            fail("attack %s: the decoder says %s bytes, objdump %d"
                 % (name, hit.group(1), real))
        before = int(m.group(2))
        if last is not None and before != last:
            fail("attack %s: %d free pages at the start, %d the session "
                 "before" % (name, before, last))
        last = before

# ---- Firmware tables of PC-kind guests (issue 22) -------------------------

FW_CPU_COUNTS = (1, 2, 4, 8, 16)        # fwdump's good cases (16: FW_MAX_CPUS)
FW_REFUSED = ("0 CPUs", "too many CPUs", "RAM below the EBDA's end",
              "EBDA not staged", "BDA not staged")


@test("fwtables", emulator="qemu", timeout=60, vendor=None)
def fwtables():
    """vmmdev/fwtables.c's BIOS data area, MP and ACPI tables, found as a
    guest kernel finds them.

    user/fwdump stands in for the VMM (its own gmem_ptr over 1 MiB) and
    for a guest: for 1, 2, 4, 8 and 16 CPUs it finds "_MP_" and "RSD PTR "
    on 16-byte boundaries in the EBDA's first KiB (0x9FC00), checks every
    checksum and walks the MP entries and RSDT -> MADT: APIC ids 0..n-1,
    CPU 0 the only boot CPU, one ISA bus, the IOAPIC (id n, 0xFEC00000),
    ISA IRQ 0 on pin 2 and the others on their own pins (none for the
    cascade), LINT0 ExtINT and LINT1 NMI, IRQ 0 -> GSI 2 in the MADT, and
    no byte written outside the BDA and the EBDA. Bad calls (0 or 17 CPUs,
    RAM below the EBDA, memory gmem_ptr does not stage) are refused in one
    line and write nothing. No pages leak."""
    pats = []
    for n in FW_CPU_COUNTS:
        pats += [r"  MP: _MP_ at 0x9fc00 -> PCMP at 0x9fc30, %d entries\b"
                 % (n + 19),
                 r"  MP: %d CPUs \(1 boot\), IOAPIC %d at 0xfec00000, LAPIC "
                 r"0xfee00000, IRQ 0 -> pin 2, IRQ 2 -> -1, IRQ 15 -> pin 15, "
                 r"LINT0 ExtINT 0, LINT1 NMI 1\n" % (n, n),
                 r"  ACPI: RSD PTR at 0x9fc10 -> RSDT at 0x9f[0-9a-f]{3} -> "
                 r"APIC at 0x9f[0-9a-f]{3}, %d bytes\n" % (44 + 8 * n + 22),
                 r"  ACPI: %d CPUs, IOAPIC %d at 0xfec00000, LAPIC 0xfee00000, "
                 r"IRQ 0 -> GSI 2\n" % (n, n),
                 r"fwdump: %d CPUs: ok\n" % n]
    for name in FW_REFUSED:
        pats += [r"vmm: firmware tables: .*: none written\n",
                 r"fwdump: %s: ok\n" % re.escape(name)]
    pats.append(r"fwdump: all %d cases passed\n"
                % (len(FW_CPU_COUNTS) + len(FW_REFUSED)))
    r = run_user("fwdump", no=USER_PANIC + [r"FAIL"])
    in_order(r, *pats)


# ---- Issue 22: the BIOS of PC-image guests (vmmdev/bios16.S) -------------
# One self-contained block: its constants mirror vmmdev/bios.h and
# guests/biostest/biostest.h.
BIOSTEST_IMG = os.path.join("obj", "biostest", "biostest.img")
BIOSTEST_RAM_MB = 32             # BT_RAM_MB
BIOSTEST_SECTORS = 8192          # BT_DISK_SECTORS: 8 cylinders of 16 x 63
BIOSTEST_PASS_STATUS = (0x21 << 1) | 1   # BT_PASS through isa-debug-exit
BIOS_PA, BIOS_RESERVED_END, BIOS_HIGH_PA = 0x9F000, 0xA0000, 0x100000


def _bios_e820_line(base, end, kind):
    return r"e820: %016x %016x %08x\r?\n" % (base, end - base, kind)


@test("bios-services", emulator="qemu", mem=BIOSTEST_RAM_MB, timeout=90,
      vendor=None)
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
    r = run_qemu(disks=[BIOSTEST_IMG] * ndisks, mem=BIOSTEST_RAM_MB,
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


# ---- Issue 22: multiboot kernels on the emulated PC (vmm -k) ----------------
# One block, to be moved as a whole. The project's multiboot test kernel
# (mbtest/) runs under `vmm -k`: its port I/O goes to the vmm program's
# device models (vmmdev/) through the kernel's direct hand-off
# (vmm/devexit.c); it ends through the debug-exit port 0xf4.

MB_STATUS = r"vmm: guest [0-9a-f]{8} exited with status (\d+)"
MB_LINES = (r"mbtest: cmdline: /vmm/mbtest hello world\r?\n",
            r"mbtest: module 0 \(\d+ bytes, page-aligned: yes\): multiboot "
            r"module one: the quick brown fox jumps over the lazy dog",
            r"mbtest: memory map ok: 3 entries, \d+ KiB usable")


def mb_session(r, args, *patterns):
    """`vmm -k /vmm/mbtest ARGS`: PATTERNS in order, then vmm's free-page
    line and the prompt. Returns (before, after, text of the session)."""
    start = len(r.text)
    if args is not None:  # None: typed already
        r.send("vmm -k /vmm/mbtest " + args)
    for p in patterns:
        r.expect(p)
    m = r.expect(VMM_FREE)
    r.expect(r"(?m)^\$ ")
    return int(m.group(2)), int(m.group(3)), r.text[start:]


@vmm_test("multiboot-exit", bochs_timeout=600, qemu_timeout=180,
          ryzen=True)
def multiboot_exit():
    """A multiboot kernel gets its command line, modules and memory map,
    and its exit status 7 through port 0xf4.

    `vmm -k /vmm/mbtest -a "hello world" -M /vmm/mbmodule.txt` twice: the
    test kernel echoes the command line QEMU's -kernel/-append would give
    it and the module's text (page-aligned), finds a PC's memory map, and
    writes 7 to port 0xf4; vmm reports status 15 ((7 << 1) | 1). `vms`
    shows nothing left; the second run ends with as many free pages as
    it started with. The same kernel as a flat binary whose multiboot
    header gives the load addresses (the a.out kludge) does the same."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("multiboot-exit")])
    shell(r)
    args = '-a "hello world" -M /vmm/mbmodule.txt'
    mb_session(r, args, *MB_LINES, MB_STATUS)
    before, after, out = mb_session(r, args, *MB_LINES, MB_STATUS)
    status = re.search(MB_STATUS, out).group(1)
    if status != "15":
        fail("exit status %s, not 15" % status)
    if before != after:
        fail("a multiboot run leaked: %d free pages before, %d after"
             % (before, after))
    # The same kernel as a flat binary: the header's address fields.
    r.send('vmm -k /vmm/mbtest-aout ' + args)
    mb_session(r, None, r"mbtest: cmdline: /vmm/mbtest-aout hello world",
               *MB_LINES[1:], r"vmm: guest [0-9a-f]{8} exited with status 15")
    shell_cmd(r, "vms", r"vms: 0 guests")
    guest_problems(r)


MB_SMP_LINES = (r"vmm: guest [0-9a-f]{8} is \w+, multiboot, 2 vCPUs",
                r"mbtest: smp: CPU 1 started at vector 0x00000020",
                r"mbtest: smp: \d+ INIT and STARTUP IPIs later CPU 1 "
                r"started once")


@vmm_test("multiboot-smp", bochs_timeout=600, qemu_timeout=180)
def multiboot_smp():
    """A guest's INIT and STARTUP IPIs start its second vCPU once.

    `vmm -c 2 -k /vmm/mbtest -a smp` twice (issue 23; mbtest/smp.c): CPU 0
    sends INIT then STARTUP 0x20 to APIC ID 1 through its LAPIC's ICR;
    CPU 1 runs the real-mode trampoline at 0x20000, which counts its
    start and halts (interrupts on, none comes). Then a second STARTUP, INIT and STARTUP again to
    the running CPU 1, 1,000 STARTUPs to all-but-self, one to each of
    the 256 physical IDs (absent ones too) and INIT to itself: CPU 1's
    count stays 1 (the kernel refuses them: -E_BUSY). The guest exits
    with status 15 while CPU 1 halts; its vmm prints the status once,
    `vms` shows nothing left, and the second run ends with as many free
    pages as it started with (both vCPUs, both VMM processes, their run
    pages gone). Then `-c 3` with CPUs 1 and 2 never started: status 15
    once, free pages equal."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("multiboot-smp")])
    shell(r)
    for _ in range(2):
        before, after, out = mb_session(r, "-c 2 -a smp", *MB_SMP_LINES,
                                        MB_STATUS)
        statuses = re.findall(MB_STATUS, out)
        if statuses != ["15"]:
            fail("exit statuses %s, not one 15" % statuses)
    if before != after:
        fail("a 2-vCPU run leaked: %d free pages before, %d after"
             % (before, after))
    # Three vCPUs, two never started: their processes wait in
    # sys_vcpu_run until the guest's exit ends the VM.
    before, after, out = mb_session(
        r, "-c 3 -a 'hello world' -M /vmm/mbmodule.txt",
        r"is \w+, multiboot, 3 vCPUs", *MB_LINES, MB_STATUS)
    if re.findall(MB_STATUS, out) != ["15"] or before != after:
        fail("3 vCPUs, 2 never started: statuses %s, free pages %d "
             "before, %d after" % (re.findall(MB_STATUS, out), before,
                                   after))
    shell_cmd(r, "vms", r"vms: 0 guests")
    guest_problems(r)


@vmm_test("multiboot-hostile", bochs_timeout=600, qemu_timeout=180)
def multiboot_hostile():
    """String I/O with counts past guest memory stops the guest cleanly.

    The test kernel's rep insb runs past the end of guest RAM, its rep
    outsb reads from beyond RAM, its rep insl writes into the legacy
    hole: each time the VMM stops the guest with a line naming the
    guest-linear address, vmm says it ended without an exit status, and
    the host's free pages are those of before (after a warm-up run, in
    which the guest halts 3 times with interrupts on and nothing due: it
    sleeps until a byte is typed on its console)."""
    r = vboot(input=True,
              disks=[KERNEL_IMG, fs_image_copy("multiboot-hostile")])
    shell(r)
    # (The warm-up also prints the port-I/O round trip: vmm/README.md.)
    r.send("vmm -k /vmm/mbtest -a 'halt intr bench'")
    for i in range(3):
        # The whole line: its last byte is the guest's last exit before
        # HLT (a byte typed earlier would go to the UART's FIFO, and with
        # no interrupt controller yet nothing would wake the HLT).
        r.expect(r"mbtest: halt %d\r?\n" % i)
        r.send("x", newline="")
    mb_session(r, None, r"mbtest: 3 HLTs came back",
               r"mbtest: interrupts ok",
               r"mbtest: inb round trip: \d+ TSC ticks", MB_STATUS)
    for attack in ("hostile-ins", "hostile-outs", "hostile-insl-hole"):
        before, after, out = mb_session(
            r, "-a " + attack,
            r"vmm: guest [0-9a-f]{8} stopped: (INS|OUTS) of \d+ bytes at "
            r"guest-linear 0x[0-9a-f]+: not guest RAM",
            r"vmm: guest [0-9a-f]{8} ended without an exit status")
        if "hostile string I/O came back" in out or \
                re.search(MB_STATUS, out):
            fail("%s: the guest went on:\n%s" % (attack, out))
        if before != after:
            fail("%s: %d free pages before, %d after"
                 % (attack, before, after))
    for p in PANIC:
        if re.search(p, r.text):
            fail("the host panicked")


def mbtest_unclaimed():
    """The accesses mbtest's word "unclaimed" makes, from the header
    that sets them (mbtest/unclaimed.h): {name: value}."""
    with open("mbtest/unclaimed.h") as f:
        return {k: int(v, 0) for k, v in re.findall(
            r"(?m)^#define UNCLAIMED_(\w+) (0x[0-9A-Fa-f]+|\d+)u?\b",
            f.read())}


def devices_row(out, name, where):
    """(reads, writes) of `kmon devices`' row NAME at WHERE, or fail."""
    m = re.search(r"(?m)^  %s\s+%s\s+(\d+)\s+(\d+)\r?$" % (name, where),
                  out)
    if not m:
        fail("kmon devices shows no row %s %s:\n%s" % (name, where, out))
    return int(m.group(1)), int(m.group(2))


def devices_check(r, gid, u):
    """`kmon devices GID` of the spinning mbtest: COM1 in use, and
    exactly mbtest's unclaimed accesses (U: mbtest_unclaimed())."""
    out = kmon_cmd(r, "devices " + gid)
    if not re.search(r"guest %s spin \(multiboot\): devices as its VMM "
                     r"program \(env [0-9a-f]{8}\) counts them" % gid, out):
        fail("kmon devices: no header line for guest %s:\n%s" % (gid, out))
    reads, writes = devices_row(out, "uart16550a", "port 0x3f8-0x3ff")
    if reads == 0 or writes == 0:
        fail("kmon devices: COM1 %d reads, %d writes (the spinning "
             "guest polls and prints)" % (reads, writes))
    for what in ("PORT", "MMIO"):
        got = devices_row(out, "unclaimed", r"%s 0x%x" % (
            "port" if what == "PORT" else "mmio", u[what]))
        want = (u[what + "_READS"], u[what + "_WRITES"])
        if got != want:
            fail("kmon devices: unclaimed %s 0x%x: %d reads, %d writes, "
                 "not %d and %d" % (what, u[what], *got, *want))


def report_between(out, what):
    """The lines devstatsbad's WHAT report printed between its markers."""
    m = re.search(r"devstatsbad: %s report begins\r?\n(.*?)devstatsbad: %s "
                  r"report ends" % (what, what), out, re.S)
    if not m:
        fail("devstatsbad: no %s report:\n%s" % (what, out[-1500:]))
    return m.group(1)


def devstatsbad_check(r):
    """user/devstatsbad.c: bad VMMCTL_DEVSTATS calls refused, and a report
    page of garbage printed bounded: 32 device rows and 32 unclaimed rows
    (the arrays' sizes, whatever the counts say), printable bytes only."""
    out = host_cmd(r, "devstatsbad")
    if "devstatsbad: FAIL" in out or \
            not re.search(r"devstatsbad: all \d+ checks passed", out):
        fail("devstatsbad failed:\n%s" % out[-1500:])
    if "keeps no device report" not in report_between(out, "unregistered"):
        fail("devices of a guest with no report page: no 'keeps no device "
             "report' line")
    body = report_between(out, "garbage")
    odd = sorted(set(c for c in body if c not in "\r\n" and
                     not " " <= c <= "~"))
    rows = re.findall(r"(?m)^  .*$", body)
    # The widest row: 2 + a 15-byte name padded to 16 + 1 + a 42-byte
    # range "mmio 0x<16>-0x<16>" + 1 + two 20-digit counts and a space.
    widest = 2 + 16 + 1 + 42 + 1 + 20 + 1 + 20
    if odd or len(rows) != 67 or \
            max(len(l.rstrip()) for l in rows) > widest:
        fail("devstatsbad's garbage printed unbounded: %d rows (want 67: "
             "a header, 32 devices, 32 unclaimed, two summary lines), "
             "bytes %r:\n%s" % (len(rows), odd, body[-1500:]))
    for what in ("bad-version", "unmapped"):
        if "device report of version 74565, not 1" not in \
                report_between(out, what):
            fail("devstatsbad's %s report not refused by its version"
                 % what)


@vmm_test("multiboot-background", bochs_timeout=600, qemu_timeout=180)
def multiboot_background():
    """A multiboot guest runs in the background; its console works; the
    monitor shows its devices; kill ends it and its VMM program, every
    page back.

    `vmm -b -n spin -k /vmm/mbtest -a "unclaimed spin"`: vms lists it as
    multiboot; attached, its COM1 output is replayed and a typed byte
    reaches its receive FIFO (it echoes it); Ctrl-] d detaches it;
    `kmon devices ID` shows COM1 read and written and exactly the reads
    and writes mbtest made to a port and an MMIO address no device
    claims (mbtest/unclaimed.h); paused, vms says so, and resumed and
    attached it echoes again; `vmm kill spin` ends it, its VMM program
    says it ended without an exit status and sums the unclaimed
    accesses in one line, and vms shows the host's free pages of before
    (after a warm-up run). Then devstatsbad (devstatsbad_check): a
    rogue VMM program's report page cannot hurt the host."""
    u = mbtest_unclaimed()
    r = vboot(input=True,
              disks=[KERNEL_IMG, fs_image_copy("multiboot-background")])
    shell(r)
    mb_session(r, "", MB_STATUS)
    before, _ = vms_free(r, 0)
    shell_cmd(r, 'vmm -b -n spin -k /vmm/mbtest -a "unclaimed spin"',
              r"runs in the background")
    out = host_cmd(r, "vms")
    m = re.search(r"(?m)^([0-9a-f]{8}) spin .*\bmultiboot\b", out)
    if not m:
        fail("vms does not list spin as multiboot:\n%s" % out)
    attach(r, "spin")
    r.expect(r"mbtest: unclaimed port and MMIO read as all ones")
    r.expect(r"mbtest: spinning")
    r.send("x", newline="")
    r.expect(r"mbtest: got x")
    detach(r, "spin")
    devices_check(r, m.group(1), u)
    shell_cmd(r, "vmm pause spin", r"\(spin\) paused")
    if vms_state(host_cmd(r, "vms"), "spin") != "paused":
        fail("vms does not show spin paused")
    shell_cmd(r, "vmm resume spin", r"\(spin\) resumed")
    attach(r, "spin")
    r.send("y", newline="")
    r.expect(r"mbtest: got y")
    detach(r, "spin")
    shell_cmd(r, "vmm kill spin", r"\(spin\) killed")
    ended = r"vmm: guest [0-9a-f]{8} ended without an exit status"
    for _ in range(5):
        after, _ = vms_free(r, 0)
        if re.search(ended, r.text):
            break
    if not re.search(ended, r.text):
        fail("the VMM program did not say its guest ended")
    summed = (r"vmm: %d accesses no device claimed, at 2 addresses: port "
              r"0x%x \(%d\) mmio 0x%x \(%d\)\r?$" % (
                  sum(u[k] for k in u if k.endswith(("READS", "WRITES"))),
                  u["PORT"], u["PORT_READS"] + u["PORT_WRITES"],
                  u["MMIO"], u["MMIO_READS"] + u["MMIO_WRITES"]))
    if not re.search("(?m)" + summed, r.text):
        fail("the VMM program did not sum the unclaimed accesses: %r"
             % summed)
    after, _ = vms_free(r, 0)
    if before != after:
        fail("%d free pages before the background guest, %d after"
             % (before, after))
    devstatsbad_check(r)
    guest_problems(r)


@vmm_test("vmrun-badcalls", bochs_timeout=300, qemu_timeout=60)
def vmrun_badcalls():
    """Bad hand-off calls get errors; a rogue VMM program cannot hurt the
    host through the run page.

    user/vmrunbad.c: VMMCTL_PC with bad lengths, kinds and pages and
    sys_vcpu_run on envs that are no PC guest of its own get errors; a
    real-mode guest it runs as its VMM (OUT, IN, REP INSB of 4 KiB) makes
    exactly the exits its code makes while the program writes garbage
    into the run page (IN answers wider than the port, console lengths
    past the page, bad vectors, its own sizes and counts): only AL
    changes, the string moves exactly 4 KiB, and the second round ends
    with as many free pages as it started with. A VMM program (a child)
    destroyed while its guest spins, or exiting while its guest waits
    for an answer, takes the guest with it, every page back."""
    r = vboot("vmrunbad")
    # (Its own count, round 2: the kernel's whole-boot count would hold
    # the one-time pages of the first guest run, such as each CPU's
    # VMXON region or host save area.)
    r.match(r"vmrunbad: all \d+ checks passed", FREE_AFTER,
            no=PANIC + [r"vmrunbad: FAIL", r"vmrunbad: no guest"])


@vmm_test("vcpu-add", bochs_timeout=300, qemu_timeout=60)
def vcpu_add():
    """Guest SMP, the kernel's half (vmm/vcpuctl.c): vCPUs up to
    VM_MAX_VCPUS and no more; bad AP run pages, kinds, vectors and
    callers refused; START and INIT answer -E_BUSY where they must.

    user/vcpuadd.c: a started AP runs in real mode at (vector << 8):0
    and exits into its own run page; a VMM child blocked for an AP that
    waits for SIPI wakes at its first exit after START; VMMCTL_KILL and
    a VMM child's death end every vCPU, another blocked child wakes with
    -E_BAD_ENV; the second round ends with as many free pages as it
    started with."""
    r = vboot("vcpuadd")
    r.match(r"vcpuadd: all \d+ checks passed", FREE_AFTER,
            no=PANIC + [r"vcpuadd: FAIL", r"vcpuadd: no guest"])


# ---- PC device models (vmmdev/, issue 22) ---------------------------------
#
# user/vdevtest drives the device models through their register functions
# on the host JOS, as their bus and clock (no guest): see its top comment.

VDEVTEST_DEVICES = ("pic", "ioapic", "lapic smp", "lapic", "lapic timer",
                    "pit", "rtc", "kbc", "vga", "ide")


@test("vdevtest", emulator="qemu", timeout=60, vendor=None)
def vdevtest():
    """The PC device models against their datasheets, in order: 8259A
    pair (init words, masks, EOIs, priority, cascade, ELCR level lines,
    spurious, AEOI, poll), IOAPIC -> LAPIC (redirection, remote IRR and
    EOI, TPR, logical destinations, IPIs, ESR, ExtINT; a second CPU's
    LAPIC: its IOAPIC route and fixed IPIs reach it alone, INIT and
    STARTUP by destination and shorthand reach the vCPU hooks), the
    LAPIC timer in one-shot and periodic mode, the PIT (mode 2, channel 2's OUT and
    gate, read-back), the RTC (BCD/binary, 12/24 h, UIP, SET, update
    interrupt, memory bytes), the keyboard controller (self-test, A20,
    reset pulse, IRQ 1; port 0x92's A20 and reset), VGA ports, and IDE
    on a scratch image (IDENTIFY, read/write, MULTIPLE, count 0, IDNF,
    abort, nIEN, SRST); then 20,000 random accesses of every size to every device (a hostile
    guest), after which the disk image still has its size.
    The RTC's date is the host's: within a day of this machine's UTC
    date (QEMU's RTC holds UTC)."""
    r = run_fs("vdevtest", r"vdevtest: all devices ok",
               disks=[KERNEL_IMG, fs_image_copy("vdevtest")])
    in_order(r, *([r"vdevtest: %s ok" % d for d in VDEVTEST_DEVICES[:-1]] +
                  [r"vdevtest: 20000 random accesses to every device "
                   r"survived", r"vdevtest: ide ok",
                   r"vdevtest: all devices ok"]))
    m = re.search(r"vdevtest: rtc date (\d{4})-(\d\d)-(\d\d)", r.text)
    if not m:
        fail("vdevtest printed no RTC date")
    said = datetime.date(*map(int, m.groups()))
    today = datetime.datetime.utcnow().date()
    if abs((said - today).days) > 1:
        fail("the RTC model says %s, the host's UTC date is %s"
             % (said, today))


# ---- The LAPIC read shadow: MMIO reads the kernel answers (issue 22) -------

MMIO_FIGURE = r"mbtest: mmio round trip, %s: (\d+) TSC ticks"
LAPIC_FAST = r"vmm: device lapic: (\d+) reads answered by the kernel"
# The test kernel reads the LAPIC ID this many times (benchmmio.c).
BENCH_MMIO = 1000


def mmio_figures(text):
    """The figures of `vmm -k /vmm/mbtest -a 'bench benchmmio'` in TEXT:
    port-I/O, kernel-answered and VMM-answered MMIO round trips."""
    def one(pattern):
        m = re.search(pattern, text)
        if not m:
            fail("no figure %r" % pattern)
        return int(m.group(1))
    return {"pio": one(r"mbtest: inb round trip: (\d+) TSC ticks"),
            "kernel": one(MMIO_FIGURE % r"lapic id read \(kernel\)"),
            "vmm": one(MMIO_FIGURE % r"lapic timer count read \(vmm\)"),
            "eoi": one(MMIO_FIGURE % r"lapic eoi write \(vmm\)")}


@vmm_test("lapic-shadow", bochs_timeout=300, qemu_timeout=120, ryzen=True)
def lapic_shadow():
    """LAPIC reads the kernel answers from the model's read shadow show
    what the model would, and follow the guest's writes at once.

    `vmm -k /vmm/mbtest -a 'bench benchmmio fetchremap'`: the test
    kernel reads the LAPIC's ID, version, TPR, LDR and LINT0 whole (the
    kernel answers) and a byte at a time (the user-space model answers)
    and compares; writes TPR, LDR and LINT0 and reads each back at once;
    then times 1,000 LAPIC ID reads, timer current-count reads (only the
    model can answer: they change with time) and EOI writes, and an inb
    of COM1's LSR. Then, under 32-bit paging, it loads the LAPIC ID from
    code at one linear page whose PTE it switches (INVLPG, CR3 unchanged)
    between a page that loads it into EAX and one that loads it into EBX,
    and checks each time that the register the page mapped then names got
    it (the host's fetch cache must see the PTE change). vmm counts at
    least the 1,000 ID reads as answered by the kernel; the kernel's read
    costs less than the model's; the second run ends with the free pages
    of its start."""
    r = vboot(input=True,
              disks=[KERNEL_IMG, fs_image_copy("lapic-shadow")])
    shell(r)
    args = "-a 'bench benchmmio fetchremap'"
    lines = (r"mbtest: inb round trip: \d+ TSC ticks",
             r"mbtest: lapic reads follow writes",
             MMIO_FIGURE % r"lapic id read \(kernel\)",
             MMIO_FIGURE % r"lapic eoi write \(vmm\)",
             r"mbtest: fetch remap ok: \d+ rounds",
             LAPIC_FAST, r"vmm: guest [0-9a-f]{8} exited with status 15")
    mb_session(r, args, *lines)
    before, after, out = mb_session(r, args, *lines)
    fig = mmio_figures(out)
    fast = int(re.search(LAPIC_FAST, out).group(1))
    fig["paging"] = int(re.search(MMIO_FIGURE % r"lapic id read, 32-bit "
                                  r"paging \(kernel\)", out).group(1))
    print("figures (TSC ticks): inb %(pio)d, LAPIC read in the kernel "
          "%(kernel)d (paging on: %(paging)d), in the VMM %(vmm)d, EOI "
          "write %(eoi)d" % fig)
    if fast < BENCH_MMIO:
        fail("the kernel answered %d LAPIC reads, not the %d ID reads"
             % (fast, BENCH_MMIO))
    if fig["kernel"] >= fig["vmm"]:
        fail("a LAPIC read the kernel answers (%d) is no cheaper than "
             "one the VMM answers (%d)" % (fig["kernel"], fig["vmm"]))
    if before != after:
        fail("%d free pages before, %d after" % (before, after))
    guest_problems(r)
