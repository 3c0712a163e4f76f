"""Running the tests: the scheduler (one worker in registration order,
the others the costliest left), one test's run and report, and main,
the command line of grade-project.py and bench-vmm.py.

Invariants: results are printed in registration order; the last line is
"N passed, N failed"; no two tests holding one lock run at once, and a
serial test runs alone; every process a test started is killed when it
ends or the grader is interrupted."""

import argparse
import io
import os
import queue
import signal
import sys
import threading
import time
import traceback

from grade.config import GRADEDIR, options
from grade.make import _rebuild
from grade.registry import (TESTS, TestFailure, VENDOR_LABELS, _Context,
                            _local, select_tests, split_test_list)
from grade.runs import _tail


# ---------------------------------------------------------------------------
# Running the tests

def _kill_runs(ctx):
    ctx.watchdog.cancel()
    for run in list(ctx.runs):
        run.close()


# Timeouts grow by this factor when tests run side by side: each has less
# of the machine than it would alone.
JOBS_TIMEOUT_FACTOR = 1.5


def default_jobs():
    """Two tests at a time where there are two CPUs or more."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def _estimate(t):
    """A rough cost, to start the longest tests early: a Bochs run is
    about ten times slower than QEMU's, and the timeout is set from the
    test's length."""
    return t.timeout * (1.0 if t.emulator == "bochs" else 0.1)


class _Scheduler:
    """Hands the tests out to the worker threads.  Worker 0 takes them in
    registration order, so that results can be printed as they come; the
    others take the costliest left (so that no long test is left to run
    alone at the end).  Never two at once that hold the same lock; a
    serial test only with no other test running."""

    def __init__(self, tests):
        self.pending = list(tests)
        self.running = []
        self.cond = threading.Condition()

    def take(self, worker):
        """The next test for WORKER (0, 1, ...), or None when none is
        left."""
        with self.cond:
            while self.pending:
                t = self._pick(in_order=worker == 0)
                if t is not None:
                    self.pending.remove(t)
                    self.running.append(t)
                    return t
                self.cond.wait()
            return None

    def done(self, t):
        with self.cond:
            self.running.remove(t)
            self.cond.notify_all()

    def _pick(self, in_order):
        if any(r.serial for r in self.running):
            return None
        held = set()
        for r in self.running:
            held |= r.locks
        ready = [t for t in self.pending if not t.locks & held and
                 (not t.serial or not self.running)]
        # A serial test waits until the others are done, rather than
        # holding the rest back.
        ready.sort(key=lambda t: t.serial)
        if not ready:
            return None
        if in_order:
            return ready[0]
        return min(ready, key=lambda t: (t.serial, -_estimate(t)))


# The contexts of the tests running now, for an interrupt to kill.
_active = set()
_active_lock = threading.Lock()
_stopping = threading.Event()


def _run_one(t, out):
    """Run test T in this thread; write its result (and the reasons for a
    failure) to OUT.  Returns True when it passed."""
    ctx = _Context(t)
    _local.ctx = ctx
    with _active_lock:
        _active.add(ctx)
    ctx.watchdog.start()
    reason = None
    try:
        t.func()
    except TestFailure as e:
        reason = [str(e)]
    except Exception as e:
        reason = ["%s: %s" % (type(e).__name__, e)]
        reason += [l for l in traceback.format_exc().rstrip().split("\n")
                   [-6:]]
    finally:
        _kill_runs(ctx)
        _local.ctx = None
        with _active_lock:
            _active.discard(ctx)
    if _stopping.is_set():
        return False
    _report(ctx, reason, out)
    if ctx.rebuild_after:
        _rebuild_after(out)
    return reason is None


def _report(ctx, reason, out):
    took = time.monotonic() - ctx.start
    if reason is None and time.monotonic() > ctx.deadline + 1:
        reason = ["timed out after %gs" % ctx.timeout]
    if reason is None:
        out.write("OK (%.1fs)\n" % took)
    else:
        out.write("FAIL (%.1fs)\n" % took)
        for line in reason:
            out.write("    %s\n" % line)
        for run in ctx.runs:
            for line in run.report():
                out.write("    %s\n" % line)
    out.flush()


def _rebuild_after(out):
    status, text = _rebuild()
    if status != 0:
        out.write("    (make all failed after this test:)\n")
        for line in _tail(text, 10):
            out.write("    | %s\n" % line)
        out.flush()


def _run_serially(tests, out):
    """One test at a time, in order, each result printed as it comes."""
    passed = failed = 0
    for t in tests:
        out.write("%s: " % t.name)
        if options["verbose"]:
            out.write("\n")
        out.flush()
        if _run_one(t, out):
            passed += 1
        else:
            failed += 1
    return passed, failed


