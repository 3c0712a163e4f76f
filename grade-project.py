#!/usr/bin/env python3
"""The JOS-in-JOS test suite.  `make grade` runs it after a clean build;
`make grade TESTS='boot-*,gdb'` runs some of it; `python3 grade-project.py
--list` names the tests.  The machinery is in gradelib.py."""

import re
import sys

from gradelib import (boot, fail, gdb_port, main, port_in_use, run_gdb,
                      run_make, test, wait_listening)

# What a good boot prints (banner, self-checks), in any order; a panic fails the test at once.
SELF_CHECKS = [
    r"JOS-in-JOS: x86-64 kernel booting",
    r"check_page_free_list\(\) succeeded!",
    r"check_page_alloc\(\) succeeded!",
    r"check_page\(\) succeeded!",
    r"check_boot_pml4e\(\) succeeded!",
]
MONITOR = [r"Welcome to the JOS kernel monitor!", r"(?m)^K> "]
PANIC = [r"kernel panic"]


# ---- Boot -----------------------------------------------------------------

@test("boot-qemu", emulator="qemu", timeout=30)
def boot_qemu():
    boot().match(*SELF_CHECKS + MONITOR, no=PANIC)


@test("boot-bochs", emulator="bochs", timeout=120)
def boot_bochs():
    boot().match(*SELF_CHECKS + MONITOR, no=PANIC)


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
    """The boot-time test_backtrace(5) -> ... -> test_backtrace(0) ->
    mon_backtrace: six test_backtrace frames, innermost first, each with
    its argument, then i386_init; every frame with file:line: function."""
    r = boot()
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
    for want in ("mon_backtrace", "monitor"):
        if want not in names:
            fail("no %s frame in the backtrace command's output: %s"
                 % (want, names))


@test("monitor-qemu", emulator="qemu", timeout=30)
def monitor_qemu():
    monitor_session(boot())


@test("monitor-bochs", emulator="bochs", timeout=120)
def monitor_bochs():
    monitor_session(boot(input=True))


# ---- gdb --------------------------------------------------------------------

@test("gdb", emulator="qemu", timeout=60)
def gdb():
    port = gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another `make qemu-gdb`?)" % port)
    q = run_make("qemu-nox-gdb", label="qemu")
    wait_listening(port, q)
    g = run_gdb("break i386_init", "continue", "bt", "print npages",
                gdbinit=".gdbinit")
    g.wait()
    g.match(r"Breakpoint 1, (0x[0-9a-f]+ in )?i386_init \(",
            r"(?m)^#0\s+(0x[0-9a-f]+ in )?i386_init \(.*\) at kern/init\.c:\d+",
            r"(?m)^\$1 = \d+$")


if __name__ == "__main__":
    sys.exit(main())
