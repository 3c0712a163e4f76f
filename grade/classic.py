"""Tests that programs written for the classic 64-bit JOS labs build here
unchanged and print the lines the classic graders match
(docs/jos-api.md): the warning set, the user layout, the trap-frame dump,
the FS server's self-checks, the disk's files and sh -x (divzero and the
fault tests are in processes.py).

Invariants: the classic programs and files are built as the labs build
them; a test here never changes the build."""

import os
import re
import subprocess

from grade.config import FS_IMG, GRADEDIR, KERNEL_IMG
from grade.emulators import boot
from grade.helpers import (PANIC, PROMPT, USER_PANIC, fs_image_copy, in_order,
                           run_user, shell, shell_cmd, user_test)
from grade.registry import fail, test


def compile_command(obj, src):
    """The compiler command make would run for SRC (-> OBJ), from a dry
    run that takes SRC as changed."""
    out = subprocess.run(["make", "-n", "--no-print-directory", "V=",
                          "-W", src, obj], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         timeout=60)
    for line in out.stdout.decode(errors="replace").splitlines():
        if " -c " in line and line.rstrip().endswith(src):
            return line.split()
    fail("make -n %s shows no compile command for %s" % (obj, src))


CLASSIC_WARN = ["-Wall", "-Wno-format", "-Wno-unused", "-Werror"]
STRICT_WARN = ["-Wall", "-Wextra", "-Werror"]


@test("classic-warnings", emulator=None, timeout=60)
def classic_warnings():
    """User programs build with the classic warnings, the rest strictly.

    User programs build with the classic labs' warnings and no -Wextra,
    and keep a division by zero (-fnon-call-exceptions); the kernel, the
    library and the FS server keep the strict set."""
    argv = compile_command("obj/user/hello.o", "user/hello.c")
    missing = [f for f in CLASSIC_WARN + ["-fnon-call-exceptions"]
               if f not in argv]
    if missing or "-Wextra" in argv:
        fail("user programs build with %s" % " ".join(
            f for f in argv if f.startswith(("-W", "-fnon"))))
    for obj, src in (("obj/kern/init.o", "kern/init.c"),
                     ("obj/lib/exit.o", "lib/exit.c"),
                     ("obj/fs/serv.o", "fs/serv.c")):
        argv = compile_command(obj, src)
        if any(f not in argv for f in STRICT_WARN) or "-Wno-unused" in argv:
            fail("%s builds without the strict warnings: %s" % (src, " ".join(
                f for f in argv if f.startswith("-W"))))


# classiccode has what only the classic warning set accepts: it runs at all
# only if it built.
user_test("classiccode", r"classiccode: sum 6, env 00001000\n",
          r"classiccode: built with the classic warnings\n",
          r"\[00001000\] exiting gracefully",
          doc="""A program that builds only with the classic labs' warning
             set runs and prints its lines.""")


@test("uxstack", emulator="qemu", timeout=30)
def uxstack():
    """The classic user stack layout: exception stack below 0xef800000.

    The classic user layout: the exception stack below 0xef800000, the
    normal stack two pages lower; a fault on the gone exception stack
    reports va ef7ff..."""
    seq = [r"uxstack: UXSTACKTOP ef800000 USTACKTOP ef7fe000\n",
           r"uxstack: main's stack at ef7fd[0-9a-f]{3}\n",
           r"uxstack: fault at va deadbeef; handler's stack at "
           r"ef7ff[0-9a-f]{3}\n",
           r"uxstack: reading the top of the exception stack\n",
           r"\[00001000\] user fault va ef7ffffc ip 008[0-9a-f]{5}\n",
           r"  cr2  0xef7ffffc\n",
           r"  err  0x00000004 \[user, read, not-present\]\n",
           r"  rsp  0xef7fd[0-9a-f]{3}\n",
           r"\[00001000\] free env 00001000"]
    r = run_user("uxstack", *seq, no=USER_PANIC + [r"still alive"])
    in_order(r, *seq)


