"""Tests of debugging: gdb on the kernel (make qemu-nox-gdb), gdb on a
guest through the VMM's gdb stub on COM2, the guest gdb port under
attack (gdbattack.py), and the kernel monitor's VMM commands.

Invariants: a test that uses GDBPORT or GDBPORT+1 holds the GDB_PORTS
lock; every guest a test starts ends."""

import os
import re
import signal
import subprocess
import time

from grade import gdbattack
from grade.config import KERNEL_IMG
from grade.emulators import boot
from grade.gdb import gdb_port, port_in_use, run_gdb, wait_listening
from grade.helpers import (GUEST_PROMPT, HOST_PROMPT, PROMPT, attach, detach,
                           fs_image_copy, guest_halt, guest_kill,
                           guest_problems, guest_send, host_boot, kmon_cmd,
                           shell, shell_cmd, vboot, vendor, vmm_test)
from grade.make import make_var, run_make
from grade.registry import GDB_PORTS, fail, test


# ---- gdb --------------------------------------------------------------------

@test("gdb", emulator="qemu", timeout=60, locks=[GDB_PORTS])
def gdb():
    """gdb attached to `make qemu-nox-gdb` breaks in i386_init.

    With the .gdbinit that make writes, gdb stops at the breakpoint,
    shows i386_init at kern/init.c in a backtrace and prints a kernel
    global."""
    port = gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another `make qemu-gdb`?)" % port)
    # -snapshot: QEMU then neither writes nor locks the build's images,
    # which other tests may boot meanwhile.
    q = run_make("qemu-nox-gdb", label="qemu", QEMUEXTRA="-snapshot")
    wait_listening(port, q)
    g = run_gdb("break i386_init", "continue", "bt", "print npages",
                gdbinit=".gdbinit")
    g.wait()
    g.match(r"Breakpoint 1, (0x[0-9a-f]+ in )?i386_init \(",
            r"(?m)^#0\s+(0x[0-9a-f]+ in )?i386_init \(.*\) at kern/init\.c:\d+",
            r"(?m)^\$1 = \d+$")


# ---- Debugging a guest: the VMM's gdb stub on COM2 ----------------------------

GUEST_KERNEL_ELF = os.path.join("obj", "guest", "kern", "kernel")
# A guest-virtual address no guest page table maps.
UNMAPPED_GVA = "0x500000000000"


def guest_gdb_port():
    port = make_var("guestgdbport")
    if not port or not port.isdigit():
        fail("`make print-guestgdbport` gave no port")
    return int(port)


@vmm_test("vmm-gdb", bochs_timeout=420, qemu_timeout=180, locks=[GDB_PORTS])
def vmm_gdb():
    """gdb debugs a guest kernel through the VMM's gdb stub on COM2.

    `vmm -g` stops the guest at its first instruction; gdb (batch mode,
    the guest kernel's symbols) breaks in test_backtrace, shows guest
    frames with file:line, prints a guest global, writes the argument
    (the guest prints the new value), steps twice, gets errors for an
    unmapped address, a bad packet and a wild breakpoint, continues to
    `vm$ `, then Ctrl-C stops a spinning guest program and its registers
    are read; detaching lets the guest finish."""
    port = guest_gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another make qemu / bochs?)" % port)
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("vmm-gdb")],
              com2_port=port)
    wait_listening(port, r)
    g = run_gdb("break test_backtrace", "continue", "bt", "print npages",
                "set var x = 2", "print/x $pc", "stepi", "stepi",
                "print/x $pc", "x/2gx " + UNMAPPED_GVA,
                "maint packet m0,zz", "delete",
                "break *" + UNMAPPED_GVA, "continue", "delete", "continue",
                "info registers rip", "detach",
                port=port, elf=GUEST_KERNEL_ELF,
                setup=["set remotetimeout 300"])
    shell(r)
    start = len(r.text)
    r.send("vmm -g")
    r.expect(r"waits for gdb on COM2")
    r.expect(GUEST_PROMPT)
    guest_send(r, "spin")
    r.expect(r"I am the child.  Spinning")
    # The guest runs only after gdb's last `continue` (gdb's own output
    # is buffered: the guest console is the sign).
    time.sleep(0.5)
    os.kill(g.proc.pid, signal.SIGINT)
    g.wait()
    g.match(r"Breakpoint 1, (0x[0-9a-f]+ in )?test_backtrace \(x=5\) at "
            r"kern/init\.c:\d+",
            r"(?m)^#0\s+(0x[0-9a-f]+ in )?test_backtrace \(x=5\) at "
            r"kern/init\.c:\d+",
            r"(?m)^#1\s+0x[0-9a-f]+ in i386_init \(.*\) at kern/init\.c:\d+",
            r"(?m)^\$1 = [1-9]\d*$",
            r"Cannot access memory at address " + UNMAPPED_GVA,
            r'received: "E02"',
            r"Cannot insert breakpoint",
            r"received signal SIGINT",
            r"(?m)^rip\s+0x[0-9a-f]+",
            r"detached\]")
    pcs = re.findall(r"(?m)^\$\d+ = (0x[0-9a-f]+)$", g.text)
    if len(pcs) < 2 or pcs[0] == pcs[1]:
        fail("two stepi did not move the guest's pc: %s" % pcs)
    guest_out = r.text[start:]
    if "entering test_backtrace 5" in guest_out or \
            "entering test_backtrace 2" not in guest_out:
        fail("the guest did not act on x = 2 written by gdb")
    r.expect(r"I am the parent.  Killing the child")
    r.expect(GUEST_PROMPT)
    guest_halt(r)
    guest_problems(r)


