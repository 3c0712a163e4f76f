"""Tests of several guests and of the console that loses nothing: fast
typing and Ctrl-C, guests in the background with attach and detach, a
guest's own disk, host and guests writing at once; and what a new
student meets: the terminal's line wrap, env messages, a console that
refuses what it cannot do.

Invariants: every guest a test starts ends, and a test that counts the
host's free pages counts them with every guest gone."""

import re
import time

from grade.config import KERNEL_IMG
from grade.emulators import boot
from grade.helpers import (long_only, GUEST_MOTD, GUEST_PROMPT, GUEST_STOPPED,
                           GUEST_TYPING_DELAY, HOST_PROMPT, attach,
                           cpu_on_line, detach, expect_line, fs_image_copy,
                           guest_boot, guest_cmd, guest_halt, guest_kill,
                           guest_problems, guest_send, host_boot, host_cmd,
                           kmon_cmd, long_line, shell, shell_cmd, vendor,
                           vmm_test, vms_free)
from grade.make import run_make
from grade.registry import GDB_PORTS, fail, test


# ---- Several guests; a console that loses nothing ---------------------------

@vmm_test("jos-on-jos-burst", bochs_timeout=400, qemu_timeout=120)
def jos_on_jos_burst():
    """Fast typing loses nothing in the host's and the guest's shells.

    Input typed at full speed loses nothing: a 4 KiB line into the host
    shell, a command typed ahead while the guest boots (it reaches the
    guest's shell), a 4 KiB line into the guest's shell. Ctrl-C ends the
    foreground command, in the host shell and in the guest's."""
    r = host_boot("jos-burst")
    line, out = long_line()
    r.send(line)
    expect_line(r, out)
    r.expect(HOST_PROMPT)
    ctrl_c(r, HOST_PROMPT)
    r.send("vmm\necho typed ahead while the guest booted")
    r.expect(GUEST_MOTD)
    expect_line(r, "typed ahead while the guest booted")
    r.expect(GUEST_PROMPT)
    r.send(line)
    expect_line(r, out)
    r.expect(GUEST_PROMPT)
    ctrl_c(r, GUEST_PROMPT)
    guest_halt(r)
    if re.search(r"input buffer full|input queue full", r.text):
        fail("the console dropped input")
    guest_problems(r)


CTRL_C_BUSY = "100000"   # busy's millions of TSC ticks: far past the test


def ctrl_c(r, prompt):
    """Ctrl-C ends the foreground command, its children and the rest of
    its line: a pipe of two busy loops, then an echo that must never
    run. The shell prints ^C and prompts again; nothing of the line
    runs on, and the shell still works.

    On both vendors: under Bochs the byte goes through its `term` serial
    pty (grade/runs.py keeps that pty raw) and, like any typed byte, is also
    taken at the next timer tick if its serial interrupt never comes."""
    r.send("busy %s | busy %s; echo after the busy loops"
           % (CTRL_C_BUSY, CTRL_C_BUSY), delay=GUEST_TYPING_DELAY)
    r.expect(r"busy: spinning")
    r.expect(r"busy: spinning")
    start = len(r.text)
    r.send("\x03", newline="")
    r.expect(r"destroying [0-9a-f]{8} and its descendants")
    r.expect(r"(?m)^\^C\r?$")
    r.expect(prompt)
    r.send("echo still here", delay=GUEST_TYPING_DELAY)
    r.expect(r"(?m)^still here\r?$")
    r.expect(prompt)
    # Two seconds more for anything that survived to show itself.
    time.sleep(2)
    late = r.text[start:]
    if re.search(r"(?m)^after the busy loops|busy: done", late):
        fail("Ctrl-C left part of the command running:\n%s" % late)


