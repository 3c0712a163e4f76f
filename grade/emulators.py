"""QEMU and Bochs runs: run_qemu, run_bochs, and boot(), which boots the
current test's emulator.

Invariants: QEMU boots the build's disk images with snapshot=on (it
neither writes nor locks them), so that tests may share them, and
writes only a test's own disks (under obj/grade, fs_image_copy).  Each
run has its own log files, named after the test."""

import os
import re
import subprocess

from grade.config import (CYLINDER_BYTES, DEFAULT_BOCHS_CPU, FS_IMG, GRADEDIR,
                          KERNEL_IMG, OBJDIR)
from grade.make import kernel_image, make_var
from grade.registry import _context, current_test, fail
from grade.runs import Run


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