def _worker(sched, worker, results):
    while True:
        t = sched.take(worker)
        if t is None:
            return
        buf = io.StringIO()
        buf.write("%s: " % t.name)
        ok = _run_one(t, buf)
        results.put((t, ok, buf.getvalue()))
        sched.done(t)


def _run_parallel(tests, jobs, out):
    """JOBS tests at a time (_Scheduler decides which); each test's result
    is printed as one block, in the order of TESTS, as soon as it and
    every test before it have finished."""
    sched = _Scheduler(tests)
    results = queue.Queue()
    for worker in range(jobs):
        threading.Thread(target=_worker, args=(sched, worker, results),
                         daemon=True).start()
    finished = {}
    passed = failed = 0
    for t in tests:
        while t.name not in finished:
            # A timeout, so that a signal's KeyboardInterrupt gets in.
            try:
                done, ok, text = results.get(timeout=0.5)
            except queue.Empty:
                continue
            finished[done.name] = (ok, text)
        ok, text = finished.pop(t.name)
        out.write(text)
        out.flush()
        passed, failed = passed + ok, failed + (not ok)
    return passed, failed


def _interrupt():
    """Kill every program of the tests running now."""
    _stopping.set()
    with _active_lock:
        contexts = list(_active)
    for ctx in contexts:
        ctx.kill_all()


def run_tests(tests, out=sys.stdout, jobs=1):
    """Run TESTS, JOBS at a time, printing one result per test in the
    order of TESTS (and the reasons for a failure); returns (passed,
    failed)."""
    os.makedirs(GRADEDIR, exist_ok=True)
    try:
        if jobs <= 1 or len(tests) <= 1:
            # In a thread too, so that an interrupt reaches this one.
            return _run_serially_in_thread(tests, out)
        return _run_parallel(tests, jobs, out)
    except KeyboardInterrupt:
        _interrupt()
        raise


def _run_serially_in_thread(tests, out):
    box = []
    th = threading.Thread(target=lambda: box.append(
        _run_serially(tests, out)), daemon=True)
    th.start()
    while th.is_alive():
        th.join(0.5)
    return box[0] if box else (0, len(tests))


def main(argv=None):
    """Command line: [--tests LIST] [--list] [-v] [--no-build]
    [--timeout-scale X] [-j N].  Ends with the line 'N passed, N failed'."""
    ap = argparse.ArgumentParser(description="Run the JOS-in-JOS tests.")
    ap.add_argument("--tests", action="append", default=[],
                    help="names or glob patterns, comma or space separated")
    ap.add_argument("names", nargs="*", help="more names or patterns")
    ap.add_argument("--list", action="store_true", help="list the tests")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show console output while the tests run")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run `make all` first")
    ap.add_argument("--timeout-scale", type=float,
                    default=float(os.environ.get("GRADE_TIMEOUT_SCALE", 1)),
                    help="multiply every timeout (slow machines)")
    ap.add_argument("-j", "--jobs", type=int,
                    default=int(os.environ.get("GRADE_JOBS", 0)) or None,
                    help="tests to run at once (default: 2 with two CPUs "
                    "or more, 1 with -v); timeouts then grow by %g"
                    % JOBS_TIMEOUT_FACTOR)
    args = ap.parse_args(argv)
    jobs = args.jobs or (1 if args.verbose else default_jobs())

    def terminate(signum, frame):
        raise KeyboardInterrupt
    # The emulators run in sessions of their own: a SIGTERM or SIGHUP to
    # the grader must still kill them (run_tests does, on the way out).
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    os.chdir(os.path.dirname(os.path.abspath(sys.argv[0])) or ".")
    options["verbose"] = args.verbose
    options["timeout_scale"] = args.timeout_scale
    if jobs > 1:
        options["timeout_scale"] *= JOBS_TIMEOUT_FACTOR

    if args.list:
        for t in TESTS:
            print("%-24s %-6s %-6s %4ds  %s"
                  % (t.name, t.emulator or "-", VENDOR_LABELS[t.vendor],
                     t.timeout, t.summary()))
        return 0

    patterns = split_test_list(" ".join(args.tests + args.names))
    tests, unmatched = select_tests(patterns)
    failed_extra = 0
    for pat in unmatched:
        print("%s: FAIL (no test has this name; see --list)" % pat)
        failed_extra += 1

    passed = failed = 0
    if not args.no_build and tests:
        status, text = _rebuild()
        if status != 0:
            print("make all failed:")
            for line in _tail(text, 30):
                print("    | " + line)
            for t in tests:
                print("%s: FAIL (build failed)" % t.name)
            tests, failed = [], len(tests)
    try:
        p, f = run_tests(tests, jobs=max(1, jobs))
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130
    passed += p
    failed += f + failed_extra
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0
