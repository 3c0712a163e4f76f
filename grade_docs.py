"""Tests that the make targets the user's guide names behave: every QEMU
target takes `poweroff` as success, and two sessions run side by side.
grade-project.py imports this module, which registers the tests."""

import os
import re
import subprocess

from gradelib import (GDB_PORTS, GRADEDIR, fail, gdb_port, port_in_use,
                      run_gdb, run_make, test, wait_listening)

# Seconds one command (or make -n of one) may take.
COMMAND_TIMEOUT = 120
SHELL_PROMPT = r"(?m)^\$ "
# The targets whose recipes start QEMU (run-NAME* with a program).
QEMU_TARGETS = ["qemu", "qemu-nox", "qemu-gdb", "qemu-nox-gdb",
                "run-hello", "run-hello-nox", "run-hello-gdb",
                "run-hello-nox-gdb"]


def _shell_up(r):
    r.expect(r"init: starting sh")
    r.expect(SHELL_PROMPT)


def _sh(command, timeout=COMMAND_TIMEOUT):
    """Run COMMAND with sh in this tree; (status, output)."""
    try:
        out = subprocess.run(["sh", "-c", command], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail("`%s` did not finish in %d s" % (command, timeout))
    return out.returncode, out.stdout.decode(errors="replace")


@test("qemu-targets-poweroff", emulator=None, timeout=240)
def qemu_targets_poweroff():
    """Every make target that starts QEMU takes `poweroff` (QEMU's exit
    status 99) as success.

    `make -n` of each target shows its QEMU command line; each must be
    followed by the check that turns status 99 into 0."""
    for target in QEMU_TARGETS:
        status, out = _sh("make -n V= --no-print-directory %s" % target)
        if status != 0:
            fail("make -n %s failed:\n%s" % (target, out[-2000:]))
        lines = [l for l in out.splitlines()
                 if re.match(r"\S*qemu-system-\S+ ", l)]
        if not lines:
            fail("make -n %s starts no QEMU" % target)
        for l in lines:
            if not re.search(r"\|\| \[ \$\? -eq 99 \]$", l):
                fail("make %s: QEMU's poweroff status is not taken as "
                     "success: %s" % (target, l))


@test("qemu-nox-gdb-poweroff", emulator="qemu", timeout=120,
      locks=[GDB_PORTS])
def qemu_nox_gdb_poweroff():
    """`poweroff` under `make qemu-nox-gdb` ends make with status 0.

    gdb (the .gdbinit make writes) continues the stopped QEMU; the shell's
    poweroff then ends QEMU with status 99, which make must take as
    success. -snapshot keeps the build's disk as built."""
    port = gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another `make qemu-gdb`?)" % port)
    q = run_make("qemu-nox-gdb", label="qemu", QEMUEXTRA="-snapshot")
    wait_listening(port, q)
    g = run_gdb("continue", gdbinit=".gdbinit")
    _shell_up(q)
    q.send("poweroff")
    status = q.wait()
    g.wait()
    if status != 0:
        fail("make qemu-nox-gdb ended with status %s after poweroff"
             % status)
    if re.search(r"\*\*\* \[.*\] Error", q.text):
        fail("make reported an error after poweroff")


@test("qemu-nox-two", emulator="qemu", timeout=180, locks=[GDB_PORTS])
def qemu_nox_two():
    """Two `make qemu-nox` of one user run side by side.

    Neither opens a fixed TCP port (GDBPORT, the guest-debugging port
    GDBPORT + 1); the second boots from a disk of its own (FSDISK, made as
    a copy of the built disk), the first with -snapshot. Both reach the
    shell, run a command and end with poweroff, make's status 0."""
    disk = os.path.join(GRADEDIR, "qemu-nox-two.fs.img")
    if os.path.exists(disk):
        os.unlink(disk)
    first = run_make("qemu-nox", label="first", QEMUEXTRA="-snapshot")
    second = run_make("qemu-nox", label="second", FSDISK=disk)
    for r in (first, second):
        _shell_up(r)
    port = gdb_port()
    for p in (port, port + 1):
        if port_in_use(p):
            fail("something listens on port %d while two make qemu-nox "
                 "run" % p)
    if not os.path.exists(disk):
        fail("make qemu-nox FSDISK=%s did not make the disk" % disk)
    for i, r in enumerate((first, second)):
        r.send("echo session %d" % i)
        r.expect(r"(?m)^session %d\r?$" % i)
        r.expect(SHELL_PROMPT)
        r.send("poweroff")
        status = r.wait()
        if status != 0:
            fail("make qemu-nox (session %d) ended with status %s"
                 % (i, status))
    status, out = _sh("make -n V= --no-print-directory qemu-nox GUESTGDB=1")
    if "-serial tcp::%d,server,nowait" % (port + 1) not in out:
        fail("make qemu-nox GUESTGDB=1 does not connect COM2 to port %d"
             % (port + 1))
