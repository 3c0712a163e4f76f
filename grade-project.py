#!/usr/bin/env python3
"""The JOS-in-JOS test suite.  `make grade` runs it after a clean build;
`make grade TESTS='boot-*,gdb'` runs some of it; `python3 grade-project.py
--list` names the tests.  The machinery is in gradelib.py."""

import itertools
import os
import re
import shutil
import signal
import sys
import time

from gradelib import (DEFAULT_CPUS, FS_IMG, GRADEDIR, KERNEL_IMG, boot,
                      current_test, fail, gdb_port, main, make_target,
                      make_var, port_in_use, run_gdb, run_make, test, wait_listening)

# What a good boot prints (banner, self-checks), in any order; a panic fails the test at once.
SELF_CHECKS = [
    r"JOS-in-JOS: x86-64 kernel booting",
    r"check_page_free_list\(\) succeeded!",
    r"check_page_alloc\(\) succeeded!",
    r"check_page\(\) succeeded!",
    r"check_boot_pml4e\(\) succeeded!",
]
MONITOR = [r"Welcome to the JOS kernel monitor!", r"(?m)^K> "]
PANIC = [r"kernel panic"]


# ---- Boot -----------------------------------------------------------------

@test("boot-qemu", emulator="qemu", timeout=30)
def boot_qemu():
    boot("monitor").match(*SELF_CHECKS + MONITOR, no=PANIC)


@test("boot-bochs", emulator="bochs", timeout=120)
def boot_bochs():
    boot("monitor").match(*SELF_CHECKS + MONITOR, no=PANIC)



@test("boot-mem-64m", emulator="qemu", mem=64, timeout=30)
def boot_mem_64m():
    boot("monitor").match(*SELF_CHECKS + MONITOR, no=PANIC)


@test("boot-mem-6g", emulator="qemu", mem=6144, timeout=60)
def boot_mem_6g():
    """QEMU puts the memory beyond its PCI hole above 4 GiB: the kernel
    must count it, map it and pass its self-checks."""
    r = boot("monitor")
    r.match(*SELF_CHECKS + MONITOR, no=PANIC)
    m = re.search(r"highest address ([0-9a-f]+)", r.text)
    if not m or int(m.group(1), 16) <= 1 << 32:
        fail("the kernel did not find the memory above 4 GiB")


# ---- Backtrace --------------------------------------------------------------

FRAME = re.compile(r"^\s*rbp\s+([0-9a-f]{16})\s+rip\s+([0-9a-f]{16})"
                   r"\s+args\s*(.*)$")
WHERE = re.compile(r"^\s+(\S+):(\d+): ([A-Za-z_][\w.]*)\+\S+\s*$")


def backtrace_frames(text, start=0):
    """Parse the first 'Stack backtrace:' at or after START into a list of
    dicts (rbp, rip, args, file, line, func), one per frame.  Fails unless
    every frame line is followed by its 'file:line: function+offset'."""
    at = text.find("Stack backtrace:", start)
    if at < 0:
        fail("no 'Stack backtrace:' in the output")
    lines = text[at:].split("\n")[1:]
    frames = []
    i = 0
    while i < len(lines):
        frame = FRAME.match(lines[i])
        if not frame:
            break
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        where = WHERE.match(nxt)
        if not where:
            fail("frame %d has no 'file:line: function+offset' line: %r"
                 % (len(frames), nxt))
        frames.append(dict(rbp=int(frame.group(1), 16),
                           rip=int(frame.group(2), 16),
                           args=frame.group(3).split(),
                           file=where.group(1), line=int(where.group(2)),
                           func=where.group(3)))
        i += 2
    if not frames:
        fail("'Stack backtrace:' is followed by no frame line")
    return frames


@test("backtrace", emulator="qemu", timeout=30)
def backtrace():
    """The boot-time test_backtrace(5) -> ... -> test_backtrace(0) ->
    mon_backtrace: six test_backtrace frames, innermost first, each with
    its argument, then i386_init; every frame with file:line: function."""
    r = boot("monitor")
    r.match(r"Stack backtrace:", *MONITOR, no=PANIC)
    for x in range(5, -1, -1):
        r.expect(r"entering test_backtrace %d\n" % x)
    frames = backtrace_frames(r.text)
    for x in range(6):
        r.expect(r"leaving test_backtrace %d\n" % x)
    tb = [f for f in frames if f["func"] == "test_backtrace"]
    names = [f["func"] for f in frames]
    if len(tb) != 6:
        fail("expected 6 test_backtrace frames, got %s" % names)
    for x, f in enumerate(tb):
        if f["file"] != "kern/init.c":
            fail("test_backtrace placed in %s:%d" % (f["file"], f["line"]))
        if not f["args"] or not re.fullmatch(r"0*%x" % x, f["args"][0]):
            fail("frame of test_backtrace(%d) shows args %s" % (x, f["args"]))
    if "i386_init" not in names[names.index("test_backtrace"):]:
        fail("no i386_init frame after the test_backtrace frames: %s"
             % names)
    rbps = [f["rbp"] for f in frames]
    if rbps != sorted(rbps) or len(set(rbps)) != len(rbps):
        fail("frame pointers do not climb the stack: %s"
             % " ".join("%x" % v for v in rbps))


# ---- Monitor (typed input) ------------------------------------------------

def monitor_session(r):
    r.expect(r"Welcome to the JOS kernel monitor!")
    r.expect(r"(?m)^K> ")
    r.send("help")
    r.expect(r"(?m)^help - ")
    r.expect(r"(?m)^K> ")
    r.send("backtrace")
    r.expect(r"(?m)^K> ")
    frames = backtrace_frames(r.text, r.text.rfind("backtrace\n"))
    names = [f["func"] for f in frames]
    if "monitor" not in names:
        fail("no monitor frame in the backtrace command's output: %s"
             % names)