def multi_round(r, names):
    """Start NAMES in the background, each on its own new or old disk; in
    each, start a job that writes its disk while the others write theirs,
    then check each sees its own files and output only; attach and
    detach each twice; kill the first, halt the rest."""
    for n in names:
        shell_cmd(r, "vmm -b -n %s -d /vmm/%s.img" % (n, n),
                  r"guest [0-9a-f]{8} \(%s\) runs in the background" % n)
    listed_or_why(r, host_cmd(r, "vms"), names, "background")
    for n in names:
        attach(r, n)
        r.expect(GUEST_PROMPT)
        # Each guest writes its disk in the background while we go on.
        guest_cmd(r, "echo I am %s > /who; cat /lorem > /copy &" % n)
        detach(r, n)
    for n in names:
        start = len(r.text)
        attach(r, n)
        guest_cmd(r, "cat /who; ls /", r"(?m)^I am %s\r?$" % n,
                  r"(?m)^copy\r?$")
        detach(r, n)
        for other in names:
            if other != n and ("I am %s" % other) in r.text[start:]:
                fail("guest %s showed %s's file or output" % (n, other))
    shell_cmd(r, "vmm pause %s" % names[0], r"\(%s\) paused" % names[0])
    out = host_cmd(r, "vms")
    if not re.search(r"(?m)^[0-9a-f]{8} %s .*paused" % names[0], out):
        fail("vms does not show %s paused:\n%s" % (names[0], out))
    start = len(r.text)
    guest_kill(r, names[0])
    killed = re.search(r"guest ([0-9a-f]{8}) \(%s\) killed" % names[0],
                       r.text[start:]).group(1)
    for n in names[1:]:
        attach(r, n)
        guest_send(r, "halt")
        r.expect(r"guest [0-9a-f]{8} \(%s\) exited" % n)
        r.expect(HOST_PROMPT)
    # A guest killed while its CPU runs it is freed at its next exit
    # there; the free-page count must wait for that. (Once, a paused
    # guest killed this way was freed only seconds later: not understood,
    # so the wait is bounded and says what it waited for.)
    end, r.cursor = r.cursor, start
    r.expect(r"guest %s freed" % killed, timeout=60)
    r.cursor = max(end, r.cursor)


def listed_or_why(r, out, names, state):
    """Fail unless vms output OUT lists each of NAMES in STATE; a guest
    that is missing because it stopped (a triple fault, say) is named
    with the VMM's report of why (the multi-guest flake of issue 11 was
    a guest that had died, not a vms that forgot it)."""
    for n in names:
        if re.search(r"(?m)^[0-9a-f]{8} %s .*/vmm/%s\.img\s+%s"
                     % (n, n, state), out):
            continue
        stops = [r._line_at(m.start()) for p in GUEST_STOPPED
                 for m in re.finditer(p, r.text)]
        fail("vms does not list %s %s:\n%s%s" % (
            n, state, out, "".join("\n" + s for s in stops)))


# 4 guests of 64 MiB on 2 CPUs, two rounds: on AMD-V (QEMU) only, where
# it takes under a minute; jos-on-jos-three below is the Done-when of
# issue 11 on both vendors (Bochs is ~10x slower).
def jos_on_jos_multi():
    """Four guests at once on two CPUs, each on a disk of its own made
    from /vmm/fs.img.orig, in the background, all writing their disks;
    each is attached and detached repeatedly and sees only its own files
    and output; one is killed, the others halt. A second round on the
    same disks ends with exactly the host's free pages of the first (the
    first round warms the host file server's cache)."""
    names = ["g1", "g2", "g3", "g4"]
    r = host_boot("jos-multi")
    multi_round(r, names)
    first, out = vms_free(r, 0)
    multi_round(r, names)
    second, out = vms_free(r, 0)
    guest_problems(r)
    if first != second:
        fail("host free pages %d after the first round, %d after the "
             "second: a leak" % (first, second))


