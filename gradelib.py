"""Support library for grade-project.py, the JOS-in-JOS test harness.

Python 3 standard library only.  A test is a function registered with the
@test decorator.  It starts programs (an emulator, make, gdb) whose console
output is captured, and checks that output with regular expressions:

    @test("boot-qemu", emulator="qemu", timeout=30)
    def boot_qemu():
        r = boot()                  # QEMU or Bochs, as the test says
        r.match(r"check_page\\(\\) succeeded!", r"^K> ", no=[r"kernel panic"])

A test passes when it returns and fails when it raises (fail(), a helper's
TestFailure, or any other exception).  Each test has a deadline (its
timeout); at the deadline, and when the test ends, every process the test
started is killed with SIGKILL (Bochs ignores SIGTERM).  Console output
goes to obj/grade/<test>.log as it arrives.
"""

import codecs
import fcntl
import fnmatch
import io
import os
import queue
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import traceback
import tty

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

# Settings from the command line (grade-project.py fills these in).
options = {
    "verbose": False,                 # echo console output while it arrives
    "timeout_scale": 1.0,             # multiply every test's timeout
}


class TestFailure(Exception):
    """Raised to fail the current test; the message is the reason."""


def fail(message):
    raise TestFailure(message)


# ---------------------------------------------------------------------------
# Test registry

class Test:
    def __init__(self, name, func, emulator, cpus, mem, timeout, serial,
                 locks):
        self.name = name
        self.func = func
        self.emulator = emulator
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


def test(name, emulator="qemu", cpus=DEFAULT_CPUS, mem=None, timeout=30,
         serial=False, locks=()):
    """Register the decorated function as the test NAME.  Its docstring
    is required: --list shows its first sentence.

    emulator, cpus and mem are what boot() uses; timeout (seconds) bounds
    the whole test, builds and every run included.  serial=True runs the
    test with no other test beside it (one that changes the build must);
    LOCKS name resources (such as GDB_PORTS) the test needs for itself."""
    if emulator not in ("qemu", "bochs", None):
        raise ValueError("emulator must be 'qemu', 'bochs' or None")

    def register(func):
        if any(t.name == name for t in TESTS):
            raise ValueError("two tests are named %r" % name)
        # Checked here, at import, so that `--list` and every run fail
        # until a new test says what it checks.
        if not (func.__doc__ or "").strip():
            raise ValueError("test %r (%s) has no docstring: say in one "
                             "sentence what it checks" % (name,
                                                          func.__name__))
        TESTS.append(Test(name, func, emulator, cpus, mem or DEFAULT_MEM,
                          timeout, serial, locks))
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
        raise RuntimeError("gradelib helpers work only inside a test")
    return ctx


def current_test():
    return _context().test


# ---------------------------------------------------------------------------
# A running program with captured console output

_ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][A-Za-z0-9]|[=>78cDEHM])")


def _compile(pattern):
    if isinstance(pattern, re.Pattern):
        return pattern
    return re.compile(pattern, re.MULTILINE)


def _tail(text, n):
    lines = text.rstrip("\n").split("\n")
    return lines[-n:] if text.strip() else []


def _tail_file(path, n, keep=None):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 65536))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    data = _ANSI.sub("", data).replace("\r", "")
    lines = [l for l in data.split("\n")
             if l.strip() and not l.startswith("ALSA lib")]
    if keep is not None:
        lines = [l for l in lines if keep.search(l)]
    return lines[-n:]