@test("monitor-qemu", emulator="qemu", timeout=30)
def monitor_qemu():
    monitor_session(boot("monitor"))


@test("monitor-bochs", emulator="bochs", timeout=120)
def monitor_bochs():
    monitor_session(boot("monitor", input=True))


# ---- gdb --------------------------------------------------------------------

@test("gdb", emulator="qemu", timeout=60)
def gdb():
    port = gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another `make qemu-gdb`?)" % port)
    q = run_make("qemu-nox-gdb", label="qemu")
    wait_listening(port, q)
    g = run_gdb("break i386_init", "continue", "bt", "print npages",
                gdbinit=".gdbinit")
    g.wait()
    g.match(r"Breakpoint 1, (0x[0-9a-f]+ in )?i386_init \(",
            r"(?m)^#0\s+(0x[0-9a-f]+ in )?i386_init \(.*\) at kern/init\.c:\d+",
            r"(?m)^\$1 = \d+$")



# ---- User programs (processes) --------------------------------------------
#
# Each test boots the kernel with one user program as the first env
# (obj/kern/kernel-NAME.img, what `make run-NAME-nox` boots) and checks the
# program's output and the kernel's messages. The first env is always
# 00001000 (envs[0], generation 1), its first child 00001001.
#
# Every test also waits until every env is gone and checks that the
# kernel got back every page: "Free pages: M" after "No runnable
# environments in the system!" equals "Free pages before the first env: N"
# (breakpoint first resumes its env from the monitor).

FREE_BEFORE = r"Free pages before the first env: (\d+)"
FREE_AFTER = r"No runnable environments in the system!\nFree pages: (\d+)"
PROMPT = r"(?m)^K> "
USER_PANIC = [r"user panic"]


def check_free_pages(r):
    """N == M, as described above."""
    before = re.search(FREE_BEFORE, r.text)
    after = re.search(FREE_AFTER, r.text)
    if not before or not after:
        fail("no 'Free pages' line %s the envs ran"
             % ("before" if not before else "after"))
    if before.group(1) != after.group(1):
        fail("pages leaked: %s free before the first env, %s at the end"
             % (before.group(1), after.group(1)))


def in_order(r, *patterns):
    """Each of PATTERNS occurs after the previous one in the output."""
    pos = 0
    for p in patterns:
        m = re.compile(p, re.MULTILINE).search(r.text, pos)
        if not m:
            line = r.text[r.text.rfind("\n", 0, pos) + 1:pos]
            fail("expected %r after %s" % (p, repr(line) if pos
                                            else "the start"))
        pos = m.end()


def run_user(program, *patterns, no=(), leak_check=True, **kw):
    """Boot with PROGRAM as the first env and wait until every one of
    PATTERNS has appeared and the system is done (the monitor prompt,
    after the final free-page count unless leak_check is False); fail on a
    kernel panic or on a pattern of NO. Returns the run."""
    r = boot(program, **kw)
    end = [FREE_AFTER, PROMPT] if leak_check else [PROMPT]
    r.match(*(list(patterns) + end), no=list(no) + PANIC)
    if leak_check:
        check_free_pages(r)
    return r


def user_test(name, *patterns, no=USER_PANIC, timeout=30):
    """Register the QEMU test NAME that only needs run_user's checks."""
    @test(name, emulator="qemu", timeout=timeout)
    def check():
        run_user(name, *patterns, no=no)
    return check


# The kernel's report of a fatal user fault, and the env going away.
def user_fault(va, trap, err=None):
    pats = [r"\[00001000\] user fault va %s ip 008[0-9a-f]{5}\n" % va
            if va else r"TRAP frame at 0x[0-9a-f]+ from CPU \d+",
            r"  trap 0x%08x " % trap,
            r"\[00001000\] free env 00001000"]
    if err:
        pats.append(r"  err  0x%08x %s" % (err[0], re.escape(err[1])))
    return pats


def mem_check(va):
    return [r"\[00001000\] user_mem_check assertion failure for va %s\n" % va,
            r"\[00001000\] free env 00001000"]


user_test("hello", r"hello, world\n", r"i am environment 00001000\n",
          r"\[00001000\] exiting gracefully",
          r"\[00001000\] free env 00001000")

# sys_cputs with pointers the env does not own: the kernel checks them.
user_test("buggyhello", *mem_check("00000001"),
          no=USER_PANIC + [r"still alive"])
user_test("buggyhello2", *mem_check("008[0-9a-f]{2}000"),
          no=USER_PANIC + [r"still alive", r"hello, world"])
user_test("evilhello", *mem_check("ffffffff80100000"),
          no=USER_PANIC + [r"still alive"])

# Exceptions in user mode destroy the env (with the trap frame printed).
user_test("divzero", *user_fault(None, 0) + [r"trap 0x00000000 Divide error"],
          no=USER_PANIC + [r"1/0 is"])
user_test("softint", *user_fault(None, 13) +
          [r"trap 0x0000000d General Protection"],
          no=USER_PANIC + [r"still alive", r"trap 0x0000000e"])
user_test("badsegment", *user_fault(None, 13) +
          [r"trap 0x0000000d General Protection"],
          no=USER_PANIC + [r"still alive"])
user_test("faultread", *user_fault("00000000", 14,
                                   (4, "[user, read, not-present]")),
          no=USER_PANIC + [r"I read"])
user_test("faultreadkernel", *user_fault("ffffffff80100000", 14,
                                         (5, "[user, read, protection]")),
          no=USER_PANIC + [r"I read"])
user_test("faultwrite", *user_fault("00000000", 14,
                                    (6, "[user, write, not-present]")),
          no=USER_PANIC + [r"still alive"])
user_test("faultwritekernel", *user_fault("ffffffff80100000", 14,
                                          (7, "[user, write, protection]")),
          no=USER_PANIC + [r"still alive"])


