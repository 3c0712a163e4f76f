"""The test registry (@test, TESTS, select_tests), failing a test
(fail), and the state of the test this thread runs (current_test).

Invariants: test names are unique; every test has a docstring and a
vendor in VENDORS or None, fixed when it is registered; TESTS is in
registration order.  A test's context exists only in the thread that
runs it, from its start to its end.  Python 3 standard library only."""

import fnmatch
import os
import re
import threading
import time

from grade.config import DEFAULT_CPUS, DEFAULT_MEM, GRADEDIR, options


class TestFailure(Exception):
    """Raised to fail the current test; the message is the reason."""


def fail(message):
    raise TestFailure(message)


# ---------------------------------------------------------------------------
# Test registry

class Test:
    def __init__(self, name, func, emulator, vendor, cpus, mem, timeout,
                 serial, locks):
        self.name = name
        self.func = func
        self.emulator = emulator
        self.vendor = vendor
        self.cpus = cpus
        self.mem = mem
        self.timeout = timeout
        self.serial = serial
        self.locks = frozenset(locks)

    def summary(self):
        """The first sentence of the docstring, on one line (--list)."""
        text = " ".join(self.func.__doc__.split("\n\n")[0].split())
        m = re.match(r"(.+?[.!?])(\s+[A-Z`(]|$)", text)
        return m.group(1) if m else text


TESTS = []

# Named resources a test can hold alone (@test(locks=...)); the scheduler
# never runs two tests holding the same one at once.
GDB_PORTS = "gdb-ports"   # GDBPORT and GDBPORT+1 (make *-gdb, GUESTGDB=1, gdb, vmm -g)


# A test's vendor: the hardware virtualisation its emulator's CPU has,
# as the VMM names it, and the emulator that provides it.  --list shows
# VENDOR_LABELS.
VENDORS = ("vmx", "svm", "ryzen")
VENDOR_EMULATOR = {"vmx": "bochs", "svm": "qemu", "ryzen": "bochs"}
VENDOR_LABELS = {"vmx": "vt-x", "svm": "amd-v", "ryzen": "amd-v", None: "-"}
# test(vendor=...) left out: the vendor follows from the name and emulator.
FROM_NAME = "from-name"


def vendor_from_name(name, emulator):
    """The naming rule: NAME-ryzen is AMD-V on Bochs' ryzen model,
    NAME-svm AMD-V on QEMU (-cpu max); any other name VT-x on Bochs
    (corei7_skylake_x) or AMD-V on QEMU.  A test with no emulator has
    no vendor."""
    if emulator is None:
        return None
    if name.endswith("-ryzen"):
        return "ryzen"
    if name.endswith("-svm") or emulator == "qemu":
        return "svm"
    return "vmx"


def test(name, emulator="qemu", cpus=DEFAULT_CPUS, mem=None, timeout=30,
         serial=False, locks=(), vendor=FROM_NAME):
    """Register the decorated function as the test NAME.  Its docstring
    is required: --list shows its first sentence.

    emulator, cpus and mem are what boot() uses; timeout (seconds) bounds
    the whole test, builds and every run included.  serial=True runs the
    test with no other test beside it (one that changes the build must);
    LOCKS name resources (such as GDB_PORTS) the test needs for itself.
    VENDOR is left out (vendor_from_name decides) or None for a CPU with
    no hardware virtualisation."""
    if emulator not in ("qemu", "bochs", None):
        raise ValueError("emulator must be 'qemu', 'bochs' or None")
    if vendor == FROM_NAME:
        vendor = vendor_from_name(name, emulator)
    if vendor not in VENDORS + (None,):
        raise ValueError("vendor must be one of %s or None" % (VENDORS,))
    if vendor is not None and VENDOR_EMULATOR[vendor] != emulator:
        raise ValueError("test %r: vendor %s runs on %s, not %s"
                         % (name, vendor, VENDOR_EMULATOR[vendor], emulator))

    def register(func):
        if any(t.name == name for t in TESTS):
            raise ValueError("two tests are named %r" % name)
        # Checked here, at import, so that `--list` and every run fail
        # until a new test says what it checks.
        if not (func.__doc__ or "").strip():
            raise ValueError("test %r (%s) has no docstring: say in one "
                             "sentence what it checks" % (name,
                                                          func.__name__))
        TESTS.append(Test(name, func, emulator, vendor, cpus,
                          mem or DEFAULT_MEM, timeout, serial, locks))
        return func
    return register


def select_tests(patterns):
    """The registered tests matching any of PATTERNS (names or globs), in
    registration order, and the patterns that matched nothing."""
    if not patterns:
        return list(TESTS), []
    chosen, unmatched = set(), []
    for pat in patterns:
        hits = [t.name for t in TESTS if fnmatch.fnmatchcase(t.name, pat)]
        if not hits:
            unmatched.append(pat)
        chosen.update(hits)
    return [t for t in TESTS if t.name in chosen], unmatched


def split_test_list(text):
    """'a,b c' -> ['a', 'b', 'c']"""
    return [w for w in re.split(r"[\s,]+", text or "") if w]


# ---------------------------------------------------------------------------
# The state of the test being run

class _Context:
    def __init__(self, t):
        self.test = t
        self.start = time.monotonic()
        self.timeout = t.timeout * options["timeout_scale"]
        self.deadline = self.start + self.timeout
        self.runs = []
        self.rebuild_after = False
        self.lock = threading.Lock()
        self.log_names = set()
        self.watchdog = threading.Timer(
            max(0.0, self.deadline - time.monotonic()) + 2.0, self.kill_all)
        self.watchdog.daemon = True

    def remaining(self):
        return self.deadline - time.monotonic()

    def add(self, run):
        with self.lock:
            self.runs.append(run)

    def kill_all(self):
        with self.lock:
            runs = list(self.runs)
        for run in runs:
            run.kill()

    def log_path(self, label):
        base = self.test.name + ("." + label if label else "")
        name, n = base, 1
        while name in self.log_names:
            n += 1
            name = "%s-%d" % (base, n)
        self.log_names.add(name)
        return os.path.join(GRADEDIR, name + ".log")


# Each test runs in a thread of its own (several at once with -j), so the
# current test is per thread.
_local = threading.local()


def _scaled(seconds):
    """A test's own timeout (expect(..., timeout=5)), scaled as the test's
    deadline is (--timeout-scale, and the factor for running side by
    side): on a loaded machine a response takes longer too."""
    return seconds * options["timeout_scale"]


def _context():
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        raise RuntimeError("grade helpers work only inside a test")
    return ctx


def current_test():
    return _context().test
