"""make, from a test: targets (make_target, run_make, kernel_image), the
makefile's variables (make_var), other commands (run_command), and the
harness' own `make all` (_rebuild).

Invariants: one make at a time per target list (two tests never write
the same file); a test that changes the build asks for `make all` after
it (make_target(restore=True)) and is registered serial."""

import os
import subprocess
import threading

from grade.config import OBJDIR
from grade.registry import _context, fail
from grade.runs import Run


# ---------------------------------------------------------------------------
# Builds

def _make_argv(targets, variables):
    return (["make", "-s", "--no-print-directory"] + list(targets)
            + ["%s=%s" % kv for kv in sorted(variables.items())])


# Tests running at once may ask for the same target (two tests boot
# kernel-spin.img): one make at a time per target list, so that two never
# write the same file; the second finds it up to date.
_make_locks = {}
_make_locks_guard = threading.Lock()


def _make_lock(argv):
    with _make_locks_guard:
        return _make_locks.setdefault(tuple(argv), threading.Lock())


def make_target(*targets, restore=True, **variables):
    """Run make TARGETS VAR=value... to completion (within the test's
    deadline); fail with make's output when it fails.  With restore=True
    the harness runs `make all` after the test, so that the next test
    gets the default build back; such a test changes the build under
    any other test, so it must be registered with serial=True."""
    ctx = _context()
    if restore and not ctx.test.serial:
        fail("make_target(restore=True) changes the build: register %s "
             "with serial=True" % ctx.test.name)
    ctx.rebuild_after = ctx.rebuild_after or restore
    argv = _make_argv(targets, variables)
    lock = _make_lock(argv)
    while not lock.acquire(timeout=0.5):
        if ctx.remaining() <= 0:
            fail("timed out waiting for another test's make %s"
                 % " ".join(targets))
    try:
        r = Run(argv, ctx.log_path("make"), kind="make", stdin=False)
        status = r.wait()
    finally:
        lock.release()
    if status != 0:
        fail("make %s failed with status %s" % (" ".join(targets), status))
    return r


def kernel_image(program):
    """The boot disk whose kernel command line starts user program PROGRAM
    first (obj/kern/kernel-PROGRAM.img, what `make run-PROGRAM` boots);
    built now."""
    path = os.path.join(OBJDIR, "kern", "kernel-%s.img" % program)
    make_target(path, restore=False)
    return path


def run_make(*targets, label=None, **variables):
    """Start make TARGETS (a target that boots an emulator, such as
    qemu-nox-gdb) with the console captured and typed input possible."""
    ctx = _context()
    return Run(_make_argv(targets, variables), ctx.log_path(label),
               kind="make " + " ".join(targets))


def run_command(argv, label=None, kind=None, stdin=True, env=None):
    """Start any program with its output captured."""
    ctx = _context()
    return Run(argv, ctx.log_path(label), kind=kind or os.path.basename(
        argv[0]), stdin=stdin, env=env)


_make_vars = {}
_make_vars_lock = threading.Lock()


def make_var(target):
    """The output of `make -s print-TARGET` (cached), or None."""
    with _make_vars_lock:
        return _make_var(target)


def _make_var(target):
    if target not in _make_vars:
        try:
            out = subprocess.run(
                ["make", "-s", "--no-print-directory", "print-" + target],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL, timeout=60, check=True)
            _make_vars[target] = out.stdout.decode().strip() or None
        except (subprocess.SubprocessError, OSError):
            _make_vars[target] = None
    return _make_vars[target]


def _rebuild():
    out = subprocess.run(_make_argv(["all"], {}), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return out.returncode, out.stdout.decode(errors="replace")