@test("breakpoint", emulator="qemu", timeout=30)
def breakpoint():
    """int3 from ring 3 enters the monitor, which shows the env's trap
    frame; `continue` resumes the env, which then exits normally."""
    r = run_user("breakpoint", r"TRAP frame at 0x[0-9a-f]+ from CPU \d+",
                 r"  trap 0x00000003 Breakpoint",
                 r"  rip  0x0000000000800[0-9a-f]{3}\n",
                 r"  cs   0x----001b", no=USER_PANIC + [FREE_AFTER],
                 leak_check=False)
    in_order(r, r"\[00000000\] new env 00001000",
             r"Welcome to the JOS kernel monitor!", r"TRAP frame at",
             r"trap 0x00000003 Breakpoint", PROMPT)
    r.send("continue")
    r.expect(r"\[00001000\] exiting gracefully")
    r.expect(FREE_AFTER)
    r.expect(PROMPT)
    check_free_pages(r)


@test("testbss", emulator="qemu", timeout=30)
def testbss():
    r = run_user("testbss", r"Making sure bss works right\.\.\.\n",
                 r"Yes, good\.  Now doing a wild write off the end\.\.\.\n",
                 r"\[00001000\] user fault va 00[0-9a-f]{6} ip 008",
                 r"\[00001000\] free env 00001000",
                 no=USER_PANIC + [r"SHOULD HAVE TRAPPED", r"isn't cleared",
                                  r"didn't hold"])
    in_order(r, r"Making sure", r"Yes, good", r"user fault va")


@test("dumbfork", emulator="qemu", timeout=30)
def dumbfork():
    lines = ([r"(?m)^%d: I am the parent!$" % i for i in range(10)] +
             [r"(?m)^%d: I am the child!$" % i for i in range(20)])
    r = run_user("dumbfork", *lines + [r"\[00001000\] exiting gracefully",
                                       r"\[00001001\] exiting gracefully"],
                 no=USER_PANIC + [r"10: I am the parent"])
    in_order(r, *[r"(?m)^%d: I am the child!$" % i for i in range(20)])
    in_order(r, *[r"(?m)^%d: I am the parent!$" % i for i in range(10)])


# User-level page-fault handling.
user_test("faultdie", r"i faulted at va deadbeef, err 6\n",
          r"\[00001000\] exiting gracefully",
          no=USER_PANIC + [r"still alive"])
user_test("faultregs", r"Registers in UTrapframe OK\n",
          r"Registers after page-fault OK\n",
          no=USER_PANIC + [r"MISMATCH", r"  \S+: \S+ is "])


@test("faultalloc", emulator="qemu", timeout=30)
def faultalloc():
    seq = [r"fault deadbeef\n", r"this string was faulted in at deadbeef\n",
           r"fault cafebffe\n", r"fault cafec000\n",
           r"this string was faulted in at cafebffe\n",
           r"\[00001000\] exiting gracefully"]
    r = run_user("faultalloc", *seq, no=USER_PANIC)
    in_order(r, *seq)


user_test("faultallocbad", *mem_check("deadbeef"),
          no=USER_PANIC + [r"fault deadbeef", r"still alive"])
user_test("faultnostack", *mem_check("efffff[0-9a-f]{2}"),
          no=USER_PANIC + [r"still alive"])
user_test("faultbadhandler", *mem_check("(deadbeef|efff[0-9a-f]{4})"),
          no=USER_PANIC + [r"still alive"])
user_test("faultevilhandler",
          *mem_check("(ffffffff80100020|efff[0-9a-f]{4})"),
          no=USER_PANIC + [r"still alive"])


# ---- fork, preemption, IPC ------------------------------------------------

FORKTREE_DEPTH = 3
FORKTREE_NAMES = ["".join(b) for n in range(FORKTREE_DEPTH + 1)
                  for b in itertools.product("01", repeat=n)]


def forktree_test(**kw):
    r = run_user("forktree", *[r"(?m)^[0-9a-f]{4}: I am '%s'$" % n
                               for n in FORKTREE_NAMES],
                 no=USER_PANIC, **kw)
    if r.text.count("exiting gracefully") != len(FORKTREE_NAMES):
        fail("expected %d envs to exit, %d did"
             % (len(FORKTREE_NAMES), r.text.count("exiting gracefully")))


SPIN = [r"I am the parent\.  Forking the child\.\.\.\n",
        r"I am the child\.  Spinning\.\.\.\n",
        r"I am the parent\.  Running the child\.\.\.\n",
        r"I am the parent\.  Killing the child\.\.\.\n",
        r"\[00001000\] destroying 00001001\n",
        r"\[[0-9a-f]{8}\] free env 00001001\n",
        r"\[00001000\] exiting gracefully"]


def spin_test(**kw):
    r = run_user("spin", *SPIN, no=USER_PANIC, **kw)
    in_order(r, SPIN[0], SPIN[3], SPIN[4])


YIELD_ENVS = ["00001000", "00001001", "00001002"]


def yield_test(**kw):
    pats = []
    for e in YIELD_ENVS:
        seq = ([r"Hello, I am environment %s\.\n" % e] +
               [r"Back in environment %s, iteration %d\.\n" % (e, i)
                for i in range(5)] +
               [r"All done in environment %s\.\n" % e])
        pats.append(seq)
    r = run_user("yield", *sum(pats, []), no=USER_PANIC, **kw)
    for seq in pats:
        in_order(r, *seq)


PINGPONG = ([r"send 0 from 1000 to 1001\n"] +
            [r"%s got %d from %s\n" % (("1001", i, "1000") if i % 2 == 0
                                        else ("1000", i, "1001"))
             for i in range(11)])


def pingpong_test(**kw):
    r = run_user("pingpong", *PINGPONG, no=USER_PANIC, **kw)
    in_order(r, *PINGPONG)


