"""Tests of the file system, descriptors, pipes, spawn and the shell.

Each test boots "fs NAME": the file-system server (env 00001000), then
NAME (00001001).  The server stays alive, blocked in ipc_recv, when the
rest is done, so there is no leak check: the system ends in the monitor
with one env still there.  A test that writes its disk boots a private
copy (helpers.fs_image_copy)."""

import re

from grade.config import KERNEL_IMG
from grade.emulators import boot
from grade.helpers import (FSOPEN_CLIENT_MAX, PANIC, PROMPT, USER_PANIC,
                           expect_line, fs_image_copy, in_order, long_line,
                           shell, shell_cmd)
from grade.make import run_make
from grade.registry import fail, test


# The FS server's last start-up line (fs/check.c): it prints no more.
FS_READY = r"file rewrite is good\n"


def run_fs(program, *patterns, no=(), disks=None, **kw):
    """Boot "fs PROGRAM" and wait for PATTERNS (any order), then the
    monitor prompt; fail on a kernel or user panic or a pattern of NO."""
    if disks is not None:
        kw["disks"] = disks
    r = boot("fs+" + program, **kw)
    r.match(*(list(patterns) + [PROMPT]),
            no=list(no) + PANIC + USER_PANIC)
    return r


@test("fs-testfs", emulator="qemu", timeout=60)
def fs_testfs():
    """Raw IPC, malformed requests included: the server never crashes;
    one client gets exactly its share of the open files, and another
    still opens one beside it."""
    run_fs("testfs", r"testfs: another client opens beside a full share",
           r"testfs: %d open files OK" % FSOPEN_CLIENT_MAX,
           r"testfs: all tests passed",
           disks=[KERNEL_IMG, fs_image_copy("testfs")])


@test("fs-testfile", emulator="qemu", timeout=60)
def fs_testfile():
    """File operations through the FS server (open, read, a large
    file, ftruncate, path normalization, remove) pass, in order."""
    r = run_fs("testfile", r"testfile: all tests passed",
               disks=[KERNEL_IMG, fs_image_copy("testfile")])
    in_order(r, r"open nonexistent is good", r"read is good",
             r"large file is good", r"ftruncate is good",
             r"path normalization is good", r"remove is good",
             r"testfile: all tests passed")


@test("fs-spawnhello", emulator="qemu", timeout=60)
def fs_spawnhello():
    """spawn loads /bin/hello from the file system as a new env,
    which prints and exits."""
    r = run_fs("spawnhello", r"i am parent environment 00001001",
               r"hello, world", r"i am environment 00001002")
    in_order(r, r"\[00001001\] new env 00001002", r"hello, world",
             r"\[00001002\] exiting gracefully")


@test("fs-testpteshare", emulator="qemu", timeout=60)
def fs_testpteshare():
    """A PTE_SHARE page stays shared, not copied, across fork and
    across spawn."""
    run_fs("testpteshare", r"fork handles PTE_SHARE right",
           r"spawn handles PTE_SHARE right")


@test("fs-testfdsharing", emulator="qemu", timeout=60)
def fs_testfdsharing():
    """A forked child shares its parent's open file, offset
    included."""
    run_fs("testfdsharing", r"read in child succeeded",
           r"read in parent succeeded")


@test("fs-testpipe", emulator="qemu", timeout=60)
def fs_testpipe():
    """Data goes through a pipe intact, and closing either end is seen.

    The reader sees end of file once the writer closes, the writer an
    error once the reader closes."""
    run_fs("testpipe", r"pipe read closed properly",
           r"pipe write closed properly", r"pipe tests passed")


@test("fs-testpiperace", emulator="qemu", timeout=90)
def fs_testpiperace():
    """pipeisclosed never reports a pipe closed while another env
    dups and closes its read end."""
    run_fs("testpiperace", r"race didn't happen",
           no=[r"the other end of p\[0\] got closed"])


@test("fs-testpiperace2", emulator="qemu", timeout=90)
def fs_testpiperace2():
    """pipeisclosed never reports a pipe closed while another env
    dups and closes its write end."""
    run_fs("testpiperace2", r"race didn't happen",
           no=[r"the other end of p\[0\] got closed"])


@test("fs-primespipe", emulator="qemu", timeout=120)
def fs_primespipe():
    """The prime sieve built from fork and pipes prints exactly the
    primes below 1000."""
    r = run_fs("primespipe", r"primespipe: done")
    got = [int(x) for x in re.findall(r"(?m)^(\d+)$", r.text)]
    want = [n for n in range(2, 1000)
            if all(n % d for d in range(2, int(n ** 0.5) + 1))]
    if sorted(got) != want:
        fail("primespipe printed %d primes, wanted the %d below 1000"
             % (len(got), len(want)))


