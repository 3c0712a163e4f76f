"""Run: a program the test started (an emulator, make, gdb) whose console
output is captured, to type into and to match with regular expressions.

A test passes when it returns and fails when it raises (fail(), a
helper's TestFailure, or any other exception).  Each test has a deadline
(its timeout); at the deadline, and when the test ends, every process the
test started is killed with SIGKILL (Bochs ignores SIGTERM).  Console
output goes to obj/grade/<test>.log as it arrives.

Invariants: every Run belongs to the test that started it and is killed
with it; a run's text only grows; expect() and match() never wait past
the test's deadline."""

import codecs
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import tty

from grade.config import options
from grade.registry import _context, _scaled, fail


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