STRESS_CHILDREN = 20


def stresssched_test(**kw):
    r = run_user("stresssched", r"stresssched on CPU", no=USER_PANIC, **kw)
    n = len(re.findall(r"\[[0-9a-f]{8}\] stresssched on CPU \d+\n", r.text))
    if n != STRESS_CHILDREN:
        fail("%d of %d children finished" % (n, STRESS_CHILDREN))


@test("forktree", emulator="qemu", timeout=30)
def forktree():
    forktree_test()


@test("spin", emulator="qemu", timeout=30)
def spin():
    spin_test()


@test("spin-smp", emulator="qemu", cpus=2, timeout=30)
def spin_smp():
    spin_test()


@test("yield", emulator="qemu", timeout=30)
def yield_():
    yield_test()


@test("stresssched", emulator="qemu", cpus=4, timeout=60)
def stresssched():
    stresssched_test()


@test("sendpage", emulator="qemu", cpus=2, timeout=30)
def sendpage():
    seq = [r"1000 got message: hello child environment! how are you\?\n",
           r"child received correct message\n",
           r"1001 got message: hello parent environment! I'm good\.\n",
           r"parent received correct message\n"]
    r = run_user("sendpage", *seq, no=USER_PANIC)
    in_order(r, *seq)


@test("pingpong", emulator="qemu", cpus=2, timeout=30)
def pingpong():
    pingpong_test()


@test("pingpongs", emulator="qemu", cpus=2, timeout=30)
def pingpongs():
    """sfork: the counter is shared memory, and thisenv must still be
    each env's own (the same pointer on all of an env's lines, different
    for the two envs)."""
    seq = [r"i am 00001000; thisenv is (0x[0-9a-f]+)\n",
           r"send 0 from 1000 to 1001\n"]
    for i in range(11):
        me, other = ("1001", "1000") if i % 2 == 0 else ("1000", "1001")
        seq.append(r"%s got %d from %s \(thisenv is 0x[0-9a-f]+ %s\)\n"
                   % (me, i, other, me))
    r = run_user("pingpongs", *seq, no=USER_PANIC)
    in_order(r, *seq)
    seen = {}
    for env, ptr in [("1000", m) for m in re.findall(
            r"i am 00001000; thisenv is (0x[0-9a-f]+)", r.text)] + \
            [(e, p) for p, e in re.findall(
                r"\(thisenv is (0x[0-9a-f]+) ([0-9a-f]+)\)", r.text)]:
        seen.setdefault(env, set()).add(ptr)
    if any(len(v) != 1 for v in seen.values()) or \
            seen.get("1000") == seen.get("1001"):
        fail("thisenv is not each env's own: %s" % seen)


PRIMES_LIMIT = 1000


@test("primes", emulator="qemu", cpus=4, timeout=90)
def primes():
    """The concurrent sieve prints every prime up to PRIMES_LIMIT, in
    order, and its whole pipeline exits."""
    want = [n for n in range(2, PRIMES_LIMIT + 1)
            if all(n % d for d in range(2, int(n ** 0.5) + 1))]
    r = run_user("primes", r"CPU \d+: %d\n" % want[-1], no=USER_PANIC)
    got = [int(x) for x in re.findall(r"(?m)^CPU \d+: (\d+)$", r.text)]
    if got != want:
        fail("primes printed %s ... (%d of them), expected %d primes up "
             "to %d" % (got[:10], len(got), len(want), PRIMES_LIMIT))


@test("sysfuzz", emulator="qemu", cpus=2, timeout=180)
def sysfuzz():
    """100,000 random system calls: the kernel survives, and every page
    comes back."""
    run_user("sysfuzz", r"sysfuzz: seed \d+\n",
             r"sysfuzz: 100000 system calls, kernel survived\n",
             no=USER_PANIC)


# The same programs under Bochs, one and two CPUs.

@test("spin-bochs", emulator="bochs", cpus=1, timeout=120)
def spin_bochs():
    spin_test()


@test("yield-bochs", emulator="bochs", cpus=1, timeout=120)
def yield_bochs():
    yield_test()


@test("forktree-bochs", emulator="bochs", cpus=2, timeout=120)
def forktree_bochs():
    forktree_test()


@test("pingpong-bochs", emulator="bochs", cpus=2, timeout=120)
def pingpong_bochs():
    pingpong_test()


@test("stresssched-bochs", emulator="bochs", cpus=2, timeout=120)
def stresssched_bochs():
    stresssched_test()

# ---- File system, descriptors, pipes, spawn, shell -------------------------
#
# Each test boots "fs NAME": the file-system server (env 00001000), then
# NAME (00001001). The server stays alive, blocked in ipc_recv, when the
# rest is done, so there is no leak check: the system ends in the monitor
# with one env still there.

def fs_image_copy(name):
    """A private copy of the pristine obj/fs/fs.img, for a test that
    changes the disk (other tests must keep seeing the original)."""
    os.makedirs(GRADEDIR, exist_ok=True)
    path = os.path.join(GRADEDIR, name + ".fs.img")
    shutil.copyfile(FS_IMG, path)
    return path


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
    """Raw IPC, malformed requests included: the server never crashes."""
    run_fs("testfs", r"testfs: all tests passed",
           disks=[KERNEL_IMG, fs_image_copy("testfs")])


@test("fs-testfile", emulator="qemu", timeout=60)
def fs_testfile():
    r = run_fs("testfile", r"testfile: all tests passed",
               disks=[KERNEL_IMG, fs_image_copy("testfile")])
    in_order(r, r"open nonexistent is good", r"read is good",
             r"large file is good", r"ftruncate is good",
             r"path normalization is good", r"remove is good",
             r"testfile: all tests passed")


