"""Tests of what unmodified (PC-kind) guests will need (issue 22): the
MMIO instruction decoder and the guest page walk, the firmware tables.

Invariant: each test checks its piece against values written from the
specifications (SDM, MP 1.4, ACPI), not against the code's own output."""

import re
import subprocess

from grade.config import KERNEL_IMG
from grade.debugging import GUEST_KERNEL_ELF
from grade.emulators import boot
from grade.helpers import (HOST_PROMPT, PROMPT, USER_PANIC, VMM_FREE,
                           fs_image_copy, in_order, run_user, shell,
                           shell_cmd, vboot, vmm_test)
from grade.registry import fail, test


# ---- The MMIO instruction decoder and the guest page walk (issue 22) --------

@test("insn-decoder", emulator="qemu", timeout=30)
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


@vmm_test("insn-mmio-stop", bochs_timeout=300, qemu_timeout=90, ryzen=True)
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


@test("fwtables", emulator="qemu", timeout=60)
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