# A value in the dump: 8 hex digits, more only when the value needs them.
HEX = r"0x(?:[0-9a-f]{8}|[1-9a-f][0-9a-f]{8,15})"


def classic_dump(trap, name, **known):
    """The whole classic trap-frame dump of a user trap, line by line;
    KNOWN gives some registers' exact values."""
    regs = ("r15 r14 r13 r12 r11 r10 r9 r8 rsi rdi rbp rdx rcx rbx "
            "rax").split()
    lines = [r"TRAP frame at 0x[0-9a-f]+ from CPU \d+\n"]
    lines += [r"  %-4s %s\n" % (reg, re.escape(known[reg]) if reg in known
                                 else HEX) for reg in regs]
    lines += [r"  es   0x----0023\n", r"  ds   0x----0023\n",
              r"  trap 0x%08x %s\n" % (trap, re.escape(name)),
              r"  err  0x00000000\n", r"  rip  0x008[0-9a-f]{5}\n",
              r"  cs   0x----001b\n", r"  rflag 0x00000[0-9a-f]{3}\n",
              r"  rsp  0xef7fd[0-9a-f]{3}\n", r"  ss   0x----0023\n"]
    return "".join(lines)


@test("trapdump", emulator="qemu", timeout=30)
def trapdump():
    """The trap-frame dump in the classic format: a short value in 8 digits
    (r15 0x0000000f), a long one in full (r14 0x123456789a)."""
    run_user("trapdump", r"trapdump: executing ud2\n",
             classic_dump(6, "Invalid Opcode", r15="0x0000000f",
                          r14="0x123456789a", r13="0xdeadbeef"),
             r"\[00001000\] free env 00001000",
             no=USER_PANIC + [r"still alive"])


@test("divzero-dump", emulator="qemu", timeout=30)
def divzero_dump():
    """The classic divzero (1 / a global set to 0) really divides: a divide
    error, dumped in the classic format."""
    run_user("divzero", classic_dump(0, "Divide error", rax="0x00000001"),
             r"\[00001000\] free env 00001000", no=USER_PANIC + [r"1/0 is"])


# The FS server's start-up lines, classic lab 5's among them, in order.
FS_SELF_CHECKS = [r"FS is running", r"FS can do I/O", r"superblock is good",
                  r"bitmap is good", r"block cache is good",
                  r"alloc_block is good", r"file_open is good",
                  r"file_get_block is good", r"file_flush is good",
                  r"file_truncate is good", r"file rewrite is good"]
FSFORMAT = os.path.join("obj", "fs", "fsformat")


def first_difference(path_a, path_b):
    """None if the two files hold the same bytes, else the first 4 KiB
    block where they differ (or 'size')."""
    with open(path_a, "rb") as a, open(path_b, "rb") as b:
        block = 0
        while True:
            x, y = a.read(4096), b.read(4096)
            if x != y:
                return "size" if len(x) != len(y) else block
            if not x:
                return None
            block += 1


@test("fs-selfcheck", emulator="qemu", timeout=60)
def fs_selfcheck():
    """The server's classic self-checks pass at start-up and leave the disk
    exactly as it was, byte for byte."""
    disk = fs_image_copy("selfcheck")
    r = boot("fs", disks=[KERNEL_IMG, disk])
    r.match(*FS_SELF_CHECKS + [PROMPT], no=PANIC + USER_PANIC)
    in_order(r, *FS_SELF_CHECKS)
    r.kill()
    diff = first_difference(FS_IMG, disk)
    if diff is not None:
        fail("the self-checks changed the disk (%s %s differs)"
             % ("its" if diff == "size" else "block", diff))