@test("fs-spawnhello", emulator="qemu", timeout=60)
def fs_spawnhello():
    r = run_fs("spawnhello", r"i am parent environment 00001001",
               r"hello, world", r"i am environment 00001002")
    in_order(r, r"\[00001001\] new env 00001002", r"hello, world",
             r"\[00001002\] exiting gracefully")


@test("fs-testpteshare", emulator="qemu", timeout=60)
def fs_testpteshare():
    run_fs("testpteshare", r"fork handles PTE_SHARE right",
           r"spawn handles PTE_SHARE right")


@test("fs-testfdsharing", emulator="qemu", timeout=60)
def fs_testfdsharing():
    run_fs("testfdsharing", r"read in child succeeded",
           r"read in parent succeeded")


@test("fs-testpipe", emulator="qemu", timeout=60)
def fs_testpipe():
    run_fs("testpipe", r"pipe read closed properly",
           r"pipe write closed properly", r"pipe tests passed")


@test("fs-testpiperace", emulator="qemu", timeout=90)
def fs_testpiperace():
    run_fs("testpiperace", r"race didn't happen",
           no=[r"the other end of p\[0\] got closed"])


@test("fs-testpiperace2", emulator="qemu", timeout=90)
def fs_testpiperace2():
    run_fs("testpiperace2", r"race didn't happen",
           no=[r"the other end of p\[0\] got closed"])


@test("fs-primespipe", emulator="qemu", timeout=120)
def fs_primespipe():
    r = run_fs("primespipe", r"primespipe: done")
    got = [int(x) for x in re.findall(r"(?m)^(\d+)$", r.text)]
    want = [n for n in range(2, 1000)
            if all(n % d for d in range(2, int(n ** 0.5) + 1))]
    if sorted(got) != want:
        fail("primespipe printed %d primes, wanted the %d below 1000"
             % (len(got), len(want)))


@test("fs-writemotd", emulator="qemu", timeout=60)
def fs_writemotd():
    disk = fs_image_copy("writemotd")
    r = run_fs("writemotd", r"NEW MOTD\n===\nThis is /newmotd",
               disks=[KERNEL_IMG, disk])
    in_order(r, r"OLD MOTD\n===\nThis is /motd,", r"NEW MOTD",
             r"This is /newmotd, the NEW message")


@test("fs-icode", emulator="qemu", timeout=60)
def fs_icode():
    """icode shows /motd and spawns init with arguments; init checks its
    data and bss and starts sh, which prompts on the console."""
    r = boot("fs+icode")
    r.match(r"icode: read /motd", r"This is /motd, the message of the day",
            r"init: data seems okay", r"init: bss seems okay",
            r"init: args: 'init' 'initarg1' 'initarg2'",
            r"init: starting sh", r"(?m)^\$ ", no=PANIC + USER_PANIC)


def shell(r):
    """Wait for the shell's first prompt (after init starts it)."""
    r.expect(r"init: starting sh")
    r.expect(r"\$ ")


def shell_cmd(r, line, *patterns):
    """Type LINE at the prompt; expect PATTERNS in order, then a prompt."""
    r.send(line)
    for p in patterns:
        r.expect(p)
    r.expect(r"(?m)^\$ ")


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
    """`make qemu-nox` (the default command line: fs icode) reaches the
    shell, which runs commands typed at the serial console. -snapshot
    keeps the build's fs.img unchanged."""
    r = run_make("qemu-nox", label="qemu", QEMUEXTRA="-snapshot")
    shell(r)
    shell_cmd(r, "echo hello | cat", r"(?m)^hello\r?$")
    shell_cmd(r, "ls /bin", r"(?m)^sh\r?$")


@test("bochs-shell", emulator="bochs", cpus=2, timeout=240)
def bochs_shell():
    """The default boot under Bochs (VMX CPU model, 2 CPUs) reaches the
    shell, which runs a typed pipeline and ls."""
    r = boot(input=True, disks=[KERNEL_IMG, fs_image_copy("bochs-shell")])
    shell(r)
    shell_cmd(r, "echo hello | cat", r"(?m)^hello\r?$")
    shell_cmd(r, "ls /bin", r"(?m)^sh\r?$")


@test("fs-testshell", emulator="qemu", timeout=120)
def fs_testshell():
    """sh -x runs fs/testshell.sh; its output equals fs/testshell.key."""
    run_fs("testshell", r"testshell: shell ran correctly",
           no=[r"testshell: output differs"],
           disks=[KERNEL_IMG, fs_image_copy("testshell")])


@test("fs-testkbd", emulator="qemu", timeout=60)
def fs_testkbd():
    """Console input through the console device."""
    r = boot("fs+testkbd")
    r.expect(r"Type a line: ")
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


# ---- The VMM on both vendors --------------------------------------------------
#
# `vmm` in the host shell (user/vmm.c) builds a guest from /vmm/boot and
# /vmm/kernel (the tree built with VMM_GUEST) and waits for it. These tests
# type into the shell of the default boot, so the host keeps running.
# Each is registered (vmm_test) under its plain name for VT-x (Bochs,
# corei7_skylake_x: VMX with EPT), with -svm for AMD-V under QEMU's TCG
# (-cpu max: SVM with NPT, no NRIP save) and, for some, with -ryzen for
# AMD-V under Bochs (cpu model ryzen: SVM with NPT and NRIP save).

TEST_EPT_IMG = os.path.join("obj", "test-ept", "kern", "kernel.img")
GUEST_STOPPED = [r"vmm: guest [0-9a-f]{8} stopped"]
VMM_FREE = (r"vmm: guest ([0-9a-f]{8}) exited; free pages: (\d+) before, "
            r"(\d+) after")


def vendor():
    """'vmx', 'svm' (QEMU) or 'ryzen' (Bochs), from the test's name."""
    name = current_test().name
    if name.endswith("-ryzen"):
        return "ryzen"
    if name.endswith("-svm"):
        return "svm"
    return "vmx"


