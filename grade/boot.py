"""Tests of booting: QEMU and Bochs, small and large memory, the
backtrace, the kernel monitor's typed input, poweroff, and the Bochs
window.

Invariants: each test boots the kernel itself (no vmm) and fails on a
kernel panic."""

import glob
import os
import re
import subprocess

from grade.config import GRADEDIR, KERNEL_IMG
from grade.emulators import boot
from grade.helpers import (MONITOR, PANIC, SELF_CHECKS, fs_image_copy, shell,
                           shell_cmd)
from grade.make import make_var, run_command
from grade.registry import fail, test


# ---- Boot -----------------------------------------------------------------

@test("boot-qemu", emulator="qemu", timeout=30)
def boot_qemu():
    """The kernel boots under QEMU, passes its memory self-checks and
    reaches the monitor prompt, with no panic."""
    boot("monitor").match(*SELF_CHECKS + MONITOR, no=PANIC)


@test("boot-bochs", emulator="bochs", timeout=120)
def boot_bochs():
    """The kernel boots under Bochs (VT-x CPU model), passes its memory
    self-checks and reaches the monitor prompt, with no panic."""
    boot("monitor").match(*SELF_CHECKS + MONITOR, no=PANIC)


@test("boot-mem-64m", emulator="qemu", mem=64, timeout=30)
def boot_mem_64m():
    """With only 64 MiB of memory the kernel boots, passes its memory
    self-checks and reaches the monitor prompt."""
    boot("monitor").match(*SELF_CHECKS + MONITOR, no=PANIC)


@test("boot-mem-6g", emulator="qemu", mem=6144, timeout=60)
def boot_mem_6g():
    """QEMU puts the memory beyond its PCI hole above 4 GiB: the kernel
    must count it, map it and pass its self-checks."""
    r = boot("monitor")
    r.match(*SELF_CHECKS + MONITOR, no=PANIC)
    m = re.search(r"highest address ([0-9a-f]+)", r.text)
    if not m or int(m.group(1), 16) <= 1 << 32:
        fail("the kernel did not find the memory above 4 GiB")


# ---- Backtrace --------------------------------------------------------------

FRAME = re.compile(r"^\s*rbp\s+([0-9a-f]{16})\s+rip\s+([0-9a-f]{16})"
                   r"\s+args\s*(.*)$")
WHERE = re.compile(r"^\s+(\S+):(\d+): ([A-Za-z_][\w.]*)\+\S+\s*$")


def backtrace_frames(text, start=0):
    """Parse the first 'Stack backtrace:' at or after START into a list of
    dicts (rbp, rip, args, file, line, func), one per frame.  Fails unless
    every frame line is followed by its 'file:line: function+offset'."""
    at = text.find("Stack backtrace:", start)
    if at < 0:
        fail("no 'Stack backtrace:' in the output")
    lines = text[at:].split("\n")[1:]
    frames = []
    i = 0
    while i < len(lines):
        frame = FRAME.match(lines[i])
        if not frame:
            break
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        where = WHERE.match(nxt)
        if not where:
            fail("frame %d has no 'file:line: function+offset' line: %r"
                 % (len(frames), nxt))
        frames.append(dict(rbp=int(frame.group(1), 16),
                           rip=int(frame.group(2), 16),
                           args=frame.group(3).split(),
                           file=where.group(1), line=int(where.group(2)),
                           func=where.group(3)))
        i += 2
    if not frames:
        fail("'Stack backtrace:' is followed by no frame line")
    return frames


@test("backtrace", emulator="qemu", timeout=30)
def backtrace():
    """The boot-time backtrace shows each frame, its argument and line.

    The boot-time test_backtrace(5) -> ... -> test_backtrace(0) ->
    mon_backtrace: six test_backtrace frames, innermost first, each with
    its argument, then i386_init; every frame with file:line: function."""
    r = boot("monitor")
    r.match(r"Stack backtrace:", *MONITOR, no=PANIC)
    for x in range(5, -1, -1):
        r.expect(r"entering test_backtrace %d\n" % x)
    frames = backtrace_frames(r.text)
    for x in range(6):
        r.expect(r"leaving test_backtrace %d\n" % x)
    tb = [f for f in frames if f["func"] == "test_backtrace"]
    names = [f["func"] for f in frames]
    if len(tb) != 6:
        fail("expected 6 test_backtrace frames, got %s" % names)
    for x, f in enumerate(tb):
        if f["file"] != "kern/init.c":
            fail("test_backtrace placed in %s:%d" % (f["file"], f["line"]))
        if not f["args"] or not re.fullmatch(r"0*%x" % x, f["args"][0]):
            fail("frame of test_backtrace(%d) shows args %s" % (x, f["args"]))
    if "i386_init" not in names[names.index("test_backtrace"):]:
        fail("no i386_init frame after the test_backtrace frames: %s"
             % names)
    rbps = [f["rbp"] for f in frames]
    if rbps != sorted(rbps) or len(set(rbps)) != len(rbps):
        fail("frame pointers do not climb the stack: %s"
             % " ".join("%x" % v for v in rbps))