# On a 1-CPU host: QEMU 7.2's TCG on two CPUs at times saves the host's
# registers into a guest's VMCB when guests move between the CPUs all
# the time, as here (docs/known-issues.md: not the VMM's doing, and the
# guest then triple-faults). Several guests on two AMD-V CPUs stay
# covered by jos-on-jos-fsconc-svm and jos-on-jos-beside-svm.
test("jos-on-jos-multi-svm", emulator="qemu", cpus=1,
     timeout=240)(jos_on_jos_multi)


def typed_cmd(r, line, *patterns):
    """host_cmd, typed a character at a time."""
    start = len(r.text)
    r.send(line, delay=GUEST_TYPING_DELAY)
    for p in patterns:
        r.expect(p)
    r.expect(HOST_PROMPT)
    return r.text[start:]


def three_round(r, names, mem, line, echoed):
    """Issue 11's Done-when, once: start NAMES in the background (MEM
    MiB each, own disks); in each, a command whose output is checked;
    detach, re-attach, paste LINE at full speed into its shell (ECHOED
    must come back whole) and see only its own file; kill the first,
    halt the others."""
    for n in names:
        # Typed, not pasted: under Bochs the host shell loses bytes of a
        # full-speed line while a guest runs (README, known limits).
        r.send("vmm -b -m %d -n %s -d /vmm/%s.img" % (mem, n, n),
               delay=GUEST_TYPING_DELAY)
        r.expect(r"guest [0-9a-f]{8} \(%s\) runs in the background" % n)
        r.expect(HOST_PROMPT)
    listed_or_why(r, typed_cmd(r, "vms"), names, "background")
    for n in names:
        attach(r, n)
        r.expect(GUEST_PROMPT)
        guest_cmd(r, "echo I am %s > /who; cat /who" % n,
                  r"(?m)^I am %s\r?$" % n)
        detach(r, n)
    for n in names:
        attach(r, n)
        start = len(r.text)
        r.send(line)
        expect_line(r, echoed)
        r.expect(GUEST_PROMPT)
        guest_cmd(r, "cat /who", r"(?m)^I am %s\r?$" % n)
        detach(r, n)
        for other in names:
            if other != n and ("I am %s" % other) in r.text[start:]:
                fail("guest %s showed %s's file or output" % (n, other))
    typed_cmd(r, "vmm kill %s" % names[0], r"\(%s\) killed" % names[0])
    listed_or_why(r, typed_cmd(r, "vms"), names[1:], "background")
    for n in names[1:]:
        attach(r, n)
        guest_send(r, "halt")
        r.expect(r"guest [0-9a-f]{8} \(%s\) exited" % n)
        r.expect(HOST_PROMPT)


def jos_on_jos_three():
    """Issue 11's Done-when from one session: a 4 KiB line pasted into the
    host shell; three guests in the background, a command in each,
    detached and re-attached, a 4 KiB line pasted at full speed into each
    guest's shell arriving whole; one killed, the others halted; again
    (Bochs: one guest), ending with the first round's free host pages;
    another paste into the host shell."""
    names = ["t1", "t2", "t3"]
    # Bochs: small guests (the run is ~10x slower than QEMU's).
    mem = 64 if vendor() == "svm" else 16
    line, echoed = long_line()
    r = host_boot("jos-three")
    r.send(line)
    expect_line(r, echoed)
    r.expect(HOST_PROMPT)
    free = []
    # The second round repeats (a part of) the first on the same disks:
    # the host file server's cache holds all it needs already, so the
    # free pages must come back exactly. Bochs repeats one guest only.
    for again in (names, names if vendor() == "svm" else names[1:2]):
        three_round(r, again, mem, line, echoed)
        out = typed_cmd(r, "vms", r"vms: 0 guests; host free pages: \d+")
        free.append(int(re.search(r"host free pages: (\d+)", out).group(1)))
    r.send(line)
    expect_line(r, echoed)
    r.expect(HOST_PROMPT)
    guest_problems(r)
    if re.search(r"input buffer full|input queue full", r.text):
        fail("the console dropped input")
    if free[0] != free[1]:
        fail("host free pages %d after the first round, %d after the "
             "second: a leak" % tuple(free))


