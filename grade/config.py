"""Where the build puts what the tests boot, the machines' defaults, and
the command line's settings.

Invariants: paths are relative to the repository root (runner.main
changes into it first); nothing here depends on another grade module.
options is written only by runner.main, before any test runs."""

import os

OBJDIR = "obj"
GRADEDIR = os.path.join(OBJDIR, "grade")
KERNEL_IMG = os.path.join(OBJDIR, "kern", "kernel.img")
KERNEL_ELF = os.path.join(OBJDIR, "kern", "kernel")
FS_IMG = os.path.join(OBJDIR, "fs", "fs.img")
# Bochs' log under `make bochs*`; each grader run has its own
# (run.bochs_log), since tests may run side by side.
BOCHS_LOG = os.path.join(OBJDIR, "bochs.log")

DEFAULT_CPUS = 1
DEFAULT_MEM = 256                     # MiB, as in the GNUmakefile
DEFAULT_BOCHS_CPU = "corei7_skylake_x"
CYLINDER_BYTES = 16 * 63 * 512        # Bochs disk geometry unit

# Settings from the command line (runner.main fills these in).
options = {
    "verbose": False,                 # echo console output while it arrives
    "timeout_scale": 1.0,             # multiply every test's timeout
}
