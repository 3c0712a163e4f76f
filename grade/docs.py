"""Tests that the user's guide (README.md, docs/) and the make targets it
names stay true: every QEMU target takes `poweroff` as success, two
sessions run side by side, README's commands work, and what README
quotes (vmm's usage, the benchmark rows) is what the programs print.

Invariants: a test here runs what a user would type (make targets,
README's marked commands) and checks what the guide says about it; a
test that uses GDBPORT holds the GDB_PORTS lock."""

import ast
import os
import re
import subprocess

from grade.config import GRADEDIR
from grade.emulators import boot
from grade.gdb import gdb_port, port_in_use, run_gdb, wait_listening
from grade.make import run_command, run_make
from grade.registry import GDB_PORTS, fail, test


README = "README.md"
# The line before a README code block whose commands the test runs.
RUNNABLE_MARK = "<!-- runnable -->"
# Seconds one README command (or make -n of one) may take.
COMMAND_TIMEOUT = 120
SHELL_PROMPT = r"(?m)^\$ "
# The targets whose recipes start QEMU (run-NAME* with a program).
QEMU_TARGETS = ["qemu", "qemu-nox", "qemu-gdb", "qemu-nox-gdb",
                "run-hello", "run-hello-nox", "run-hello-gdb",
                "run-hello-nox-gdb"]


def _shell_up(r):
    r.expect(r"init: starting sh")
    r.expect(SHELL_PROMPT)


def _sh(command, timeout=COMMAND_TIMEOUT):
    """Run COMMAND with sh in this tree; (status, output)."""
    try:
        out = subprocess.run(["sh", "-c", command], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail("`%s` did not finish in %d s" % (command, timeout))
    return out.returncode, out.stdout.decode(errors="replace")


@test("qemu-targets-poweroff", emulator=None, timeout=240)
def qemu_targets_poweroff():
    """Every make target that starts QEMU takes `poweroff` (QEMU's exit
    status 99) as success.

    `make -n` of each target shows its QEMU command line; each must be
    followed by the check that turns status 99 into 0."""
    for target in QEMU_TARGETS:
        status, out = _sh("make -n V= --no-print-directory %s" % target)
        if status != 0:
            fail("make -n %s failed:\n%s" % (target, out[-2000:]))
        lines = [l for l in out.splitlines()
                 if re.match(r"\S*qemu-system-\S+ ", l)]
        if not lines:
            fail("make -n %s starts no QEMU" % target)
        for l in lines:
            if not re.search(r"\|\| \[ \$(\?|st) -eq 99 \]$", l):
                fail("make %s: QEMU's poweroff status is not taken as "
                     "success: %s" % (target, l))


@test("qemu-nox-gdb-poweroff", emulator="qemu", timeout=120,
      locks=[GDB_PORTS])
def qemu_nox_gdb_poweroff():
    """`poweroff` under `make qemu-nox-gdb` ends make with status 0.

    gdb (the .gdbinit make writes) continues the stopped QEMU; the shell's
    poweroff then ends QEMU with status 99, which make must take as
    success. -snapshot keeps the build's disk as built."""
    port = gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another `make qemu-gdb`?)" % port)
    q = run_make("qemu-nox-gdb", label="qemu", QEMUEXTRA="-snapshot")
    wait_listening(port, q)
    g = run_gdb("continue", gdbinit=".gdbinit")
    _shell_up(q)
    q.send("poweroff")
    status = q.wait()
    g.wait()
    if status != 0:
        fail("make qemu-nox-gdb ended with status %s after poweroff"
             % status)
    if re.search(r"\*\*\* \[.*\] Error", q.text):
        fail("make reported an error after poweroff")


@test("qemu-nox-two", emulator="qemu", timeout=180, locks=[GDB_PORTS])
def qemu_nox_two():
    """Two `make qemu-nox` of one user run side by side.

    Neither opens a fixed TCP port (GDBPORT, the guest-debugging port
    GDBPORT + 1); the second boots from a disk of its own (FSDISK, made as
    a copy of the built disk), the first with -snapshot. Both reach the
    shell, run a command and end with poweroff, make's status 0."""
    disk = os.path.join(GRADEDIR, "qemu-nox-two.fs.img")
    if os.path.exists(disk):
        os.unlink(disk)
    first = run_make("qemu-nox", label="first", QEMUEXTRA="-snapshot")
    second = run_make("qemu-nox", label="second", FSDISK=disk)
    for r in (first, second):
        _shell_up(r)
    port = gdb_port()
    for p in (port, port + 1):
        if port_in_use(p):
            fail("something listens on port %d while two make qemu-nox "
                 "run" % p)
    if not os.path.exists(disk):
        fail("make qemu-nox FSDISK=%s did not make the disk" % disk)
    for i, r in enumerate((first, second)):
        r.send("echo session %d" % i)
        r.expect(r"(?m)^session %d\r?$" % i)
        r.expect(SHELL_PROMPT)
        r.send("poweroff")
        status = r.wait()
        if status != 0:
            fail("make qemu-nox (session %d) ended with status %s"
                 % (i, status))
    status, out = _sh("make -n V= --no-print-directory qemu-nox GUESTGDB=1")
    if "-serial tcp::%d,server,nowait" % (port + 1) not in out:
        fail("make qemu-nox GUESTGDB=1 does not connect COM2 to port %d"
             % (port + 1))