@test("fs-writemotd", emulator="qemu", timeout=60)
def fs_writemotd():
    """A program rewrites /motd with /newmotd's text on a copy of the
    disk and reads back the new text."""
    disk = fs_image_copy("writemotd")
    r = run_fs("writemotd",
               r"NEW MOTD\n===\nThis is the NEW message of the day!\n\n===",
               disks=[KERNEL_IMG, disk])
    in_order(r, r"OLD MOTD\n===\nThis is /motd,", r"NEW MOTD",
             r"This is the NEW message of the day!")


@test("fs-icode", emulator="qemu", timeout=60)
def fs_icode():
    """icode shows /motd and spawns init with arguments; init checks its
    data and bss and starts sh, which prompts on the console."""
    r = boot("fs+icode")
    r.match(r"icode: read /motd", r"This is /motd, the message of the day",
            r"init: data seems okay", r"init: bss seems okay",
            r"init: args: 'init' 'initarg1' 'initarg2'",
            r"init: starting sh", r"(?m)^\$ ", no=PANIC + USER_PANIC)


@test("fs-sh-typed", emulator="qemu", timeout=90)
def fs_sh_typed():
    """Commands typed at the serial console: a pipe, then ls /bin."""
    r = boot("fs+icode", disks=[KERNEL_IMG, fs_image_copy("sh-typed")])
    shell(r)
    shell_cmd(r, "echo hello | cat", r"(?m)^hello\r?$")
    shell_cmd(r, "ls /bin", r"(?m)^sh\r?$")
    for name in ("cat", "echo", "ls", "init", "testshell"):
        if not re.search(r"(?m)^%s\r?$" % name, r.text):
            fail("ls /bin did not list %s" % name)
    shell_cmd(r, "echo one two three | wc",
              r"(?m)^\s+1\s+3\s+14\r?$")
    shell_cmd(r, "echo 'a  b' > /typed; cat /typed", r"(?m)^a  b\r?$")


@test("qemu-nox-shell", emulator="qemu", timeout=90)
def qemu_nox_shell():
    """`make qemu-nox` boots to the shell, which runs typed commands.

    `make qemu-nox` (the default command line: fs icode) reaches the
    shell, which runs commands typed at the serial console. -snapshot
    keeps the build's fs.img unchanged."""
    r = run_make("qemu-nox", label="qemu", QEMUEXTRA="-snapshot")
    shell(r)
    shell_cmd(r, "echo hello | cat", r"(?m)^hello\r?$")
    shell_cmd(r, "ls /bin", r"(?m)^sh\r?$")


@test("bochs-shell", emulator="bochs", cpus=2, timeout=240)
def bochs_shell():
    """The default boot under Bochs (VMX CPU model, 2 CPUs) reaches the
    shell, which runs a typed pipeline and ls, and takes a 4 KiB line
    pasted at full speed whole (Bochs' UART overran on 2 CPUs once)."""
    r = boot(input=True, disks=[KERNEL_IMG, fs_image_copy("bochs-shell")])
    shell(r)
    shell_cmd(r, "echo hello | cat", r"(?m)^hello\r?$")
    shell_cmd(r, "ls /bin", r"(?m)^sh\r?$")
    line, echoed = long_line()
    r.send(line)
    expect_line(r, echoed)
    r.expect(r"(?m)^\$ ")
    if re.search(r"console: .*input was dropped", r.text):
        fail("the console dropped input")


@test("fs-testshell", emulator="qemu", timeout=120)
def fs_testshell():
    """sh -x runs fs/testshell.sh; its output equals fs/testshell.key."""
    run_fs("testshell", r"testshell: shell ran correctly",
           no=[r"testshell: output differs"],
           disks=[KERNEL_IMG, fs_image_copy("testshell")])


@test("fs-testkbd", emulator="qemu", timeout=60)
def fs_testkbd():
    """Console input through the console device. The typing waits for the
    FS server's last start-up line: its lines would split the echo."""
    r = boot("fs+testkbd")
    r.match(FS_READY, r"Type a line: ")
    r.send("typed into testkbd")
    r.expect(r"typed into testkbd\r?\n(.*\n)?typed into testkbd")
    r.expect(r"Type a line: ")


@test("fs-durability", emulator="qemu", timeout=120)
def fs_durability():
    """A file written and synced survives a reboot on the same disk."""
    disk = fs_image_copy("durability")
    r = boot("fs+icode", disks=[KERNEL_IMG, disk])
    shell(r)
    shell_cmd(r, "echo durable 31337 > /durable")
    shell_cmd(r, "sync")
    r.kill()
    r = boot("fs+icode", disks=[KERNEL_IMG, disk], label="reboot")
    shell(r)
    shell_cmd(r, "cat /durable", r"(?m)^durable 31337\r?$")