def vboot(program=None, **kw):
    """boot() on the current test's vendor (Bochs' ryzen model for -ryzen)."""
    if vendor() == "ryzen":
        kw.setdefault("cpu_model", "ryzen")
    return boot(program, **kw)


def hidden_line():
    """What the guest kernel prints once its CPUID check passed."""
    return "%s extension hidden from guest" % (
        "VMX" if vendor() == "vmx" else "SVM")


def cpu_on_line(cpu):
    """What the host prints the first time CPU runs a guest."""
    return ("VMXON on CPU %d" if vendor() == "vmx" else "SVM on CPU %d") % cpu


def vmm_test(name, cpus=DEFAULT_CPUS, bochs_timeout=400,
             qemu_timeout=120, ryzen=False):
    """Register the decorated function as NAME (VT-x under Bochs) and
    NAME-svm (AMD-V under QEMU); with ryzen=True also as NAME-ryzen."""
    def register(func):
        test(name, emulator="bochs", cpus=cpus, timeout=bochs_timeout)(func)
        test(name + "-svm", emulator="qemu", cpus=cpus,
             timeout=qemu_timeout)(func)
        if ryzen:
            test(name + "-ryzen", emulator="bochs", cpus=cpus,
                 timeout=bochs_timeout)(func)
        return func
    return register


@vmm_test("ept-selftest", bochs_timeout=300, qemu_timeout=60)
def ept_selftest():
    """The kernel built with -DTEST_EPT_MAP runs its EPT self-test at boot
    with this vendor's entry format (EPT on VT-x, NPT on AMD-V):
    sys_ept_map's checks, ept_lookup_gpa, ept_map_hva2gpa with and
    without overwrite, the checked guest-address helper, and no page
    leaked."""
    make_target("test-ept-img", restore=False)
    r = vboot(disks=[TEST_EPT_IMG])
    r.match(r"test_ept_map: %s entries" % ("ept" if vendor() == "vmx"
                                           else "npt"),
            r"(?m)^Cheers! sys_ept_map seems to work correctly",
            no=PANIC + [r"test_ept_map: FAILED"])


def vmm_session(r, command="vmm"):
    """Type COMMAND at the host shell; wait for vmm's final line and the
    prompt. Returns (before, after) free-page counts vmm printed."""
    start = len(r.text)
    r.send(command)
    m = r.expect(VMM_FREE)
    r.expect(r"(?m)^\$ ")
    bad = [p for p in GUEST_STOPPED + PANIC
           if re.search(p, r.text[start:])]
    if bad:
        fail("the guest was stopped or the host panicked: %s"
             % r._line_at(start + re.search(bad[0], r.text[start:]).start()))
    return int(m.group(2)), int(m.group(3))


@vmm_test("vmm-guest", ryzen=True)
def vmm_guest():
    """`vmm hello` boots the guest JOS with just `hello` to run: VMXON (or
    SVM on) once per CPU, the guest's memory map from MBMAP, CPUID without
    VMX and SVM, the program, a clean exit; then the host prompt returns.
    A second run (the file cache now warm) ends with exactly as many free
    pages as it started with."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("vmm-guest")])
    shell(r)
    vmm_session(r, "vmm hello")
    first = r.text
    for p in (r"(?m)^%s" % cpu_on_line(0), r"guest: \d+ MiB of memory",
              hidden_line(), r"hello, world",
              r"vmm: guest [0-9a-f]{8} exited with status 0"):
        if not re.search(p, first):
            fail("the guest run did not print %r" % p)
    before, after = vmm_session(r, "vmm hello")
    if r.text.count(cpu_on_line(0)) != 1:
        fail("%r was printed more than once" % cpu_on_line(0))
    if before != after:
        fail("a guest run leaked: %d free pages before, %d after"
             % (before, after))


@vmm_test("vmm-stress")
def vmm_stress():
    """A guest program makes 10,000 CPUID and 10,000 hypercall exits and
    checks every result."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("vmm-stress")])
    shell(r)
    vmm_session(r, "vmm vmstress")
    if not re.search(r"vmstress: all 20000 exits checked", r.text) or \
            re.search(r"vmstress: FAILED", r.text):
        fail("vmstress did not check all its exits")


@vmm_test("vmm-smp", cpus=2)
def vmm_smp():
    """The guest on a 2-CPU host: each CPU turns VMX/SVM on the first time
    it runs the guest; the guest's state follows it between CPUs."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("vmm-smp")])
    shell(r)
    vmm_session(r, "vmm vmstress")
    if not re.search(r"vmstress: all 20000 exits checked", r.text):
        fail("vmstress did not check all its exits")


@vmm_test("vmm-badcalls", bochs_timeout=300, qemu_timeout=60, ryzen=True)
def vmm_badcalls():
    """Bad sys_env_mkguest and sys_ept_map calls from a user program get
    errors and change no reference count; the guest it made is destroyed
    and the kernel gets every page back."""
    r = vboot("vmmbad")
    r.match(r"vmmbad: all \d+ checks passed", FREE_AFTER,
            no=PANIC + [r"vmmbad: FAIL", r"vmmbad: no VMX"])
    check_free_pages(r)


# QEMU's -cpu max without SVM: an AMD CPU with no hardware virtualization.
NO_VIRT_CPU = "max,-svm"


@test("vmm-badcalls-novirt", emulator="qemu", timeout=60)
def vmm_badcalls_novirt():
    """Without VT-x or AMD-V every guest call fails with -E_NO_VMX, and
    sys_ept_map to a non-guest or bad env fails; nothing leaks."""
    r = boot("vmmbad", cpu=NO_VIRT_CPU)
    r.match(r"vmmbad: no VMX", r"vmmbad: all \d+ checks passed", FREE_AFTER,
            no=PANIC + [r"vmmbad: FAIL"])
    check_free_pages(r)


@test("vmm-novirt", emulator="qemu", timeout=90)
def vmm_novirt():
    """On a CPU with neither VT-x nor AMD-V, vmm says what it looked for,
    what is missing and where guests run; the host goes on."""
    r = boot(disks=[KERNEL_IMG, fs_image_copy("vmm-novirt")],
             cpu=NO_VIRT_CPU)
    shell(r)
    shell_cmd(r, "vmm",
              r"svm: CPUID 8000_0001h:ECX.SVM is clear",
              r"vmm: no guest can run on this CPU: a guest needs VT-x",
              r"vmm: sys_env_mkguest: no VT-x or AMD-V on this CPU",
              r"vmm: guests run under make qemu-nox .* make bochs-nox")
    shell_cmd(r, "echo still alive", r"(?m)^still alive\r?$")


# ---- JOS on JOS: the guest's shell, disk, console and timer ------------------

GUEST_PROMPT = r"vm\$ "
GUEST_MOTD = r"This is the guest JOS, running inside JOS\."
HOST_PROMPT = r"(?m)^\$ "


def guest_boot(r, command="vmm"):
    """Type COMMAND at the host shell and wait for the guest's prompt."""
    r.send(command)
    r.expect(hidden_line())
    r.expect(GUEST_MOTD)
    r.expect(GUEST_PROMPT)


