"""gdb from a test: the gdb port make uses, whether something listens on
a port (read from /proc, never by connecting: a gdb stub serves one
client), and gdb in batch mode (run_gdb).

Invariants: tests that use GDBPORT hold the GDB_PORTS lock; nothing here
connects to a port."""

import os
import time

from grade.config import KERNEL_ELF
from grade.make import make_var, run_command
from grade.registry import _context, _scaled, fail


# ---------------------------------------------------------------------------
# gdb

def gdb_port():
    port = make_var("gdbport")
    if not port or not port.isdigit():
        fail("`make print-gdbport` gave no port")
    return int(port)


def _listening(port):
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if (fields[3] == "0A"
                            and int(fields[1].rsplit(":", 1)[1], 16) == port):
                        return True
        except (OSError, StopIteration, IndexError, ValueError):
            pass
    return False


def port_in_use(port):
    return _listening(port)


def wait_listening(port, run=None, timeout=None):
    """Wait until something listens on TCP PORT (read from /proc, without
    connecting: a gdb stub serves only one client)."""
    ctx = _context()
    limit = ctx.deadline if timeout is None else min(
        ctx.deadline, time.monotonic() + _scaled(timeout))
    while not _listening(port):
        if run is not None and not run.running():
            fail("%s exited before listening on port %d" % (run.kind, port))
        if time.monotonic() >= limit:
            fail("nothing listens on port %d" % port)
        time.sleep(0.05)


def run_gdb(*commands, port=None, gdbinit=None, elf=KERNEL_ELF,
            label="gdb", setup=()):
    """Run gdb in batch mode against the gdb stub on PORT with the kernel's
    symbols (or with GDBINIT, e.g. the .gdbinit that make writes), then
    COMMANDS.  SETUP commands run before connecting.  Returns the Run: use .wait() and .match()."""
    gdb = os.environ.get("GDB") or "gdb"
    argv = [gdb, "-q", "-batch", "-nx"]
    for c in setup:
        argv += ["-ex", c]
    if gdbinit:
        argv += ["-x", gdbinit]
    else:
        argv += ["-ex", "set architecture i386:x86-64",
                 "-ex", "target remote localhost:%d" % (port or gdb_port()),
                 "-ex", "symbol-file %s" % elf]
    for c in commands:
        argv += ["-ex", c]
    return run_command(argv, label=label, kind="gdb", stdin=False)