# One CPU everywhere: AMD-V under QEMU for the emulator's bug above
# (jos-on-jos-multi-svm); VT-x and AMD-V (ryzen) under Bochs with 16 MiB
# guests (Bochs is ~10x slower than QEMU).
test("jos-on-jos-three-svm", emulator="qemu", cpus=1,
     timeout=300)(jos_on_jos_three)
test("jos-on-jos-three", emulator="bochs", cpus=1,
     timeout=600)(jos_on_jos_three)
test("jos-on-jos-three-ryzen", emulator="bochs", cpus=1,
     timeout=600)(long_only(jos_on_jos_three))


# Quick on QEMU, minutes on Bochs: these two run on AMD-V only; the code
# they exercise (vmm/vmctl.c, vmm/vmcons.c, IPC_CALL) is vendor-neutral.
@test("jos-on-jos-disks-svm", emulator="qemu", timeout=120)
def jos_on_jos_disks():
    """Guest disks and names are unique; Ctrl-] x reaches the guest.

    Two guests may not share a disk; names are unique; a bad guest
    name gets an error; Ctrl-] followed by another key reaches the
    guest."""
    r = host_boot("jos-disks")
    shell_cmd(r, "vmm -b -n one", r"\(one\) runs in the background")
    shell_cmd(r, "vmm -n two", r"/vmm/fs.img is the disk of another "
              r"running guest")
    shell_cmd(r, "vmm -b -n one -d /vmm/other.img",
              r"a guest named one runs already")
    shell_cmd(r, "vmm attach nosuch", r"no guest named nosuch")
    attach(r, "one")
    r.expect(GUEST_PROMPT)
    # Ctrl-] x: both bytes go on to the guest (its readline drops the
    # control character, keeps the x).
    guest_cmd(r, "echo A\x1dxB", r"(?m)^AxB\r?$")
    r.send("\x1dq", newline="")
    r.expect(r"ended from the host console \(Ctrl-\] q\)")
    r.expect(r"guest [0-9a-f]{8} \(one\) exited")
    r.expect(HOST_PROMPT)
    shell_cmd(r, "vms", r"vms: 0 guests")


# fsbench runs of the busy guest in jos-on-jos-fsconc: long enough (each
# writes, syncs and reads 4 MiB) to outlast the quick guest's whole life.
FSCONC_BUSY_RUNS = 12


@test("jos-on-jos-fsconc-svm", emulator="qemu", cpus=2, timeout=300)
def jos_on_jos_fsconc():
    """The host file server serves several guests at once, interleaved.

    While one guest
    writes, syncs and reads its disk without pause, another guest gets its
    new disk copied (FSREQ_COPY, in steps), boots from it, writes, reads
    and halts, and the first is still busy when it is done (so their
    requests interleaved); then, with one guest paused in the middle of
    disk work, another still reads and writes its own disk, and the first
    finishes once resumed. (The first busy guest is killed rather than
    waited for: its disk work would take minutes more.)"""
    r = host_boot("jos-fsconc")
    shell_cmd(r, "vmm -b -n busy -d /vmm/busy.img",
              r"\(busy\) runs in the background")
    attach(r, "busy")
    r.expect(GUEST_PROMPT)
    guest_send(r, "; ".join(["fsbench"] * FSCONC_BUSY_RUNS + ["halt"]))
    detach(r, "busy")
    r.send("vmm -n quick -d /vmm/quick.img")
    r.expect(GUEST_PROMPT)
    guest_cmd(r, "echo quick > /q; cat /q", r"(?m)^quick\r?$")
    guest_halt(r)
    out = host_cmd(r, "vms", r"vms: \d+ guests?;")
    if not re.search(r"(?m)^[0-9a-f]{8} busy ", out):
        fail("the busy guest had finished before the quick one was done: "
             "nothing shows that their requests interleaved (raise "
             "FSCONC_BUSY_RUNS)")
    # Killed in the middle of its disk work: its bulk window goes with it.
    guest_kill(r, "busy")
    shell_cmd(r, "vmm -b -n busy -d /vmm/busy2.img",
              r"\(busy\) runs in the background")
    attach(r, "busy")
    r.expect(GUEST_PROMPT)
    guest_send(r, "cat /lorem > /a; cat /a > /b; cat /b > /c; fsbench; "
               "echo copies done")
    detach(r, "busy")
    shell_cmd(r, "vmm pause busy", r"\(busy\) paused")
    r.send("vmm -n quick -d /vmm/quick.img")
    r.expect(GUEST_PROMPT)
    guest_cmd(r, "echo quick > /q; cat /q", r"(?m)^quick\r?$")
    guest_halt(r)
    shell_cmd(r, "vmm resume busy", r"\(busy\) resumed")
    attach(r, "busy")
    r.expect(r"(?m)^copies done\r?$", timeout=120)
    guest_send(r, "halt")
    r.expect(r"\(busy\) exited")
    r.expect(HOST_PROMPT)
    guest_problems(r)


