"""The JOS-in-JOS test suite, as a package.

The harness (what runs a test; no test lives in it):
    config      where the build puts things; machine defaults; options
    registry    @test, the list of tests, the test being run, fail()
    runs        Run: a program with captured console output
    make        make targets and variables, run_command
    emulators   QEMU and Bochs runs, boot()
    gdb         gdb's port, run_gdb
    runner      the scheduler, run_tests, main (the command line)
    helpers     what the test modules share: a host's shell, a guest
                started with vmm, its prompt, commands, free pages
    gdbattack   hostile clients of the guest gdb port

The tests, one module per area, are TEST_MODULES below.  load_tests()
imports them in that order, which registers their tests in that order
(--list and the in-order worker follow it).

Invariants: importing `grade` registers nothing; only load_tests() does,
once.  Every module that defines tests is named in TEST_MODULES, and no
harness module imports a test module.  Every global name a test
module's functions use is defined or imported there (load_tests checks,
so that --list fails on a missing import rather than the test)."""

import builtins
import dis
import importlib
import inspect

# The test modules, in registration order.  A new module of tests is
# added here (and nowhere else).
TEST_MODULES = [
    "boot",         # boot, backtrace, the kernel monitor, poweroff
    "processes",    # user programs, faults, fork, preemption, IPC
    "fs",           # the file system, descriptors, pipes, spawn, shell
    "classic",      # classic JOS programs and graders
    "vmm_core",     # the VMM on both vendors: vmm, its limits, no VT-x
    "jos_on_jos",   # JOS on JOS: the guest's shell, disk and timer
    "console",      # several guests; the console; what a student meets
    "hostile",      # hostile guests
    "debugging",    # gdb, the guest gdb stub and port, kmon
    "pc",           # PC-kind guests: MMIO decoder, firmware tables
    "guests",       # xv6 and the host image as unmodified PC guests
    "pcdev",        # PC devices driven by a guest (mbtest devtest-*)
    "pchostile",    # PC-kind guests driving their devices wildly
    "smpattack",    # multi-vCPU guests aiming IPIs at each other
    "docs",         # the user's guide and the make targets it names
]

_loaded = False


def _code_objects(code):
    """CODE and the code of every function nested in it."""
    yield code
    for c in code.co_consts:
        if inspect.iscode(c):
            yield from _code_objects(c)


def undefined_globals(module):
    """(function, name) for each global name that a function defined in
    MODULE uses and that neither the module nor builtins define: a
    missing import, which would otherwise fail only when the test runs."""
    found = []
    for fname, func in vars(module).items():
        if not inspect.isfunction(func) or \
                func.__module__ != module.__name__:
            continue
        for code in _code_objects(func.__code__):
            for ins in dis.get_instructions(code):
                if ins.opname == "LOAD_GLOBAL" and \
                        ins.argval not in vars(module) and \
                        not hasattr(builtins, ins.argval):
                    found.append((fname, ins.argval))
    return found


def load_tests():
    """Import every test module once (registering its tests); refuse a
    module whose functions use a name it does not define or import."""
    global _loaded
    if _loaded:
        return
    for name in TEST_MODULES:
        module = importlib.import_module("grade." + name)
        missing = undefined_globals(module)
        if missing:
            raise ImportError("grade/%s.py: %s" % (name, ", ".join(
                "%s() uses %s, which is not defined or imported" % m
                for m in missing)))
    _loaded = True