# ---- The guest gdb port under attack (issue 19) -------------------------------
#
# Whoever connects to the guest gdb port may send anything at any rate, or
# never read. The stub works a bounded amount per timer tick (vmm/gdbpkt.c,
# kern/com2.c), so the host shell must keep answering meanwhile. The
# attacks themselves are in gdbattack.py.

# Seconds the host shell may take to answer during an attack (a command,
# then a file written and read back); scaled like every test timeout.
# Measured: 0.2-0.4 s under Bochs and about 0.05 s under QEMU, attack or
# not; before the stub was bounded it did not answer while one lasted.
GDB_PORT_ANSWER_S = {"vmx": 8, "svm": 4}
# Seconds an attack runs before the host is asked (so it is in full swing).
GDB_PORT_WARMUP_S = {"vmx": 6, "svm": 2}
GDB_PORT_ATTACKS = ("flood", "drip", "garbage", "never-read")


def host_answers(r, tag):
    """The host shell echoes a line and writes a file that reads back
    whole, each within GDB_PORT_ANSWER_S seconds."""
    limit = GDB_PORT_ANSWER_S["vmx" if vendor() == "vmx" else "svm"]
    r.send("echo during %s" % tag)
    r.expect(r"(?m)^during %s\r?$" % tag, timeout=limit)
    r.expect(HOST_PROMPT, timeout=limit)
    line = "gdbport-%s-%s" % (tag, "0123456789abcdef" * 4)
    r.send("echo %s > /gdbport; cat /gdbport" % line)
    r.expect(r"(?m)^%s\r?$" % line, timeout=limit)
    r.expect(HOST_PROMPT, timeout=limit)


def gdb_port_setup(name):
    """Boot with COM2 on the guest gdb port, connect the attacking
    client (Bochs starts only once a client is there), and start a
    background guest stopped for gdb, so that `g` and `m` have real
    replies. Returns (run, client)."""
    port = guest_gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another make qemu / bochs?)" % port)
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy(name)],
              com2_port=port)
    wait_listening(port, r)
    c = gdbattack.PortClient(port)
    shell(r)
    shell_cmd(r, "vmm -b -g -n dbg", r"waits for gdb on COM2",
              r"vmm: guest [0-9a-f]{8} \(dbg\) runs in the background")
    return r, c


def gdb_port_recovered(r, c):
    """Read what the attacks left; then a real gdb, through the same
    connection, reads the stopped guest's rip and detaches (the guest
    then runs), and the guest is killed."""
    c.drain(quiet=3, limit=60)
    g = run_gdb("info registers rip", "detach", port=c.relay_gdb(),
                elf=GUEST_KERNEL_ELF, setup=["set remotetimeout 60"],
                label="gdb-after")
    g.wait(timeout=120)
    g.match(r"(?m)^rip\s+0x[0-9a-f]+", r"detached\]")
    c.close()
    shell_cmd(r, "vmm kill dbg")
    guest_problems(r)


@vmm_test("gdb-port-hostile", bochs_timeout=600, qemu_timeout=150,
          locks=[GDB_PORTS])