@test("qemu-nox-guestgdb", emulator="qemu", timeout=180, locks=[GDB_PORTS])
def qemu_nox_guestgdb():
    """docs/guest-debugging.md's steps work through make, and COM2 is
    there only with GUESTGDB=1.

    Under `make qemu-nox` `vmm -g` is refused (no COM2); under `make
    qemu-nox GUESTGDB=1` it waits for gdb, `make gdb-guest` connects and
    shows the guest stopped at 0x7c00, and once that gdb detaches (its
    input is empty) the guest runs on to its prompt."""
    plain = run_make("qemu-nox", label="plain", QEMUEXTRA="-snapshot")
    _shell_up(plain)
    plain.send("vmm -g")
    plain.expect(r"is there a COM2 port\?")
    plain.expect(SHELL_PROMPT)
    plain.send("poweroff")
    plain.wait()
    r = run_make("qemu-nox", label="qemu", QEMUEXTRA="-snapshot",
                 GUESTGDB="1")
    _shell_up(r)
    wait_listening(gdb_port() + 1, r)
    r.send("vmm -g")
    r.expect(r"waits for gdb on COM2")
    g = run_command(["make", "--no-print-directory", "gdb-guest"],
                    label="gdb", stdin=False)
    g.wait()
    g.match(r"\+ target remote localhost:%d" % (gdb_port() + 1),
            r"0x0+7c00 in", r"\+ symbol-file obj/guest/kern/kernel",
            r"detached")
    r.expect(r"vm\$ ")
    r.send("halt")
    r.expect(SHELL_PROMPT)
    r.send("poweroff")
    if r.wait() != 0:
        fail("make qemu-nox GUESTGDB=1 ended with status %s" % r.returncode)


# ---- README.md --------------------------------------------------------------

def readme_blocks():
    """README's code blocks (indented or fenced): a list of (runnable,
    lines), runnable when RUNNABLE_MARK is the last non-blank line
    before the block."""
    with open(README) as f:
        lines = f.read().split("\n")
    blocks, i, prev = [], 0, ""
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            blocks.append((prev == RUNNABLE_MARK, lines[i + 1:j]))
            i = j + 1
            prev = ""
            continue
        if line.startswith("    ") and line.strip() and not prev_is_text(
                lines, i):
            j = i
            while j < len(lines) and (lines[j].startswith("    ")
                                      or not lines[j].strip()):
                j += 1
            blocks.append((prev == RUNNABLE_MARK,
                           [l[4:] for l in lines[i:j] if l.strip()]))
            i = j
            prev = ""
            continue
        if line.strip():
            prev = line.strip()
        i += 1
    return blocks


def prev_is_text(lines, i):
    """An indented line right after text is a list item's continuation,
    not a code block (Markdown wants a blank line before one)."""
    return i > 0 and lines[i - 1].strip() != ""


def host_commands(block):
    """The lines of BLOCK that are commands for the host's shell (make,
    python3), without a trailing comment."""
    out = []
    for line in block:
        cmd = re.sub(r"\s+#.*$", "", line).strip()
        if re.match(r"(make|python3)( |$)", cmd):
            out.append(cmd)
    return out