@test("qemu-nox-vmm", emulator="qemu", timeout=180)
def qemu_nox_vmm():
    """`make qemu-nox`, then `vmm`: typing into JOS inside JOS under QEMU.

    The headline workflow: `make qemu-nox`, then `vmm`, and a person
    types into JOS inside JOS (AMD-V under TCG). A second `vmm` sees the
    file the first guest wrote. -snapshot keeps the build's fs.img."""
    r = run_make("qemu-nox", label="qemu", QEMUEXTRA="-snapshot")
    r.expect(r"\*\*\* QEMU accelerator: (TCG|KVM)")
    shell(r)
    r.send("vmm")
    r.expect(r"SVM on CPU 0")
    r.expect(r"SVM extension hidden from guest")
    r.expect(GUEST_PROMPT)
    guest_cmd(r, "ls /", r"(?m)^motd\r?$")
    guest_cmd(r, "cat /motd", GUEST_MOTD)
    guest_cmd(r, "echo hi > /f; cat /f", r"(?m)^hi\r?$")
    guest_halt(r)
    r.send("vmm")
    r.expect(GUEST_PROMPT)
    guest_cmd(r, "cat /f", r"(?m)^hi\r?$")
    guest_halt(r)
    guest_problems(r)


# ---- What a new student meets (issue 20) ------------------------------------

# VT100 auto-wrap off (the firmware sends it) and on again.
WRAP_OFF = b"\x1b[?7l"
WRAP_ON = b"\x1b[?7h"


def wrap_restored(raw, since=0):
    """Whether RAW, from byte SINCE on, turns auto-wrap on after the last
    time it turned it off (or ever, when it never turned it off)."""
    off = raw.rfind(WRAP_OFF)
    return raw.find(WRAP_ON, max(off, since)) >= 0


@test("terminal-wrap", emulator="qemu", timeout=90, locks=[GDB_PORTS])
def terminal_wrap():
    """`make qemu-nox` leaves the terminal's auto-wrap on, during and after.

    In the raw byte stream of `make qemu-nox`, the firmware's ESC[?7l
    (auto-wrap off) is followed by the kernel's ESC[?7h by the time the
    shell prompts, and after poweroff ends QEMU the make recipe sends
    ESC[?7h once more, after the kernel's last output."""
    r = run_make("qemu-nox", label="qemu", QEMUEXTRA="-snapshot")
    shell(r)
    if WRAP_OFF not in r.raw:
        fail("no ESC[?7l from the firmware: is the check still needed?")
    if not wrap_restored(r.raw):
        fail("auto-wrap is still off at the shell's prompt")
    r.send("poweroff")
    r.expect(r"poweroff: file system synced")
    r.wait(timeout=30)
    synced = r.raw.rfind(b"poweroff: file system synced")
    if not wrap_restored(r.raw, synced):
        fail("make qemu-nox did not turn auto-wrap on after QEMU ended: "
             "last bytes %r" % r.raw[-80:])