@test("fs-selfcheck-leftover", emulator="qemu", timeout=60)
def fs_selfcheck_leftover():
    """A self-check's leftover scratch file is removed at the next start.

    The scratch file of self-checks that a crash interrupted is removed
    at the next start, which then checks as usual; the disk stays sound."""
    disk = os.path.join(GRADEDIR, "leftover.fs.img")
    os.makedirs(GRADEDIR, exist_ok=True)
    subprocess.run([FSFORMAT, disk, "1024", "/motd=fs/motd",
                    "/.fs-selfcheck=fs/lorem"], check=True,
                   stdin=subprocess.DEVNULL)
    r = boot("fs", disks=[KERNEL_IMG, disk])
    r.match(r"FS: removing /\.fs-selfcheck, left by an interrupted "
            r"self-check", *FS_SELF_CHECKS + [PROMPT],
            no=PANIC + USER_PANIC)
    r.kill()
    out = subprocess.run([FSFORMAT, "-c", disk], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    listing = out.stdout.decode(errors="replace")
    if out.returncode != 0 or ".fs-selfcheck" in listing or \
            "motd" not in listing:
        fail("fsformat -c after the checks: status %d\n%s"
             % (out.returncode, listing))


@test("fs-selfcheck-full", emulator="qemu", timeout=60)
def fs_selfcheck_full():
    """On a disk with too few free blocks for them, the self-checks step
    aside and the server still serves."""
    disk = os.path.join(GRADEDIR, "full.fs.img")
    os.makedirs(GRADEDIR, exist_ok=True)
    subprocess.run([FSFORMAT, disk, "8", "/motd=fs/motd"], check=True,
                   stdin=subprocess.DEVNULL)
    r = boot("fs+icode", disks=[KERNEL_IMG, disk])
    r.match(r"FS self-check skipped: 3 free blocks",
            r"icode: read /motd\nThis is /motd, the message of the day\.",
            PROMPT, no=PANIC + [r"block cache is good"])


NEWMOTD = b"This is the NEW message of the day!\n\n"


def image_file(path):
    """The bytes of PATH in the build's fs.img (fsformat -x)."""
    out = subprocess.run([FSFORMAT, "-x", FS_IMG, path],
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        fail("fs.img has no %s" % path)
    return out.stdout


@test("fs-classicfiles", emulator="qemu", timeout=60)
def fs_classicfiles():
    """The disk holds the classic /newmotd, /motd and /sbin/init.

    The classic files: /newmotd is exactly the classic 37 bytes, /motd
    opens with its classic line, and /sbin/init is init, which a program
    spawns as classic icode does."""
    if image_file("/newmotd") != NEWMOTD or len(NEWMOTD) != 37:
        fail("/newmotd holds %r" % image_file("/newmotd"))
    if not image_file("/motd").startswith(
            b"This is /motd, the message of the day.\n"):
        fail("/motd does not open with the classic line")
    if image_file("/sbin/init") != image_file("/bin/init"):
        fail("/sbin/init is not /bin/init")
    seq = [r"classicfiles: /newmotd is 37 bytes\n",
           r"classicfiles: /newmotd holds the classic message\n",
           r"classicfiles: /motd opens with the classic line\n",
           r"classicfiles: /sbin/init is /bin/init\n",
           r"classicfiles: spawn /sbin/init\n", r"init: data seems okay",
           r"init: bss seems okay",
           r"init: args: 'init' 'initarg1' 'initarg2'",
           r"init: starting sh", r"(?m)^\$ "]
    r = boot("fs+classicfiles")
    r.match(*seq, no=PANIC + USER_PANIC)
    in_order(r, *seq)


@test("fs-sh-x", emulator="qemu", timeout=90)
def fs_sh_x():
    """sh -x echoes each line it runs as "# LINE", as the classic shell
    does, on its standard output, before the line's output."""
    r = boot("fs+icode", disks=[KERNEL_IMG, fs_image_copy("sh-x")])
    shell(r)
    shell_cmd(r, "echo 'echo one; echo two' | sh -x",
              r"(?m)^# echo one; echo two\r?\n", r"(?m)^one\r?\n",
              r"(?m)^two\r?\n")