def gdb_port_hostile():
    """Floods, drips, garbage and unread replies on the guest gdb port
    never stop the host; gdb works afterwards.

    One client on the guest gdb port, with a guest stopped for gdb in
    the background: a flood of valid packets (?, g, m), a drip of one
    byte every 5 ms in packets that restart before they end, random
    bytes, and 48 requests for 4 KiB replies that it never reads. During
    each, the host shell answers a command and writes and reads back a
    file within seconds. The flood gets replies, the never-read client
    gets every one of its replies once it reads (deferred, not dropped),
    and then a real gdb on the same connection reads rip and detaches."""
    r, c = gdb_port_setup("gdb-port-hostile")
    host_answers(r, "before")
    warmup = GDB_PORT_WARMUP_S["vmx" if vendor() == "vmx" else "svm"]
    for name in GDB_PORT_ATTACKS:
        c.start(name)
        time.sleep(warmup)
        host_answers(r, name)
        c.stop()
        # What the attack left queued is served, then quiet.
        c.drain(quiet=2, limit=90)
        if name == "flood" and c.replies() < 100:
            fail("the flood got only %d replies" % c.replies())
        if name == "never-read":
            if c.big_replies() != gdbattack.NEVER_READ_REQUESTS:
                fail("the never-read client got %d of its %d replies "
                     "(%d bytes, starting %r)"
                     % (c.big_replies(), gdbattack.NEVER_READ_REQUESTS,
                        len(c.received), bytes(c.received[:80])))
        host_answers(r, "after-" + name)
    gdb_port_recovered(r, c)


@test("gdb-port-flood-long", emulator="bochs", timeout=600,
      locks=[GDB_PORTS])
def gdb_port_flood_long():
    """A flood of valid packets on the guest gdb port for over two
    minutes (Bochs, VT-x): the host shell answers all along.

    The host shell answers, and a file reads back whole, 10 s, 60 s and
    125 s into the flood and after it; then gdb works on the port."""
    r, c = gdb_port_setup("gdb-port-flood-long")
    start = time.monotonic()
    c.start("flood")
    for at in (10, 60, 125):
        time.sleep(max(0, start + at - time.monotonic()))
        host_answers(r, "%ds" % at)
    c.stop()
    if c.replies() < 1000:
        fail("the flood got only %d replies" % c.replies())
    host_answers(r, "after")
    gdb_port_recovered(r, c)


@test("vmm-monitor", emulator="qemu", timeout=30)
def vmm_monitor():
    """The VMM's monitor commands exist and reject bad arguments.

    The VMM's monitor commands exist and check their arguments: vms with
    no guest, a bad id and a missing address are reported, not obeyed."""
    r = boot("monitor")
    r.expect(PROMPT)
    r.send("vms")
    r.expect(r"ID\s+name\s+vendor\s+state\s+exits")
    r.expect(r"\(no guests\)")
    r.send("vmstate 1000")
    r.expect(r"vmstate: no guest 1000 \(vms lists them\)")
    r.send("gva 1000")
    r.expect(r"usage: gva ID ADDR")
    r.send("help")
    for cmd in ("vms", "vmstate", "gpa", "gva", "exits"):
        r.expect(r"(?m)^%s - " % cmd)


# Bits the monitor's vmstate shows set once a guest runs in long mode.
CR0_PE, CR0_PG = 1 << 0, 1 << 31
EFER_LMA = 1 << 10
# The guest kernel's global the kmon test translates with gva, and the
# link address that maps guest-physical 0 (inc/memlayout.h KERNLINK).
KMON_GVA_SYMBOL = "npages"
KERNLINK = 0xFFFFFFFF80000000
# The guest kernel's first byte: guest RAM that the NPT/EPT maps.
GUEST_KERNEL_PA = 0x100000


def elf_symbol(elf, name):
    """The address of NAME in ELF (nm), or fail."""
    out = subprocess.run(["nm", elf], capture_output=True, text=True).stdout
    m = re.search(r"(?m)^([0-9a-f]+) \w %s$" % re.escape(name), out)
    if not m:
        fail("no symbol %s in %s" % (name, elf))
    return int(m.group(1), 16)


def kmon_expect(out, what, *patterns):
    """Fail unless every pattern is in OUT (the output of kmon WHAT)."""
    for p in patterns:
        if not re.search(p, out):
            fail("kmon %s did not print %r:\n%s" % (what, p, out[-800:]))