# Typed into the guest a character at a time: a burst of more than 16
# characters can overrun the UART's receive FIFO while the host is busy
# printing guest output (seen after forktree; see the closing note).
GUEST_TYPING_DELAY = 0.02


def guest_send(r, line):
    r.send(line, delay=GUEST_TYPING_DELAY)


def guest_cmd(r, line, *patterns):
    """Type LINE at the guest's prompt; expect PATTERNS, then the prompt."""
    guest_send(r, line)
    for p in patterns:
        r.expect(p)
    r.expect(GUEST_PROMPT)


def guest_halt(r):
    """`halt` in the guest: vmm reports and the host prompt comes back.
    Returns vmm's (before, after) free-page counts."""
    start = len(r.text)
    guest_send(r, "halt")
    r.expect(r"vmm: guest [0-9a-f]{8} exited with status 0")
    m = r.expect(VMM_FREE)
    r.expect(HOST_PROMPT)
    for p in GUEST_STOPPED + PANIC + [r"user panic"]:
        hit = re.search(p, r.text[start:])
        if hit:
            fail("unexpected: %s" % r._line_at(start + hit.start()))
    return int(m.group(2)), int(m.group(3))


def guest_problems(r):
    for p in GUEST_STOPPED + PANIC + [r"user panic"]:
        hit = re.search(p, r.text)
        if hit:
            fail("unexpected: %s" % r._line_at(hit.start()))


@vmm_test("jos-on-jos", bochs_timeout=600, qemu_timeout=180, ryzen=True)
def jos_on_jos():
    """The guest JOS boots to `vm$ ` from its own disk (/vmm/fs.img in the
    host file system): ls, cat, a redirection, a pipeline and forktree run
    inside it; `halt` returns to the host shell; a second guest sees the
    file the first wrote, and ends with as many free host pages as it
    started with."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-on-jos")])
    shell(r)
    guest_boot(r)
    guest_cmd(r, "ls /", r"(?m)^motd\r?$")
    guest_cmd(r, "cat /motd", GUEST_MOTD)
    guest_cmd(r, "echo hi > /f; cat /f", r"(?m)^hi\r?$")
    guest_cmd(r, "cat /motd | grep guest | wc", r"(?m)^\s+1\s+\d+\s+\d+\r?$")
    # The prompt comes back when forktree's root exits, before its
    # descendants finish: wait for the last of them, then for a prompt.
    guest_send(r, "forktree")
    for name in ("111", "110", "101", "100", "011", "010", "001", "000"):
        r.expect(r"(?m)^[0-9a-f]{4}: I am '%s'\r?$" % name)
        r.cursor = 0
    guest_cmd(r, "echo forktree done", r"(?m)^forktree done\r?$")
    guest_halt(r)
    guest_boot(r)
    guest_cmd(r, "cat /f", r"(?m)^hi\r?$")
    before, after = guest_halt(r)
    guest_problems(r)
    if before != after:
        fail("a guest session leaked host pages: %d free before, %d after"
             % (before, after))


@vmm_test("jos-on-jos-persist", bochs_timeout=600, qemu_timeout=180)
def jos_on_jos_persist():
    """A file written in the guest survives the guest and, after a host
    sync, a host reboot on the same disk."""
    disk = fs_image_copy("jos-on-jos-persist")
    r = vboot(input=True, disks=[KERNEL_IMG, disk])
    shell(r)
    guest_boot(r)
    guest_cmd(r, "echo persist 4711 > /p; sync")
    guest_halt(r)
    shell_cmd(r, "sync")
    r.kill()
    r = vboot(input=True, disks=[KERNEL_IMG, disk], label="reboot")
    shell(r)
    guest_boot(r)
    guest_cmd(r, "cat /p", r"(?m)^persist 4711\r?$")
    guest_halt(r)
    guest_problems(r)


@vmm_test("jos-on-jos-spin")
def jos_on_jos_spin():
    """The guest is preemptive: spin's parent runs and kills its spinning
    child (the VMM injects timer interrupts)."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-spin")])
    shell(r)
    guest_boot(r)
    guest_cmd(r, "spin", r"I am the child.  Spinning",
              r"I am the parent.  Killing the child")
    guest_halt(r)
    guest_problems(r)