@test("terminal-wrap-bochs", emulator="bochs", timeout=180)
def terminal_wrap_bochs():
    """Under Bochs too the kernel's console turns auto-wrap on at start-up.

    The serial console's raw bytes hold ESC[?7h (after any ESC[?7l) by
    the time the shell prompts."""
    r = boot(input=True, disks=[KERNEL_IMG, fs_image_copy("wrap-bochs")])
    shell(r)
    if not wrap_restored(r.raw) or WRAP_ON not in r.raw:
        fail("no ESC[?7h on the serial console")


# The per-env lines `envmsgs off` silences.
ENV_MSGS = r"\[[0-9a-f]{8}\] (new env|exiting gracefully|free env)"


@test("envmsgs", emulator="qemu", timeout=90)
def envmsgs():
    """`kmon envmsgs off` silences the per-env lines; `on` restores them.

    By default a command prints `[id] new env`, `exiting gracefully` and
    `free env` lines; after `kmon envmsgs off` the same command prints
    none of them, and after `kmon envmsgs on` they are back."""
    r = boot(input=True, disks=[KERNEL_IMG, fs_image_copy("envmsgs")])
    shell(r)
    out = host_cmd(r, "echo loud one", r"(?m)^loud one\r?$")
    if not re.search(ENV_MSGS, out):
        fail("no per-env lines by default:\n%s" % out)
    shell_cmd(r, "kmon envmsgs off", r"envmsgs: the per-env lines are off")
    out = host_cmd(r, "echo quiet", r"(?m)^quiet\r?$")
    if re.search(ENV_MSGS, out):
        fail("per-env lines after envmsgs off:\n%s" % out)
    shell_cmd(r, "kmon envmsgs on", r"envmsgs: the per-env lines are on")
    out = host_cmd(r, "echo loud two", r"(?m)^loud two\r?$")
    if not re.search(ENV_MSGS, out):
        fail("no per-env lines after envmsgs on:\n%s" % out)


def expect_quiet(r, seconds):
    """Wait SECONDS; return what came meanwhile (nothing is typed)."""
    start = len(r.text)
    time.sleep(seconds)
    return r.text[start:]


@vmm_test("vmm-console", bochs_timeout=600, qemu_timeout=180)
def vmm_console():
    """Notices keep the prompt; re-attach shows the prompt; motd is true.

    A background guest's notices (its first run on a CPU, its exit) start
    on a line of their own and a fresh host prompt follows them; a
    background guest whose command line names no program says so on the
    host console; a guest detached at its prompt shows that prompt again
    when re-attached, with nothing typed; a guest on /vmm/m.img says its
    disk is /vmm/m.img and its message of the day does not claim
    /vmm/fs.img."""
    r = host_boot("vmm-console")
    start = len(r.text)
    r.send("vmm -b -n nop nosuchprog")
    r.expect(r"vmm: guest [0-9a-f]{8} \(nop\): kernel command line: no "
             r"program named 'nosuchprog'")
    r.expect(r"vmm: guest [0-9a-f]{8} exited with status")
    r.expect(r"guest [0-9a-f]{8} freed")
    r.expect(HOST_PROMPT)
    late = r.text[start:]
    for line in (cpu_on_line(0), "vmm: guest"):
        if re.search(r"(?m)^\$ .*%s" % re.escape(line), late):
            fail("a notice was printed after the prompt on its line:\n%s"
                 % late)
    if not re.search(r"freed[^\n]*\n(.*\n)*\$ ", late):
        fail("no fresh prompt after the guest's notices:\n%s" % late)
    shell_cmd(r, "echo prompt is back", r"(?m)^prompt is back\r?$")
    shell_cmd(r, "vmm -b -n a", r"\(a\) runs in the background")
    attach(r, "a")
    r.expect(GUEST_PROMPT)
    detach(r, "a")
    start = len(r.text)
    attach(r, "a")
    late = r.text[start:] + expect_quiet(r, 10)
    if not re.search(GUEST_PROMPT, late):
        fail("re-attach showed no prompt within 10 s:\n%s" % late)
    guest_send(r, "halt")
    r.expect(r"guest [0-9a-f]{8} \(a\) exited")
    r.expect(HOST_PROMPT)
    start = len(r.text)
    guest_boot(r, "vmm -n m -d /vmm/m.img")
    boot_text = r.text[start:]
    if "FS: the disk is the host's /vmm/m.img" not in boot_text:
        fail("the guest on /vmm/m.img did not name its disk:\n%s"
             % boot_text[-1500:])
    motd = boot_text[re.search(GUEST_MOTD, boot_text).start():]
    if "/vmm/fs.img" in motd:
        fail("the motd of a guest on /vmm/m.img claims /vmm/fs.img:\n%s"
             % motd)
    guest_halt(r)
    guest_problems(r)