# ---- Monitor (typed input) ------------------------------------------------

def monitor_session(r):
    r.expect(r"Welcome to the JOS kernel monitor!")
    r.expect(r"(?m)^K> ")
    r.send("help")
    r.expect(r"(?m)^help - ")
    r.expect(r"(?m)^K> ")
    r.send("backtrace")
    r.expect(r"(?m)^K> ")
    frames = backtrace_frames(r.text, r.text.rfind("backtrace\n"))
    names = [f["func"] for f in frames]
    if "monitor" not in names:
        fail("no monitor frame in the backtrace command's output: %s"
             % names)


@test("monitor-qemu", emulator="qemu", timeout=30)
def monitor_qemu():
    """Typed monitor commands under QEMU: help lists the commands and
    backtrace shows a frame inside the monitor."""
    monitor_session(boot("monitor"))


@test("monitor-bochs", emulator="bochs", timeout=120)
def monitor_bochs():
    """Typed monitor commands under Bochs (serial pty): help lists the
    commands and backtrace shows a frame inside the monitor."""
    monitor_session(boot("monitor", input=True))


# isa-debug-exit ends QEMU with (value << 1) | 1 (kern/syscall.c).
QEMU_POWEROFF_STATUS = 99


@test("poweroff", emulator="qemu", timeout=60)
def poweroff():
    """poweroff syncs the disk and ends QEMU; the data is there after a reboot.

    poweroff syncs the file system and ends QEMU through isa-debug-exit
    (exit status 99); the file written before it is there at the next
    boot on the same disk."""
    disk = fs_image_copy("poweroff")
    r = boot("fs+icode", disks=[KERNEL_IMG, disk])
    shell(r)
    shell_cmd(r, "echo powered 2718 > /powered")
    r.send("poweroff")
    r.expect(r"poweroff: file system synced")
    status = r.wait(timeout=20)
    if status != QEMU_POWEROFF_STATUS:
        fail("QEMU exited with status %s after poweroff, not %d"
             % (status, QEMU_POWEROFF_STATUS))
    r = boot("fs+icode", disks=[KERNEL_IMG, disk], label="reboot")
    shell(r)
    shell_cmd(r, "cat /powered", r"(?m)^powered 2718\r?$")


@test("poweroff-bochs", emulator="bochs", timeout=120)
def poweroff_bochs():
    """poweroff ends Bochs (its shutdown port 0x8900)."""
    r = boot("fs+icode", disks=[KERNEL_IMG, fs_image_copy("poweroff-bochs")],
             input=True)
    shell(r)
    r.send("poweroff")
    r.expect(r"poweroff: file system synced")
    r.wait(timeout=30)
    with open(r.bochs_log, errors="replace") as f:
        log = f.read()
    if "Shutdown port: shutdown requested" not in log:
        fail("Bochs did not end through its shutdown port")


# make bochs's window: the display library its configuration names.
BOCHS_PLUGIN_GLOBS = ["/usr/lib/*/bochs/plugins", "/usr/lib/bochs/plugins",
                      "/usr/local/lib/bochs/plugins"]


@test("bochs-window", emulator="bochs", timeout=120)
def bochs_window():
    """make bochs's configuration names a display library whose Bochs
    plugin is installed, and Bochs boots to the shell with it (SDL's dummy
    video driver stands in for the screen CI does not have)."""
    os.makedirs(GRADEDIR, exist_ok=True)
    env = dict(os.environ, FS_IMAGE=fs_image_copy("bochs-window"))
    env.pop("BOCHSDISPLAY", None)
    out = subprocess.run(
        ["sh", "conf/mkbochsrc.sh", "x", KERNEL_IMG, "1", "256",
         "corei7_skylake_x", GRADEDIR], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if out.returncode != 0:
        fail("conf/mkbochsrc.sh x: %s" % out.stderr.decode().strip())
    cfg = out.stdout.decode()
    m = re.search(r"(?m)^display_library: (\w+)", cfg)
    if not m:
        fail("make bochs's configuration names no display library")
    plugins = [p for g in BOCHS_PLUGIN_GLOBS
               for p in glob.glob(os.path.join(g, "libbx_%s_gui.so"
                                               % m.group(1)))]
    if not plugins:
        fail("display_library %s: Bochs has no plugin for it" % m.group(1))
    rc = os.path.join(GRADEDIR, "bochs-window.bochsrc")
    cont = os.path.join(GRADEDIR, "bochs-window.rc")
    with open(rc, "w") as f:
        f.write(cfg)
    with open(cont, "w") as f:
        f.write("c\nq\n")
    bochs = os.environ.get("BOCHS") or make_var("bochs") or "bochs"
    # As `make bochs` runs it: the serial console on Bochs' stdout.
    r = run_command([bochs, "-q", "-unlock", "-f", rc, "-rc", cont],
                    label="bochs-window", stdin=False,
                    env={"SDL_VIDEODRIVER": "dummy"})
    r.expect(r"init: starting sh")
    r.expect(r"\$ ")