@vmm_test("jos-on-jos-beside", cpus=2)
def jos_on_jos_beside():
    """A host command completes while a guest spins (2 CPUs): host timer
    interrupts leave the guest and the host scheduler runs the shell."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-beside")])
    shell(r)
    r.send("vmm busy 1500 &")
    r.expect(r"busy: spinning")
    r.send("echo host is alive")
    r.expect(r"(?m)^host is alive\r?$")
    if "busy: done" in r.text:
        fail("the guest finished before the host command ran: no overlap")
    r.expect(r"busy: done")
    r.expect(VMM_FREE)
    guest_problems(r)


@vmm_test("jos-on-jos-escape")
def jos_on_jos_escape():
    """Ctrl-] on the host console ends the guest; vmm returns and can run
    again at once."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-escape")])
    shell(r)
    guest_boot(r)
    r.send("\x1d", newline="")
    r.expect(r"ended from the host console")
    r.expect(VMM_FREE)
    r.expect(HOST_PROMPT)
    guest_boot(r)
    guest_halt(r)


@vmm_test("jos-on-jos-badcalls", ryzen=True)
def jos_on_jos_badcalls():
    """A guest program's bad hypercalls (unknown numbers, addresses outside
    guest memory, unaligned, huge, bad permissions) get errors; the guest
    and the host go on."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-badcalls")])
    shell(r)
    guest_boot(r)
    guest_cmd(r, "vmcallbad", r"vmcallbad: all \d+ checks passed")
    if re.search(r"vmcallbad: FAIL", r.text):
        fail("vmcallbad reported a failure")
    guest_halt(r)
    shell_cmd(r, "echo host still fine", r"(?m)^host still fine\r?$")
    guest_problems(r)


@test("qemu-nox-vmm", emulator="qemu", timeout=180)
def qemu_nox_vmm():
    """The headline workflow: `make qemu-nox`, then `vmm`, and a person
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


# ---- Debugging a guest: the VMM's gdb stub on COM2 ----------------------------

GUEST_KERNEL_ELF = os.path.join("obj", "guest", "kern", "kernel")
# A guest-virtual address no guest page table maps.
UNMAPPED_GVA = "0x500000000000"


def guest_gdb_port():
    port = make_var("guestgdbport")
    if not port or not port.isdigit():
        fail("`make print-guestgdbport` gave no port")
    return int(port)


@vmm_test("vmm-gdb", bochs_timeout=420, qemu_timeout=180)
def vmm_gdb():
    """`vmm -g` stops the guest at its first instruction; gdb (batch mode,
    the guest kernel's symbols) breaks in test_backtrace, shows guest
    frames with file:line, prints a guest global, writes the argument
    (the guest prints the new value), steps twice, gets errors for an
    unmapped address, a bad packet and a wild breakpoint, continues to
    `vm$ `, then Ctrl-C stops a spinning guest program and its registers
    are read; detaching lets the guest finish."""
    port = guest_gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another make qemu / bochs?)" % port)
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("vmm-gdb")],
              com2_port=port)
    wait_listening(port, r)
    g = run_gdb("break test_backtrace", "continue", "bt", "print npages",
                "set var x = 2", "print/x $pc", "stepi", "stepi",
                "print/x $pc", "x/2gx " + UNMAPPED_GVA,
                "maint packet m0,zz", "delete",
                "break *" + UNMAPPED_GVA, "continue", "delete", "continue",
                "info registers rip", "detach",
                port=port, elf=GUEST_KERNEL_ELF,
                setup=["set remotetimeout 300"])
    shell(r)
    start = len(r.text)
    r.send("vmm -g")
    r.expect(r"waits for gdb on COM2")
    r.expect(GUEST_PROMPT)
    guest_send(r, "spin")
    r.expect(r"I am the child.  Spinning")
    # The guest runs only after gdb's last `continue` (gdb's own output
    # is buffered: the guest console is the sign).
    time.sleep(0.5)
    os.kill(g.proc.pid, signal.SIGINT)
    g.wait()
    g.match(r"Breakpoint 1, (0x[0-9a-f]+ in )?test_backtrace \(x=5\) at "
            r"kern/init\.c:\d+",
            r"(?m)^#0\s+(0x[0-9a-f]+ in )?test_backtrace \(x=5\) at "
            r"kern/init\.c:\d+",
            r"(?m)^#1\s+0x[0-9a-f]+ in i386_init \(.*\) at kern/init\.c:\d+",
            r"(?m)^\$1 = [1-9]\d*$",
            r"Cannot access memory at address " + UNMAPPED_GVA,
            r'received: "E02"',
            r"Cannot insert breakpoint",
            r"received signal SIGINT",
            r"(?m)^rip\s+0x[0-9a-f]+",
            r"detached\]")
    pcs = re.findall(r"(?m)^\$\d+ = (0x[0-9a-f]+)$", g.text)
    if len(pcs) < 2 or pcs[0] == pcs[1]:
        fail("two stepi did not move the guest's pc: %s" % pcs)
    guest_out = r.text[start:]
    if "entering test_backtrace 5" in guest_out or \
            "entering test_backtrace 2" not in guest_out:
        fail("the guest did not act on x = 2 written by gdb")
    r.expect(r"I am the parent.  Killing the child")
    r.expect(GUEST_PROMPT)
    guest_halt(r)
    guest_problems(r)


@test("vmm-monitor", emulator="qemu", timeout=30)
def vmm_monitor():
    """The VMM's monitor commands exist and check their arguments: vms with
    no guest, a bad id and a missing address are reported, not obeyed."""
    r = boot("monitor")
    r.expect(PROMPT)
    r.send("vms")
    r.expect(r"ID\s+vendor\s+state\s+exits")
    r.expect(r"\(no guests\)")
    r.send("vmstate 1000")
    r.expect(r"vmstate: no guest 1000 \(vms lists them\)")
    r.send("gva 1000")
    r.expect(r"usage: gva ID ADDR")
    r.send("help")
    for cmd in ("vms", "vmstate", "gpa", "gva", "exits"):
        r.expect(r"(?m)^%s - " % cmd)


if __name__ == "__main__":
    sys.exit(main())