def kmon_vmstate_check(r, gid):
    """vmstate: RIP, and a long-mode CR0/EFER with a CR3."""
    out = kmon_cmd(r, "vmstate " + gid)
    kmon_expect(out, "vmstate", r"rip [0-9a-f]{16}", r"cr3 [0-9a-f]{16}")
    cr0 = re.search(r"cr0 ([0-9a-f]{16})", out)
    efer = re.search(r"efer ([0-9a-f]{16})", out)
    if not cr0 or not efer:
        fail("kmon vmstate showed no CR0/EFER:\n%s" % out)
    if int(cr0.group(1), 16) & (CR0_PE | CR0_PG) != CR0_PE | CR0_PG or \
            not int(efer.group(1), 16) & EFER_LMA:
        fail("the running guest is not in long mode per vmstate:\n%s" % out)


def kmon_exits_check(r, gid):
    """exits: the total, and counts per reason that add up to it."""
    out = kmon_cmd(r, "exits " + gid)
    total = re.search(r"guest %s: (\d+) exits" % gid, out)
    counts = [int(c) for c in
              re.findall(r"(?m)^  \d+ +\S.*? +(\d+) +\d+\r?$", out)]
    if not total or not counts:
        fail("kmon exits showed no total or no reasons:\n%s" % out)
    if sum(counts) != int(total.group(1)):
        fail("kmon exits: reasons add up to %d, not %s:\n%s"
             % (sum(counts), total.group(1), out))


@vmm_test("kmon", bochs_timeout=300, qemu_timeout=90)
def kmon():
    """`kmon` runs read-only monitor commands on a live guest.

    `kmon` runs the read-only monitor commands from the host shell on a
    live background guest: vms lists it with the vendor, vmstate shows
    long mode, gpa walks the nested tables to a host page, gva walks the
    guest's table to the right guest-physical address, exits counts add
    up, devices says a paravirtual guest has no emulated devices; a
    command that is not read-only and a bad id are refused; after `vmm
    kill` the guest is gone."""
    vend = "VT-x" if vendor() == "vmx" else "AMD-V"
    gva = elf_symbol(GUEST_KERNEL_ELF, KMON_GVA_SYMBOL)
    r = host_boot("kmon")
    shell_cmd(r, "kmon continue",
              r"kmon: 'continue' is not a read-only monitor command")
    # A guest kernel that spins forever (kern/attack.c), paging on.
    r.send("vmm -b -n g1 attack cli-spin")
    gid = r.expect(r"vmm: guest ([0-9a-f]{8}) \(g1\) runs in the "
                   r"background").group(1)
    r.expect(HOST_PROMPT)
    # Attached, the guest's output shows it is in its spin loop.
    attach(r, "g1")
    r.expect(r"attack cli-spin: spinning with interrupts off")
    detach(r, "g1")
    kmon_expect(kmon_cmd(r, "vms"), "vms",
                r"(?m)^%s\s+g1\s+%s\s+background\s+[1-9]\d*\s"
                % (gid, vend))
    kmon_vmstate_check(r, gid)
    kmon_expect(kmon_cmd(r, "gpa %s %x" % (gid, GUEST_KERNEL_PA)), "gpa",
                r"gpa 0x%x: \w+.*, guest RAM: yes" % GUEST_KERNEL_PA,
                # The leaf (level 0): the walk got to the end.
                r"level 0 \[\s*\d+\]: 0x[0-9a-f]{16}",
                r"host page: pa 0x[0-9a-f]+, kva 0x")
    kmon_expect(kmon_cmd(r, "gva %s %x" % (gid, gva)), "gva",
                r"pml4e \[\s*\d+\] at gpa",
                r"gva 0x%x -> gpa 0x%x" % (gva, gva - KERNLINK),
                r"host page: pa 0x[0-9a-f]+")
    kmon_exits_check(r, gid)
    kmon_expect(kmon_cmd(r, "devices " + gid), "devices",
                r"guest %s g1 \(jos\): paravirtual, no emulated devices"
                % gid)
    kmon_expect(kmon_cmd(r, "vmstate 1000"), "vmstate 1000",
                r"vmstate: no guest 1000")
    guest_kill(r, "g1")
    kmon_expect(kmon_cmd(r, "vms"), "vms", r"\(no guests\)")