@test("readme-commands", emulator=None, timeout=900)
def readme_commands():
    """README's commands work: those in blocks marked runnable exit 0,
    and every other make command is a target make knows (make -n).

    A code block after the line `<!-- runnable -->` holds commands that
    finish by themselves; the interactive ones (make qemu-nox, make gdb,
    make grade), in code blocks or quoted in the text, are checked with
    make -n only."""
    blocks = readme_blocks()
    if not any(run for run, _ in blocks):
        fail("README.md has no block marked %s" % RUNNABLE_MARK)
    checked = 0
    for runnable, block in blocks:
        for cmd in host_commands(block):
            if runnable:
                status, out = _sh(cmd)
                what = cmd
            elif cmd.startswith("make"):
                status, out = _sh("make -n --no-print-directory"
                                  + cmd[len("make"):])
                what = "make -n" + cmd[len("make"):]
            else:
                script = cmd.split()[1]
                status, out = (0 if os.path.exists(script) else 1,
                               "no file %s" % script)
                what = cmd
            if status != 0:
                fail("README command `%s` failed (status %d):\n%s"
                     % (what, status, out[-1500:]))
            checked += 1
    # make commands quoted in the text: known targets too.
    with open(README) as f:
        text = f.read()
    for span in re.findall(r"`(make\s[^`]+)`", text):
        cmd = " ".join(span.split())
        status, out = _sh("make -n --no-print-directory" + cmd[len("make"):])
        if status != 0:
            fail("README's `%s`: make -n failed (status %d):\n%s"
                 % (cmd, status, out[-1500:]))
        checked += 1
    if not checked:
        fail("found no commands in README.md")


def bench_figures():
    """FIGURES of bench-vmm.py (the benchmark table's rows), read without
    running it."""
    with open("bench-vmm.py") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "FIGURES"):
            return ast.literal_eval(node.value)
    fail("bench-vmm.py has no FIGURES list")


@test("readme-bench-rows", emulator=None, timeout=30)
def readme_bench_rows():
    """README's benchmark table names the rows `make bench` prints
    (bench-vmm.py's FIGURES), in the same order."""
    with open(README) as f:
        lines = f.read().split("\n")
    headers = [i for i, l in enumerate(lines) if l.startswith("| figure")]
    if len(headers) != 1:
        fail("README.md should have one benchmark table (a header row "
             "starting `| figure`), found %d" % len(headers))
    names = []
    for line in lines[headers[0] + 1:]:
        if not line.startswith("|"):
            break
        cell = line.split("|")[1].strip()
        if not set(cell) <= set("-: "):
            names.append(cell)
    if names != bench_figures():
        fail("README's benchmark rows %r differ from bench-vmm.py's %r"
             % (names, bench_figures()))


def usage_forms(lines):
    """The usage forms in LINES: `usage: X` and the indented lines after
    it, whitespace made single."""
    forms, inside = [], False
    for line in lines:
        m = re.match(r"\s*usage: (.*)", line)
        if m:
            inside = True
            forms.append(" ".join(m.group(1).split()))
        elif inside and re.match(r"\s+\S", line):
            forms.append(" ".join(line.split()))
        else:
            inside = False
    return forms


@test("readme-vmm-usage", emulator="qemu", timeout=90)
def readme_vmm_usage():
    """README quotes vmm's usage as vmm prints it, and names no other
    form of the command line.

    A bad option makes vmm print its usage; each line must stand in
    README.md's usage block, and every `vmm [` form README mentions must
    be one of them."""
    r = boot("fs+icode")
    _shell_up(r)
    start = len(r.text)
    r.send("vmm -Z")
    r.expect(r"usage: vmm")
    r.expect(SHELL_PROMPT)
    printed = usage_forms(r.text[start:].replace("\r", "").split("\n"))
    if not printed:
        fail("vmm printed no usage")
    with open(README) as f:
        text = f.read()
    quoted = usage_forms(text.split("\n"))
    if quoted != printed:
        fail("README's vmm usage %r differs from what vmm prints %r"
             % (quoted, printed))
    for form in re.findall(r"`(vmm \[[^`]*)`", text):
        if " ".join(form.split()) not in printed:
            fail("README mentions `%s`, which is not vmm's usage %r"
                 % (form, printed))


@test("docs-in-repo", emulator=None, timeout=30)
def docs_in_repo():
    """The guides point only inside the repository: no `../` paths, and
    every docs/*.md or */README.md they name exists."""
    guides = [README, os.path.join("vmm", "README.md")]
    guides += sorted(os.path.join("docs", n) for n in os.listdir("docs")
                     if n.endswith(".md"))
    for path in guides:
        with open(path) as f:
            text = f.read()
        m = re.search(r"\.\./[\w./-]+", text)
        if m:
            fail("%s points outside the repository: %s" % (path, m.group(0)))
        for ref in re.findall(r"\b((?:docs|vmm)/[\w-]+\.md)\b", text):
            if not os.path.exists(ref):
                fail("%s names %s, which does not exist" % (path, ref))