def _group_pids(pgid):
    """The live processes of process group PGID (from /proc)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(name))
    return pids


class Run:
    """A program started by a test.  Its console output collects in .text
    (carriage returns and terminal escapes dropped) and in the log file
    .log_path; .raw keeps the bytes as they came.

    Waiting helpers (expect, match, wait) stop at the test's deadline: the
    program is then killed with SIGKILL and the test fails, naming what
    was still missing."""

    def __init__(self, argv, log_path, kind="program", env=None,
                 stdin=True, pty_console=False, serial_file=None,
                 serial_pty=False, extra_logs=()):
        self.argv = list(argv)
        self.kind = kind
        self.log_path = log_path
        # (title, path[, regex of the lines to keep]) shown on failure
        self.extra_logs = list(extra_logs)
        self.text = ""
        self.raw = b""                       # the bytes as they came
        self.cursor = 0                      # where expect() searches from
        self.returncode = None
        self._cond = threading.Condition()
        self._eof = False
        self._killed = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._threads = []
        self._fds = []
        self._input_fd = None
        self._log = None
        ctx = _context()

        os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
        if serial_file is None:
            self._log = open(log_path, "w", encoding="utf-8",
                             errors="replace")

        child_env = dict(os.environ)
        child_env.update(env or {})
        kw = dict(start_new_session=True, env=child_env, close_fds=True)

        console_master = None
        if pty_console:
            # Bochs draws its screen with curses on stdin/stdout: give it
            # a terminal of its own even when we have none (CI).
            console_master, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ,
                        struct.pack("HHHH", 25, 80, 0, 0))
            kw.update(stdin=slave, stdout=slave, stderr=slave)
            child_env.setdefault("TERM", "vt100")
            if child_env["TERM"] in ("", "dumb", "unknown"):
                child_env["TERM"] = "vt100"
            self._fds += [console_master]
            slave_fd = slave
        else:
            kw.update(stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            slave_fd = None

        serial_master = None
        self.serial_path = None
        if serial_pty:
            serial_master, sslave = os.openpty()
            tty.setraw(sslave)
            tty.setraw(serial_master)
            self.serial_path = os.ttyname(sslave)
            # Keep our slave fd open: the master then never reads EIO
            # while the emulator is starting.
            self._fds += [serial_master, sslave]
            self._input_fd = serial_master
            self._serial_pty = sslave

        try:
            self._prepare(child_env)
            self.proc = subprocess.Popen(self.argv, **kw)
        except BaseException:
            for fd in self._fds:
                os.close(fd)
            if self._log:
                self._log.close()
            raise
        finally:
            if slave_fd is not None:
                os.close(slave_fd)
        ctx.add(self)
        if options["verbose"]:
            print("  $ " + " ".join(self.argv), flush=True)

        if pty_console:
            term_log = os.path.splitext(log_path)[0] + ".term"
            self.extra_logs.append(("emulator terminal", term_log))
            if serial_pty:
                src = dict(fd=serial_master)
            elif serial_file:
                src = dict(path=serial_file)
            else:
                src = dict(fd=console_master)
                console_master = None
            self._start(self._pump, **src)
            if console_master is not None:
                self._start(self._drain, console_master, term_log)
        else:
            self._input_fd = self.proc.stdin.fileno() if stdin else None
            self._start(self._pump, fd=self.proc.stdout.fileno())

    def _prepare(self, env):
        """Hook for subclasses, run just before the program starts (the
        serial pty, if any, exists by then)."""

    def _start(self, target, *args, **kw):
        th = threading.Thread(target=target, args=args, kwargs=kw,
                              daemon=True)
        th.start()
        self._threads.append(th)

    # -- output collection --------------------------------------------------

    def _feed(self, data, final=False):
        with self._cond:
            self.raw += data
        s = self._decoder.decode(data, final).replace("\r", "")
        s = _ANSI.sub("", s)         # SeaBIOS' terminal setup, Bochs' curses
        if not s:
            return
        with self._cond:
            self.text += s
            if self._log:
                self._log.write(s)
                self._log.flush()
            self._cond.notify_all()
        if options["verbose"]:
            sys.stdout.write(s)
            sys.stdout.flush()

    def _pump(self, fd=None, path=None):
        """Collect output from FD (a pipe or pty) or from the file PATH that
        the program writes, until the program has exited and nothing more
        comes."""
        f = None
        try:
            while True:
                exited = self.proc.poll() is not None
                got = False
                if fd is not None:
                    ready, _, _ = select.select([fd], [], [], 0.05)
                    if ready:
                        try:
                            data = os.read(fd, 65536)
                        except OSError:
                            data = b""
                        if not data:
                            break
                        self._feed(data)
                        got = True
                else:
                    if f is None and os.path.exists(path):
                        f = open(path, "rb")
                    data = f.read() if f else b""
                    if data:
                        self._feed(data)
                        got = True
                    else:
                        time.sleep(0.05)
                if exited and not got:
                    break
        finally:
            if f:
                f.close()
            self._feed(b"", final=True)
            self.proc.wait()
            with self._cond:
                self.returncode = self.proc.returncode
                self._eof = True
                self._cond.notify_all()

    def _drain(self, fd, path):
        """Save the emulator's own terminal output (Bochs' screen, its
        messages) so that its pty never fills up."""
        with open(path, "wb") as out:
            while True:
                try:
                    ready, _, _ = select.select([fd], [], [], 0.2)
                    if not ready:
                        if self.proc.poll() is not None:
                            break
                        continue
                    data = os.read(fd, 65536)
                except (OSError, ValueError):
                    break
                if not data:
                    break
                out.write(data)
                out.flush()

    # -- control ------------------------------------------------------------

    def running(self):
        return not self._eof

    def kill(self):
        """SIGKILL the program's whole process group.  The other members
        go first, so that a leader such as make can still reap them (an
        orphan would stay a zombie in a container whose init reaps
        nothing)."""
        self._killed = True
        others = [p for p in _group_pids(self.proc.pid)
                  if p != self.proc.pid]
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        until = time.monotonic() + 1.0
        while others and self.proc.poll() is None and time.monotonic() < until:
            time.sleep(0.02)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self):
        self.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for th in self._threads:
            th.join(timeout=5)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        if self._log:
            self._log.close()
            self._log = None

    def send(self, line, newline="\n", delay=0.0):
        """Type LINE (and NEWLINE) into the console.  DELAY seconds between
        characters, for a guest that might drop fast input."""
        if self._input_fd is None:
            fail("%s has no console input (start it with input)" % self.kind)
        data = (line + newline).encode()
        # Bochs' `term` serial mode sets the pty up again when it opens it,
        # with ISIG on: a typed Ctrl-C would then never reach the machine.
        # Raw mode again before control characters go out.
        if getattr(self, "_serial_pty", None) is not None and \
                any(b < 0x20 and b not in b"\r\n\t" for b in data):
            tty.setraw(self._serial_pty)
        try:
            if delay:
                for i in range(len(data)):
                    os.write(self._input_fd, data[i:i + 1])
                    time.sleep(delay)
            else:
                while data:
                    data = data[os.write(self._input_fd, data):]
        except OSError as e:
            fail("cannot type into %s: %s" % (self.kind, e))

    # -- waiting ------------------------------------------------------------

    def _wait(self, done, timeout=None):
        """Wait until done(text) is true.  Returns 'ok', 'exited' or
        'timeout' (the program is then killed)."""
        ctx = _context()
        limit = ctx.deadline
        if timeout is not None:
            limit = min(limit, time.monotonic() + _scaled(timeout))
        with self._cond:
            while True:
                if done(self.text):
                    return "ok"
                if self._eof:
                    return "exited"
                left = limit - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.5))
        if limit >= ctx.deadline:
            self.kill()
        return "timeout"

    def _why(self, state, timeout):
        if state == "timeout":
            if timeout is not None and time.monotonic() < _context().deadline:
                return "nothing matched within %gs" % _scaled(timeout)
            return "timed out after %gs" % _context().timeout
        if self._killed:
            return "%s was killed (test deadline)" % self.kind
        why = "%s exited with status %s" % (self.kind, self.returncode)
        if self.kind == "qemu" and self.returncode == 0:
            why += " (with -no-reboot a triple fault also exits 0)"
        return why

    def expect(self, pattern, timeout=None):
        """Wait for PATTERN after the cursor (where the previous expect
        matched); move the cursor past the match and return it."""
        rx = _compile(pattern)
        found = []

        def done(text):
            m = rx.search(text, self.cursor)
            if m:
                found.append(m)
            return bool(m)
        state = self._wait(done, timeout)
        if state != "ok":
            fail("%s while waiting for %r" % (self._why(state, timeout),
                                             rx.pattern))
        self.cursor = found[0].end()
        return found[0]

    def match(self, *patterns, no=(), settle=None, timeout=None):
        """Wait until every one of PATTERNS occurs somewhere in the output
        (any order).  Fails at once if a pattern of NO appears; once all
        have matched, waits SETTLE seconds (default 0.5 when NO is given)
        and checks NO again.  Returns the match objects."""
        want = [_compile(p) for p in patterns]
        bad = [_compile(p) for p in no]
        if settle is None:
            settle = 0.5 if bad else 0.0
        forbidden = []

        def check_bad(text):
            for rx in bad:
                m = rx.search(text)
                if m:
                    forbidden.append((rx, m))
                    return True
            return False

        def done(text):
            if check_bad(text):
                return True
            return all(rx.search(text) for rx in want)

        state = self._wait(done, timeout)
        if state == "ok" and not forbidden and settle > 0:
            self._wait(lambda text: check_bad(text),
                       min(settle, max(0.0, _context().remaining())))
        if forbidden:
            rx, m = forbidden[0]
            fail("unexpected output matching %r: %s"
                 % (rx.pattern, self._line_at(m.start())))
        if state != "ok":
            missing = [rx.pattern for rx in want if not rx.search(self.text)]
            fail("%s; missing: %s" % (self._why(state, timeout),
                                      ", ".join(repr(p) for p in missing)))
        return [rx.search(self.text) for rx in want]

    def wait(self, timeout=None):
        """Wait for the program to exit; returns its exit status."""
        state = self._wait(lambda text: False, timeout)
        if state == "timeout":
            fail("%s did not exit: %s" % (self.kind,
                                          self._why(state, timeout)))
        return self.returncode

    def _line_at(self, pos):
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        return repr(self.text[start:end if end >= 0 else len(self.text)])

    def report(self, n=15):
        """Lines describing this run for a failure report."""
        out = ["%s output: %s" % (self.kind, self.log_path)]
        out += ["  | " + l for l in _tail(self.text, n)]
        for title, path, *keep in self.extra_logs:
            lines = _tail_file(path, n, *keep)
            if lines:
                out.append("%s: %s" % (title, path))
                out += ["  | " + l for l in lines]
        return out


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


# ---------------------------------------------------------------------------
# Emulators

def _disks(disks):
    """The disk images to attach: KERNEL_IMG, then FS_IMG when it was
    built, unless the test names its own list."""
    if disks is None:
        disks = [KERNEL_IMG] + ([FS_IMG] if os.path.exists(FS_IMG) else [])
    for d in disks:
        if not os.path.exists(d):
            fail("disk image %s does not exist (did the build run?)" % d)
    return list(disks)


def _own_disk(path):
    """Whether PATH is a test's own disk (under obj/grade), not a build
    output that other tests share."""
    grade = os.path.abspath(GRADEDIR) + os.sep
    return os.path.abspath(path).startswith(grade)


# The lines of QEMU's -d log worth showing: why and where a CPU reset.
_QEMU_LOG_KEEP = re.compile(r"Triple fault|check_exception|CPU Reset|"
                            r"^(RIP|EIP|CR0|EFER)=|guest|[Ii]nvalid")


def run_qemu(*extra, cpus=None, mem=None, disks=None, gdb_port=None,
             stopped=False, label=None, cpu="max", input=True,
             com2_port=None):
    """Boot QEMU (TCG, -cpu max: AMD-V with NPT) headless, its serial
    console on a pipe (typed input works).  EXTRA are more QEMU options.
    gdb_port opens the gdb stub; stopped=True waits for gdb (-S); cpu is
    the -cpu model (e.g. "max,-svm": no hardware virtualization).  input
    is accepted for boot()'s sake: QEMU's console always takes input."""
    ctx = _context()
    t = ctx.test
    qemu = os.environ.get("QEMU") or make_var("qemu") or "qemu-system-x86_64"
    log = ctx.log_path(label)
    qlog = os.path.splitext(log)[0] + ".qemu"
    argv = [qemu, "-nographic", "-serial", "mon:stdio",
            "-smp", str(cpus or t.cpus), "-m", str(mem or t.mem),
            "-no-reboot", "-cpu", cpu,
            # JOS's poweroff ends QEMU through it (GNUmakefile).
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-d", "guest_errors,cpu_reset", "-D", qlog]
    for i, d in enumerate(_disks(disks)):
        drive = "file=%s,index=%d,media=disk,format=raw" % (d, i)
        # The build's images stay as built: the FS server writes to its
        # disk at every start (its self-checks, fs/check.c), and a test
        # that kills QEMU then would leave the writes for later tests to
        # see. Tests running side by side boot the same images, and QEMU
        # locks an image it may write: a second QEMU could not open it.
        # A test whose writes must last boots a copy of its own under
        # obj/grade (fs_image_copy).
        if not _own_disk(d):
            drive += ",snapshot=on"
        argv += ["-drive", drive]
    if gdb_port:
        argv += ["-gdb", "tcp::%d" % gdb_port]
    if com2_port:
        # COM2, the VMM's gdb stub for guests, as a TCP server.
        argv += ["-serial", "tcp::%d,server,nowait" % com2_port]
    if stopped:
        argv.append("-S")
    argv += list(extra)
    if os.path.exists(qlog):
        os.unlink(qlog)
    return Run(argv, log, kind="qemu",
               extra_logs=[("qemu log (-d guest_errors,cpu_reset)", qlog,
                            _QEMU_LOG_KEEP)])


class _BochsRun(Run):
    def __init__(self, cfg_args, cfg_path, rc_path, disks, bochs_log,
                 com2_port=None, **kw):
        self.bochs_log = bochs_log
        self._com2_port = com2_port
        self._cfg_args = cfg_args
        self._cfg_path = cfg_path
        self._disks = disks
        bochs = os.environ.get("BOCHS") or make_var("bochs") or "bochs"
        # Bochs marks a disk image in use with IMAGE.lock and refuses an
        # image whose lock exists; SIGKILL leaves the lock behind.  Remove,
        # when the run ends, the locks this run created (never older ones:
        # they may belong to someone's `make bochs-nox`).
        self._locks = [d + ".lock" for d in disks
                       if not os.path.exists(d + ".lock")]
        # -unlock: a lock left by a killed run must not fail the test.
        super().__init__([bochs, "-q", "-unlock", "-f", cfg_path, "-rc",
                          rc_path], **kw)

    def close(self):
        super().close()
        for lock in self._locks:
            try:
                os.unlink(lock)
            except OSError:
                pass
        self._locks = []

    def _prepare(self, env):
        # Write the configuration now that the serial pty (if any) exists.
        if self.serial_path:
            args = ["pty"] + self._cfg_args + [self.serial_path]
        else:
            args = ["file"] + self._cfg_args + [self.log_path]
        cfg_env = dict(os.environ)
        cfg_env.pop("COM2_PORT", None)
        if self._com2_port:
            cfg_env["COM2_PORT"] = str(self._com2_port)
        out = subprocess.run(["sh", "conf/mkbochsrc.sh"] + args,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, timeout=30,
                             env=cfg_env)
        if out.returncode != 0:
            fail("conf/mkbochsrc.sh failed: %s"
                 % out.stderr.decode(errors="replace").strip())
        cfg = out.stdout.decode()
        # Bochs' own log: one per run (mkbochsrc.sh names OBJDIR/bochs.log,
        # which tests running at once would share).
        cfg = re.sub(r"(?m)^log: .*$", lambda m: "log: " + self.bochs_log,
                     cfg)
        if len(self._disks) > 2:
            fail("Bochs runs take at most two disks")
        for d in self._disks[1:]:
            size = os.path.getsize(d)
            if size % CYLINDER_BYTES:
                fail("%s is not a whole number of 16x63-sector cylinders"
                     % d)
            cfg += ("ata0-slave: type=disk, path=%s, mode=flat, "
                    "cylinders=%d, heads=16, spt=63, translation=none\n"
                    % (d, size // CYLINDER_BYTES))
        with open(self._cfg_path, "w") as f:
            f.write(cfg)


def run_bochs(cpus=None, mem=None, disks=None, cpu_model=DEFAULT_BOCHS_CPU,
              input=False, label=None, com2_port=None):
    """Boot Bochs (VT-x with EPT on corei7_skylake_x; 'ryzen' for SVM)
    headless.  Its serial console goes to the log file (output only), or,
    with input=True, to a pty so the test can type into it too.  Bochs'
    own log is the run's .bochs.log, next to the serial log (the run's
    .bochs_log)."""
    ctx = _context()
    t = ctx.test
    disks = _disks(disks)
    log = ctx.log_path(label)
    base = os.path.splitext(log)[0]
    rc = base + ".bochs.rc"
    bochs_log = base + ".bochs.log"
    with open(rc, "w") as f:
        f.write("c\nq\n")            # continue at the debugger prompt
    for p in (log, bochs_log):
        if os.path.exists(p):
            os.unlink(p)
    cfg_args = [disks[0], str(cpus or t.cpus), str(mem or t.mem),
                cpu_model, OBJDIR]
    return _BochsRun(cfg_args, base + ".bochsrc", rc, disks, bochs_log,
                     com2_port=com2_port, log_path=log, kind="bochs",
                     pty_console=True, serial_file=None if input else log,
                     serial_pty=input, extra_logs=[("bochs log", bochs_log)])


def boot(program=None, **kw):
    """Boot the emulator the test names (@test(..., emulator=...)), with
    run_qemu's or run_bochs' keyword arguments.  PROGRAM: boot the kernel
    with that user program as the first environment (kernel_image)."""
    if program is not None:
        disks = _disks(kw.pop("disks", None))
        disks[0] = kernel_image(program)
        kw["disks"] = disks
    emu = current_test().emulator
    if emu == "bochs":
        return run_bochs(**kw)
    if emu == "qemu":
        return run_qemu(**kw)
    raise RuntimeError("test %s names no emulator" % current_test().name)


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


# ---------------------------------------------------------------------------
# Running the tests

def _kill_runs(ctx):
    ctx.watchdog.cancel()
    for run in list(ctx.runs):
        run.close()


def _rebuild():
    out = subprocess.run(_make_argv(["all"], {}), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return out.returncode, out.stdout.decode(errors="replace")


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
    import argparse
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
            print("%-24s %-6s %4ds  %s" % (t.name, t.emulator or "-",
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
