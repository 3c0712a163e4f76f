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
harness module imports a test module."""

import importlib

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
    "docs",         # the user's guide and the make targets it names
]

_loaded = False


def load_tests():
    """Import every test module once (registering its tests)."""
    global _loaded
    if not _loaded:
        for name in TEST_MODULES:
            importlib.import_module("grade." + name)
        _loaded = True
