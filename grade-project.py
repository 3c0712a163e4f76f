#!/usr/bin/env python3
"""The JOS-in-JOS test suite.  `make grade` runs it after a clean build;
`make grade TESTS='boot-*,gdb'` runs some of it; `python3 grade-project.py
--list` names the tests.  The machinery is in gradelib.py."""

import re
import sys

from gradelib import (boot, fail, gdb_port, main, port_in_use, run_gdb,
                      run_make, test, wait_listening)

# What a good boot prints, in any order; a panic fails the test at once.
SELF_CHECKS = [
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

FRAME = re.compile(r"^\s*rbp\s+[0-9a-f]{16}\s+rip\s+[0-9a-f]{16}\b.*$")
WHERE = re.compile(r"^\s+(\S+):(\d+): ([A-Za-z_][\w.]*)\+\S+\s*$")


def backtrace_frames(text, start=0):
    """Parse the first 'Stack backtrace:' at or after START: a list of
    (file, line, function), one per frame.  Fails unless every frame line
    is followed by its file:line: function+offset line."""
    at = text.find("Stack backtrace:", start)
    if at < 0:
        fail("no 'Stack backtrace:' in the output")
    lines = text[at:].split("\n")[1:]
    frames = []
    i = 0
    while i < len(lines) and FRAME.match(lines[i]):
        where = WHERE.match(lines[i + 1]) if i + 1 < len(lines) else None
        if not where:
            fail("frame %d has no 'file:line: function+offset' line: %r"
                 % (len(frames), lines[i + 1] if i + 1 < len(lines) else ""))
        frames.append((where.group(1), int(where.group(2)), where.group(3)))
        i += 2
    if not frames:
        fail("'Stack backtrace:' is followed by no frame line")
    return frames


@test("backtrace", emulator="qemu", timeout=30)
def backtrace():
    r = boot()
    r.match(r"Stack backtrace:", *MONITOR, no=PANIC)
    frames = backtrace_frames(r.text)
    names = [f[2] for f in frames]
    if names.count("test_backtrace") < 2:
        fail("expected nested test_backtrace frames, got %s" % names)
    if "i386_init" not in names:
        fail("no i386_init frame: %s" % names)
    for file, line, func in frames:
        if func == "test_backtrace" and file != "kern/init.c":
            fail("test_backtrace placed in %s:%d" % (file, line))


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