def vms_state(out, name):
    """The state word vms (or kmon vms) OUT shows for guest NAME."""
    m = re.search(r"(?m)^[0-9a-f]{8}\s+%s\s+\S+\s+.*?\b(foreground|"
                  r"background|paused|stopped)\b" % name, out)
    return m.group(1) if m else None


@vmm_test("vmm-refuse", bochs_timeout=600, qemu_timeout=180)
def vmm_refuse():
    """Refusals in one line, nothing made; vms and kmon vms agree.

    A second guest on a disk in use, or with a name in use, is refused
    in one line before anything is made (no guest created or destroyed,
    vms lists one guest, free pages unchanged); -m beyond the host's free
    memory is refused with how much there is; `vms` and `kmon vms` show
    the same state word for a background and for a paused guest, and the
    CPU column says its unit."""
    r = host_boot("vmm-refuse")
    shell_cmd(r, "vmm -b -n a -d /vmm/a.img",
              r"\(a\) runs in the background")
    # Its boot and notices settle first: free pages then hold still.
    attach(r, "a")
    r.expect(GUEST_PROMPT)
    detach(r, "a")
    before, out = vms_free(r, 1)
    if "CPU(ms)" not in out:
        fail("vms' CPU column does not say ms:\n%s" % out)
    for line, why in (("vmm -b -n c -d /vmm/a.img",
                       r"vmm: /vmm/a\.img is the disk of another running "
                       r"guest"),
                      ("vmm -b -n a -d /vmm/c.img",
                       r"vmm: a guest named a runs already")):
        out = host_cmd(r, line, why)
        said = [l for l in out.splitlines()[1:] if l.strip()
                and not re.match(r"\$ |\[[0-9a-f]{8}\] ", l)]
        if len(said) != 1 or re.search(r"created|destroying|guest [0-9a-f]{8} freed",
                                         out):
            fail("%s: not one line, or a guest was made:\n%s" % (line, out))
    after, out = vms_free(r, 1)
    if after != before:
        fail("free pages %d before the refusals, %d after" % (before, after))
    out = host_cmd(r, "vmm -m 1024", r"vmm: -m 1024: the host has \d+ MiB "
                   r"free \(\d+ pages\)")
    if re.search(r"created", out):
        fail("vmm -m 1024 made a guest:\n%s" % out)
    for verb, word in (("resume", "background"), ("pause", "paused")):
        shell_cmd(r, "vmm %s a" % verb)
        words = (vms_state(host_cmd(r, "vms"), "a"),
                 vms_state(kmon_cmd(r, "vms"), "a"))
        if words != (word, word):
            fail("vms and kmon vms say %s and %s, not %s" % (words + (word,)))
    guest_kill(r, "a")
    guest_problems(r)
