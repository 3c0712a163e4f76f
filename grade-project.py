#!/usr/bin/env python3
"""The JOS-in-JOS test suite.  `make grade` runs it after a clean build;
`make grade TESTS='boot-*,gdb'` runs some of it; `python3 grade-project.py
--list` names the tests.  The machinery is in gradelib.py."""

import glob
import itertools
import os
import re
import shutil
import subprocess
import signal
import struct
import sys
import time

import gdbattack
from gradelib import (BOCHS_LOG, DEFAULT_CPUS, FS_IMG, GDB_PORTS, GRADEDIR, KERNEL_IMG, boot,
                      current_test, fail, gdb_port, main, make_target,
                      make_var, port_in_use, run_command, run_gdb, run_make, test,
                      wait_listening)

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
    """The kernel boots under QEMU, passes its memory self-checks and
    reaches the monitor prompt, with no panic."""
    boot("monitor").match(*SELF_CHECKS + MONITOR, no=PANIC)


@test("boot-bochs", emulator="bochs", timeout=120)
def boot_bochs():
    """The kernel boots under Bochs (VT-x CPU model), passes its memory
    self-checks and reaches the monitor prompt, with no panic."""
    boot("monitor").match(*SELF_CHECKS + MONITOR, no=PANIC)



@test("boot-mem-64m", emulator="qemu", mem=64, timeout=30)
def boot_mem_64m():
    """With only 64 MiB of memory the kernel boots, passes its memory
    self-checks and reaches the monitor prompt."""
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
    """The boot-time backtrace shows each frame, its argument and line.

    The boot-time test_backtrace(5) -> ... -> test_backtrace(0) ->
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
    """Typed monitor commands under QEMU: help lists the commands and
    backtrace shows a frame inside the monitor."""
    monitor_session(boot("monitor"))


@test("monitor-bochs", emulator="bochs", timeout=120)
def monitor_bochs():
    """Typed monitor commands under Bochs (serial pty): help lists the
    commands and backtrace shows a frame inside the monitor."""
    monitor_session(boot("monitor", input=True))


# ---- gdb --------------------------------------------------------------------

@test("gdb", emulator="qemu", timeout=60, locks=[GDB_PORTS])
def gdb():
    """gdb attached to `make qemu-nox-gdb` breaks in i386_init.

    With the .gdbinit that make writes, gdb stops at the breakpoint,
    shows i386_init at kern/init.c in a backtrace and prints a kernel
    global."""
    port = gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another `make qemu-gdb`?)" % port)
    # -snapshot: QEMU then neither writes nor locks the build's images,
    # which other tests may boot meanwhile.
    q = run_make("qemu-nox-gdb", label="qemu", QEMUEXTRA="-snapshot")
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


def user_test(name, *patterns, doc, no=USER_PANIC, timeout=30):
    """Register the QEMU test NAME that only needs run_user's checks; DOC
    is its docstring (what it checks)."""
    def check():
        run_user(name, *patterns, no=no)
    check.__doc__ = doc
    return test(name, emulator="qemu", timeout=timeout)(check)


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
          r"\[00001000\] free env 00001000",
          doc="""A user program prints through sys_cputs, reads its env
             id, exits gracefully, and every page comes back.""")

# sys_cputs with pointers the env does not own: the kernel checks them.
user_test("buggyhello", *mem_check("00000001"),
          no=USER_PANIC + [r"still alive"],
          doc="""sys_cputs with a pointer to unmapped page 0: the kernel's
             user_mem_check destroys the env instead of reading it.""")
user_test("buggyhello2", *mem_check("008[0-9a-f]{2}000"),
          no=USER_PANIC + [r"still alive", r"hello, world"],
          doc="""sys_cputs with a range that runs off the program's memory:
             every page is checked, the env destroyed.""")
user_test("evilhello", *mem_check("ffffffff80100000"),
          no=USER_PANIC + [r"still alive"],
          doc="""sys_cputs with a kernel address: the kernel refuses to read it
             for the env and destroys it.""")

# Exceptions in user mode destroy the env (with the trap frame printed).
user_test("divzero", *user_fault(None, 0) +
          [r"  trap 0x00000000 Divide error\n", r"  rip  0x008[0-9a-f]{5}\n",
           r"  ss   0x----0023\n"],
          no=USER_PANIC + [r"1/0 is"],
          doc="""A division by zero in user mode: the kernel dumps the trap
             frame (divide error) and destroys the env.""")
user_test("softint", *user_fault(None, 13) +
          [r"trap 0x0000000d General Protection"],
          no=USER_PANIC + [r"still alive", r"trap 0x0000000e"],
          doc="""int $14 from ring 3 (a DPL-0 gate) becomes a
             general-protection fault, and the env is destroyed.""")
user_test("badsegment", *user_fault(None, 13) +
          [r"trap 0x0000000d General Protection"],
          no=USER_PANIC + [r"still alive"],
          doc="""Loading %ds with a selector ring 3 may not use: general
             protection fault, and the env is destroyed.""")
user_test("faultread", *user_fault("00000000", 14,
                                   (4, "[user, read, not-present]")),
          no=USER_PANIC + [r"I read"],
          doc="""A read of unmapped address 0 from user mode: page fault
             (user, read, not-present) and the env is destroyed.""")
user_test("faultreadkernel", *user_fault("ffffffff80100000", 14,
                                         (5, "[user, read, protection]")),
          no=USER_PANIC + [r"I read"],
          doc="""A read of a kernel address from user mode: page fault
             (user, read, protection) and the env is destroyed.""")
user_test("faultwrite", *user_fault("00000000", 14,
                                    (6, "[user, write, not-present]")),
          no=USER_PANIC + [r"still alive"],
          doc="""A write to unmapped address 0 from user mode: page fault
             (user, write, not-present) and the env is destroyed.""")
user_test("faultwritekernel", *user_fault("ffffffff80100000", 14,
                                          (7, "[user, write, protection]")),
          no=USER_PANIC + [r"still alive"],
          doc="""A write to a kernel address from user mode: page fault
             (user, write, protection) and the env is destroyed.""")


@test("breakpoint", emulator="qemu", timeout=30)
def breakpoint():
    """int3 from ring 3 enters the monitor, which shows the env's trap
    frame; `continue` resumes the env, which then exits normally."""
    r = run_user("breakpoint", r"TRAP frame at 0x[0-9a-f]+ from CPU \d+",
                 r"  trap 0x00000003 Breakpoint",
                 r"  rip  0x00800[0-9a-f]{3}\n",
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
    """The bss is zeroed and large enough, and a write past its end
    faults and destroys the env."""
    r = run_user("testbss", r"Making sure bss works right\.\.\.\n",
                 r"Yes, good\.  Now doing a wild write off the end\.\.\.\n",
                 r"\[00001000\] user fault va 00[0-9a-f]{6} ip 008",
                 r"\[00001000\] free env 00001000",
                 no=USER_PANIC + [r"SHOULD HAVE TRAPPED", r"isn't cleared",
                                  r"didn't hold"])
    in_order(r, r"Making sure", r"Yes, good", r"user fault va")


@test("dumbfork", emulator="qemu", timeout=30)
def dumbfork():
    """dumbfork's parent and child each count their own iterations.

    The child runs on a copy of the address space made page by page;
    each prints its iterations in order, and both exit."""
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
          no=USER_PANIC + [r"still alive"],
          doc="""A user page-fault handler gets the faulting address and error
             code, reports them and exits.""")
user_test("faultregs", r"Registers in UTrapframe OK\n",
          r"Registers after page-fault OK\n",
          no=USER_PANIC + [r"MISMATCH", r"  \S+: \S+ is "],
          doc="""A page fault handled at user level is invisible to the
             faulting code: every register, rflags and %rsp are as
             before.""")


@test("faultalloc", emulator="qemu", timeout=30)
def faultalloc():
    """A user page-fault handler maps pages on demand.

    That includes a fault taken inside the handler itself (a string
    crossing into a second unmapped page); the output comes in order."""
    seq = [r"fault deadbeef\n", r"this string was faulted in at deadbeef\n",
           r"fault cafebffe\n", r"fault cafec000\n",
           r"this string was faulted in at cafebffe\n",
           r"\[00001000\] exiting gracefully"]
    r = run_user("faultalloc", *seq, no=USER_PANIC)
    in_order(r, *seq)


user_test("faultallocbad", *mem_check("deadbeef"),
          no=USER_PANIC + [r"fault deadbeef", r"still alive"],
          doc="""A bad address handed to the kernel (sys_cputs) is caught
             by user_mem_check; the env's fault handler never runs.""")
user_test("faultnostack", *mem_check("ef7fff[0-9a-f]{2}"),
          no=USER_PANIC + [r"still alive"],
          doc="""A fault upcall with no exception stack: the kernel cannot
             push the UTrapframe and destroys the env.""")
user_test("faultbadhandler", *mem_check("(deadbeef|ef7fef[0-9a-f]{2})"),
          no=USER_PANIC + [r"still alive"],
          doc="""An unmapped fault upcall faults again until the
             exception stack is full; the kernel destroys the env.""")
user_test("faultevilhandler",
          *mem_check("(ffffffff80100020|ef7fef[0-9a-f]{2})"),
          no=USER_PANIC + [r"still alive"],
          doc="""A fault upcall pointing into the kernel never runs
             kernel code for the env; the env is destroyed.""")


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
    """Copy-on-write fork builds a three-level tree of 15 envs.

    Every one prints its name and exits, and no page leaks."""
    forktree_test()


@test("spin", emulator="qemu", timeout=30)
def spin():
    """On one CPU, the timer preempts a child spinning forever: the
    parent runs again and destroys it."""
    spin_test()


@test("spin-smp", emulator="qemu", cpus=2, timeout=30)
def spin_smp():
    """spin on two CPUs: the parent destroys its spinning child, which
    runs on the other CPU."""
    spin_test()


@test("yield", emulator="qemu", timeout=30)
def yield_():
    """Three envs take turns with sys_yield, each printing its five
    iterations in order, and all exit."""
    yield_test()


@test("stresssched", emulator="qemu", cpus=4, timeout=60)
def stresssched():
    """Twenty children yield over and over on four CPUs; every one
    finishes with its count intact (no env ever runs on two CPUs)."""
    stresssched_test()


@test("sendpage", emulator="qemu", cpus=2, timeout=30)
def sendpage():
    """IPC with a page: parent and child exchange messages through a
    page mapped at different addresses in each (two CPUs)."""
    seq = [r"1000 got message: hello child environment! how are you\?\n",
           r"child received correct message\n",
           r"1001 got message: hello parent environment! I'm good\.\n",
           r"parent received correct message\n"]
    r = run_user("sendpage", *seq, no=USER_PANIC)
    in_order(r, *seq)


@test("pingpong", emulator="qemu", cpus=2, timeout=30)
def pingpong():
    """IPC ping-pong on two CPUs: two envs pass a counter back and forth
    with ipc_send/ipc_recv, in order, up to 10."""
    pingpong_test()


@test("pingpongs", emulator="qemu", cpus=2, timeout=30)
def pingpongs():
    """IPC ping-pong between envs that share memory through sfork.

    sfork: the counter is shared memory, and thisenv must still be
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
    """spin under Bochs on one CPU: the timer preempts the spinning
    child and the parent destroys it."""
    spin_test()


@test("yield-bochs", emulator="bochs", cpus=1, timeout=120)
def yield_bochs():
    """yield under Bochs on one CPU: three envs take turns, each
    iteration in order."""
    yield_test()


@test("forktree-bochs", emulator="bochs", cpus=2, timeout=120)
def forktree_bochs():
    """forktree under Bochs on two CPUs: all 15 envs of the fork tree
    print their names and exit."""
    forktree_test()


@test("pingpong-bochs", emulator="bochs", cpus=2, timeout=120)
def pingpong_bochs():
    """pingpong under Bochs on two CPUs: the counter goes back and
    forth in order."""
    pingpong_test()


@test("stresssched-bochs", emulator="bochs", cpus=2, timeout=120)
def stresssched_bochs():
    """stresssched under Bochs on two CPUs: all twenty yielding
    children finish with their counts intact."""
    stresssched_test()

# ---- File system, descriptors, pipes, spawn, shell -------------------------
#
# Each test boots "fs NAME": the file-system server (env 00001000), then
# NAME (00001001). The server stays alive, blocked in ipc_recv, when the
# rest is done, so there is no leak check: the system ends in the monitor
# with one env still there.

# The FS server's last start-up line (fs/check.c): it prints no more.
FS_READY = r"file rewrite is good\n"


def fs_image_copy(name):
    """A private copy of the pristine obj/fs/fs.img, for a test that
    changes the disk (other tests must keep seeing the original). Its
    name holds the test's: NAME-svm may run beside NAME."""
    os.makedirs(GRADEDIR, exist_ok=True)
    path = os.path.join(GRADEDIR, "%s.%s.fs.img"
                        % (current_test().name, name))
    shutil.copyfile(FS_IMG, path)
    return path


# The host file server's shares of its open files (inc/fs.h): one
# client's, and one guest's.
FSOPEN_CLIENT_MAX = 1024 // 4
FSOPEN_GUEST_MAX = 16

# The on-disk format (inc/fs.h): block size, where the superblock and
# the bitmap are, bits per bitmap block.
FS_BLKSIZE = 4096
FS_SUPER_BLOCKNO = 1
FS_BITMAP_BLOCKNO = 2
FS_BLKBITS = FS_BLKSIZE * 8


def fs_image_small(name, free_blocks):
    """fs_image_copy whose file system ends FREE_BLOCKS blocks past its
    last block in use, so that a test fills it quickly. The file keeps
    its length (a disk may be larger than its file system); the blocks
    cut off are all free, and the bitmap marks those past the new end in
    use, as fsformat does."""
    path = fs_image_copy(name)
    with open(path, "r+b") as f:
        f.seek(FS_SUPER_BLOCKNO * FS_BLKSIZE)
        magic, nblocks = struct.unpack("<II", f.read(8))
        nbitmap = (nblocks + FS_BLKBITS - 1) // FS_BLKBITS
        f.seek(FS_BITMAP_BLOCKNO * FS_BLKSIZE)
        bitmap = bytearray(f.read(nbitmap * FS_BLKSIZE))
        last_used = max(b for b in range(nblocks)
                        if not bitmap[b // 8] >> (b % 8) & 1)
        small = last_used + 1 + free_blocks
        if small > nblocks or \
                (small + FS_BLKBITS - 1) // FS_BLKBITS != nbitmap:
            fail("cannot shrink %s to %d blocks" % (path, small))
        for b in range(small, nbitmap * FS_BLKBITS):
            bitmap[b // 8] &= ~(1 << (b % 8)) & 0xFF
        f.seek(FS_BITMAP_BLOCKNO * FS_BLKSIZE)
        f.write(bitmap)
        f.seek(FS_SUPER_BLOCKNO * FS_BLKSIZE)
        f.write(struct.pack("<II", magic, small))
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


# isa-debug-exit ends QEMU with (value << 1) | 1 (kern/syscall.c).
QEMU_POWEROFF_STATUS = 99


@test("poweroff", emulator="qemu", timeout=60)
def poweroff():
    """poweroff syncs the disk and ends QEMU; the data is there after a reboot.

    poweroff syncs the file system and ends QEMU through isa-debug-exit
    (exit status 99); the file written before it is there at the next
    boot on the same disk."""
    disk = fs_image_copy("poweroff")
    r = boot("fs+icode", disks=[KERNEL_IMG, disk])
    shell(r)
    shell_cmd(r, "echo powered 2718 > /powered")
    r.send("poweroff")
    r.expect(r"poweroff: file system synced")
    status = r.wait(timeout=20)
    if status != QEMU_POWEROFF_STATUS:
        fail("QEMU exited with status %s after poweroff, not %d"
             % (status, QEMU_POWEROFF_STATUS))
    r = boot("fs+icode", disks=[KERNEL_IMG, disk], label="reboot")
    shell(r)
    shell_cmd(r, "cat /powered", r"(?m)^powered 2718\r?$")


@test("poweroff-bochs", emulator="bochs", timeout=120)
def poweroff_bochs():
    """poweroff ends Bochs (its shutdown port 0x8900)."""
    r = boot("fs+icode", disks=[KERNEL_IMG, fs_image_copy("poweroff-bochs")],
             input=True)
    shell(r)
    r.send("poweroff")
    r.expect(r"poweroff: file system synced")
    r.wait(timeout=30)
    with open(r.bochs_log, errors="replace") as f:
        log = f.read()
    if "Shutdown port: shutdown requested" not in log:
        fail("Bochs did not end through its shutdown port")


# make bochs's window: the display library its configuration names.
BOCHS_PLUGIN_GLOBS = ["/usr/lib/*/bochs/plugins", "/usr/lib/bochs/plugins",
                      "/usr/local/lib/bochs/plugins"]


@test("bochs-window", emulator="bochs", timeout=120)
def bochs_window():
    """make bochs's configuration names a display library whose Bochs
    plugin is installed, and Bochs boots to the shell with it (SDL's dummy
    video driver stands in for the screen CI does not have)."""
    os.makedirs(GRADEDIR, exist_ok=True)
    env = dict(os.environ, FS_IMAGE=fs_image_copy("bochs-window"))
    env.pop("BOCHSDISPLAY", None)
    out = subprocess.run(
        ["sh", "conf/mkbochsrc.sh", "x", KERNEL_IMG, "1", "256",
         "corei7_skylake_x", GRADEDIR], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if out.returncode != 0:
        fail("conf/mkbochsrc.sh x: %s" % out.stderr.decode().strip())
    cfg = out.stdout.decode()
    m = re.search(r"(?m)^display_library: (\w+)", cfg)
    if not m:
        fail("make bochs's configuration names no display library")
    plugins = [p for g in BOCHS_PLUGIN_GLOBS
               for p in glob.glob(os.path.join(g, "libbx_%s_gui.so"
                                               % m.group(1)))]
    if not plugins:
        fail("display_library %s: Bochs has no plugin for it" % m.group(1))
    rc = os.path.join(GRADEDIR, "bochs-window.bochsrc")
    cont = os.path.join(GRADEDIR, "bochs-window.rc")
    with open(rc, "w") as f:
        f.write(cfg)
    with open(cont, "w") as f:
        f.write("c\nq\n")
    bochs = os.environ.get("BOCHS") or make_var("bochs") or "bochs"
    # As `make bochs` runs it: the serial console on Bochs' stdout.
    r = run_command([bochs, "-q", "-unlock", "-f", rc, "-rc", cont],
                    label="bochs-window", stdin=False,
                    env={"SDL_VIDEODRIVER": "dummy"})
    r.expect(r"init: starting sh")
    r.expect(r"\$ ")


# ---- Classic JOS programs and graders (issue 15) ---------------------------
#
# Programs written for the classic 64-bit JOS labs build here unchanged and
# print the lines the classic graders match (docs/jos-api.md): the
# warning set, the user layout, the trap-frame dump, the FS server's
# self-checks, the disk's files, sh -x and divzero (with the tests above).

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
             qemu_timeout=120, ryzen=False, locks=(), serial=()):
    """Register the decorated function as NAME (VT-x under Bochs) and
    NAME-svm (AMD-V under QEMU); with ryzen=True also as NAME-ryzen.
    LOCKS: as test()'s; SERIAL: the vendors ("vmx", "svm", "ryzen")
    whose test runs with no other test beside it."""
    def register(func):
        test(name, emulator="bochs", cpus=cpus, timeout=bochs_timeout,
             locks=locks, serial="vmx" in serial)(func)
        test(name + "-svm", emulator="qemu", cpus=cpus,
             timeout=qemu_timeout, locks=locks,
             serial="svm" in serial)(func)
        if ryzen:
            test(name + "-ryzen", emulator="bochs", cpus=cpus,
                 timeout=bochs_timeout, locks=locks,
                 serial="ryzen" in serial)(func)
        return func
    return register


@vmm_test("ept-selftest", bochs_timeout=300, qemu_timeout=60)
def ept_selftest():
    """The kernel's EPT/NPT self-test passes with this vendor's entry format.

    The kernel built with -DTEST_EPT_MAP runs its EPT self-test at boot
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
    """`vmm hello` runs a program in a guest JOS and leaks no page.

    `vmm hello` boots the guest JOS with just `hello` to run: VMXON (or
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


# Issue 14: the host memory a guest costs beyond its RAM (nested tables,
# VMCS/VMCB and MSR bitmap, console rings, struct Guest), as the VMM's
# "guest freed" line reports it, at most this share of a 64 MiB guest's
# RAM once the guest has touched it all.
VMM_OVERHEAD_MAX_PERCENT = 1.0
# memtouch must have touched at least this share of guest RAM (the guest
# kernel's own memory is the rest).
MEMTOUCH_MIN_SHARE = 0.75
GUEST_DEFAULT_MIB = 64


@vmm_test("vmm-overhead")
def vmm_overhead():
    """A 64 MiB guest that touched its RAM costs the VMM <= 1% more."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("vmm-overhead")])
    shell(r)
    start = len(r.text)
    vmm_session(r, "vmm memtouch")
    out = r.text[start:]
    touched = re.search(r"memtouch: (\d+) pages \((\d+) KiB\) touched", out)
    if not touched:
        fail("memtouch did not say how much memory it touched")
    kib = int(touched.group(2))
    if kib < MEMTOUCH_MIN_SHARE * GUEST_DEFAULT_MIB * 1024:
        fail("memtouch touched only %d KiB of %d MiB"
             % (kib, GUEST_DEFAULT_MIB))
    m = re.search(r"vmm: guest [0-9a-f]{8} freed: .*overhead (\d+) KiB "
                  r"\((\d+)\.(\d\d)% of guest RAM\)", out)
    if not m:
        fail("the guest-freed line gave no overhead figure")
    percent = int(m.group(2)) + int(m.group(3)) / 100
    if percent > VMM_OVERHEAD_MAX_PERCENT:
        fail("the VMM used %s KiB beyond guest RAM: %.2f%% > %.2f%%"
             % (m.group(1), percent, VMM_OVERHEAD_MAX_PERCENT))


@vmm_test("vmm-smp", cpus=2)
def vmm_smp():
    """A guest runs on a 2-CPU host and moves between the CPUs.

    The guest on a 2-CPU host: each CPU turns VMX/SVM on the first time
    it runs the guest; the guest's state follows it between CPUs."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("vmm-smp")])
    shell(r)
    vmm_session(r, "vmm vmstress")
    if not re.search(r"vmstress: all 20000 exits checked", r.text):
        fail("vmstress did not check all its exits")


@vmm_test("vmm-badcalls", bochs_timeout=300, qemu_timeout=60, ryzen=True)
def vmm_badcalls():
    """Bad guest-making system calls get errors and leak nothing.

    Bad sys_env_mkguest and sys_ept_map calls from a user program get
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
    """The guest JOS boots to its shell, uses its own disk and halts.

    The guest JOS boots to `vm$ ` from its own disk (/vmm/fs.img in the
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
    # So a line may start with that prompt.
    guest_send(r, "forktree")
    for name in ("111", "110", "101", "100", "011", "010", "001", "000"):
        r.expect(r"(?m)^(?:vm\$ )?[0-9a-f]{4}: I am '%s'\r?$" % name)
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


# Alone on AMD-V: QEMU's TSC follows the host clock, so the guest's
# `busy` ends sooner, in host commands, when another test loads the CPUs
# (it ended before `vms` ran once, beside another test).
@vmm_test("jos-on-jos-beside", cpus=2, serial=("svm",))
def jos_on_jos_beside():
    """A host command completes while a background guest spins.

    A host command completes while a guest spins (2 CPUs): host timer
    interrupts leave the guest and the host scheduler runs the shell. The
    guest runs in the background (a foreground guest takes the console's
    input), and is attached afterwards: its output so far, then the
    rest."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-beside")])
    shell(r)
    r.send("vmm -b -n spinner busy 1500", delay=GUEST_TYPING_DELAY)
    r.expect(r"\(spinner\) runs in the background")
    r.expect(HOST_PROMPT)
    shell_cmd(r, "echo host is alive", r"(?m)^host is alive\r?$")
    out = host_cmd(r, "vms")
    if not re.search(r"(?m)^[0-9a-f]{8} spinner .*background", out):
        fail("the guest finished before the host command ran: no overlap"
             "\n%s" % out)
    attach(r, "spinner")
    r.expect(r"busy: spinning")
    r.expect(r"busy: done")
    r.expect(r"guest [0-9a-f]{8} \(spinner\) exited")
    r.expect(HOST_PROMPT)
    guest_problems(r)


@vmm_test("jos-on-jos-escape")
def jos_on_jos_escape():
    """Ctrl-] q on the host console ends the guest; vmm returns and can
    run again at once."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-escape")])
    shell(r)
    guest_boot(r)
    r.send("\x1dq", newline="")
    r.expect(r"ended from the host console")
    r.expect(VMM_FREE)
    r.expect(HOST_PROMPT)
    guest_boot(r)
    guest_halt(r)


@vmm_test("jos-on-jos-badcalls", ryzen=True)
def jos_on_jos_badcalls():
    """A guest program's bad hypercalls get errors; guest and host go on.

    A guest program's bad hypercalls (unknown numbers, addresses outside
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


# Copies of /lorem (1190 bytes) in the multi-block file of
# jos-on-jos-bulksync: 14 KiB, four blocks, written by the guest's server
# to the host in one bulk request.
BULK_COPIES = 12


@vmm_test("jos-on-jos-bulksync", bochs_timeout=600, qemu_timeout=180)
def jos_on_jos_bulksync():
    """A multi-block file written in the guest and synced there is on the
    host's disk when the guest's sync returns: the host is killed at once
    (no halt, no host sync), rebooted, and a new guest reads it whole."""
    disk = fs_image_copy("jos-bulksync")
    r = vboot(input=True, disks=[KERNEL_IMG, disk])
    shell(r)
    guest_boot(r)
    guest_cmd(r, "cat %s > /big; sync; echo synced"
              % " ".join(["/lorem"] * BULK_COPIES), r"(?m)^synced\r?$")
    guest_cmd(r, "wc /lorem", r"(?m)^\s*(\d+)\s+(\d+)\s+1190")
    lines, words = re.findall(r"(?m)^\s*(\d+)\s+(\d+)\s+1190",
                              r.text)[-1]
    r.kill()
    r = vboot(input=True, disks=[KERNEL_IMG, disk], label="reboot")
    shell(r)
    guest_boot(r)
    guest_cmd(r, "wc /big", r"(?m)^\s*%d\s+%d\s+%d"
              % (int(lines) * BULK_COPIES, int(words) * BULK_COPIES,
                 1190 * BULK_COPIES))
    guest_halt(r)
    guest_problems(r)


@vmm_test("jos-on-jos-bulkbad", bochs_timeout=600, qemu_timeout=180)
def jos_on_jos_bulkbad():
    """Hostile bulk requests from a guest program to the host file server
    (window pages out of range, lengths 0 and huge, offsets outside the
    disk image, bad file ids, writes through a read-only open, a window
    not mapped) get errors; the server, the guest's own disk and the host
    go on."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-bulkbad")])
    shell(r)
    guest_boot(r)
    guest_cmd(r, "vmbulkbad", r"vmbulkbad: all \d+ checks passed")
    if re.search(r"vmbulkbad: FAIL", r.text):
        fail("vmbulkbad reported a failure")
    # The guest's server finds its window ended by vmbulkbad's sync and
    # maps it again.
    guest_cmd(r, "cat /lorem /lorem /lorem > /x; wc /x; sync",
              r"(?m)^\s*\d+\s+\d+\s+3570")
    guest_halt(r)
    shell_cmd(r, "echo host still fine", r"(?m)^host still fine\r?$")
    guest_problems(r)


# Issue 19. Free blocks left on the host disk of jos-on-jos-diskfull
# (5 MiB): fewer than the holes of the guest's image (about 13 MiB), so
# the guest meets the host's reserve (1/16 of the disk, fs/bitmap.c)
# before its image is full.
DISKFULL_HOST_FREE = 1280
# The guest's disk image as the build made it (its size never changes).
GUEST_FS_IMG = "obj/guest/fs/fs.img"


@vmm_test("jos-on-jos-diskfull", bochs_timeout=600, qemu_timeout=180)
def jos_on_jos_diskfull():
    """A guest's disk is exactly its image, and the host keeps its space.

    On a host disk with 5 MiB free, a guest program (vmdiskfill) sends
    the host file server plain writes, set-size and bulk writes past its
    image's end: all refused, nothing changed, the size the same. Then it
    writes its own file system's free blocks (the holes of its sparse
    image, new host blocks) until the host refuses with -E_NO_DISK, and
    keeps asking. Meanwhile the host writes files that read back whole,
    and afterwards the image has its old size on the host too."""
    size = os.path.getsize(GUEST_FS_IMG)
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_small(
        "jos-diskfull", DISKFULL_HOST_FREE)])
    shell(r)
    shell_cmd(r, "vmm -b -n filler", r"\(filler\) runs in the background")
    shell_cmd(r, "echo while it boots > /h0; cat /h0",
              r"(?m)^while it boots\r?$")
    attach(r, "filler")
    r.expect(GUEST_PROMPT)
    guest_send(r, "vmdiskfill press")
    r.expect(r"vmdiskfill: the image is %d bytes" % size)
    m = r.expect(r"vmdiskfill: wrote (\d+) blocks into its image's free "
                 r"blocks, then the host refused: no free space on disk")
    r.expect(r"vmdiskfill: all \d+ checks passed")
    r.expect(r"vmdiskfill: pressing on")
    detach(r, "filler")
    if int(m.group(1)) == 0:
        fail("the guest wrote no block before the host refused")
    # The guest keeps asking for blocks; the host still has its own.
    for i in range(1, 4):
        shell_cmd(r, "echo host file %d > /h%d; cat /h%d" % (i, i, i),
                  r"(?m)^host file %d\r?$" % i)
    shell_cmd(r, "cat /lorem /lorem /lorem > /big; wc /big",
              r"(?m)^\s*\d+\s+\d+\s+3570 /big\r?$")
    shell_cmd(r, "vmm kill filler", r"\(filler\) killed")
    shell_cmd(r, "ls -l /vmm/fs.img", r"(?m)^-\s+%d /vmm/fs.img\r?$" % size)
    shell_cmd(r, "sync; cat /h0 /h3", r"(?m)^while it boots\r?$",
              r"(?m)^host file 3\r?$")
    if re.search(r"vmdiskfill: FAIL", r.text):
        fail("vmdiskfill reported a failure")
    guest_problems(r)


# Issue 19: during jos-on-jos-openhog, a host command answers within
# this many seconds; on Bochs the host is checked again this long into
# the attack.
HOST_ANSWER_MAX_S = 10
OPENHOG_HOLD_S = 120


def host_answers(r, nguests):
    """ls, a file written and read back, and vms each answer in time."""
    for line, pattern in (
            ("ls /vmm", r"(?m)^fs\.img\r?$"),
            ("echo during > /dur; cat /dur", r"(?m)^during\r?$"),
            ("vms", r"vms: %d guests?;" % nguests)):
        start = time.time()
        shell_cmd(r, line, pattern)
        took = time.time() - start
        if took > HOST_ANSWER_MAX_S:
            fail("the host took %.1f s to answer %r" % (took, line))


@vmm_test("jos-on-jos-openhog", bochs_timeout=600, qemu_timeout=180)
def jos_on_jos_openhog():
    """A guest holding all the host file opens it may get starves no one.

    A guest program (vmopenhog) opens its disk until the host file
    server refuses (-E_MAX_OPEN, at a guest's share) and holds them.
    Meanwhile host commands (ls, a file written and read back, vms)
    answer within seconds, and a second guest starts and ends; on Bochs
    again two minutes into the attack. Killed with `vmm kill`, the guest
    gives its opens back: the host opens files, and has exactly its free
    pages of before the attack."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-openhog")])
    shell(r)
    # Everything the attack makes the host read or write, once, so that
    # its file cache already holds it when the free pages are counted.
    guest_boot(r)
    guest_halt(r)
    vmm_session(r, "vmm -d /vmm/second.img hello")
    host_answers(r, 0)
    before, out = vms_free(r, 0)
    attack_start = time.time()
    shell_cmd(r, "vmm -b -n hog", r"\(hog\) runs in the background")
    attach(r, "hog")
    r.expect(GUEST_PROMPT)
    guest_send(r, "vmopenhog")
    m = r.expect(r"vmopenhog: holding (\d+) opens of its disk, then: too "
                 r"many files are open")
    r.expect(r"vmopenhog: all \d+ checks passed")
    detach(r, "hog")
    # The guest's own file-system server holds one open of its share.
    if int(m.group(1)) != FSOPEN_GUEST_MAX - 1:
        fail("the guest held %s opens, not %d"
             % (m.group(1), FSOPEN_GUEST_MAX - 1))
    host_answers(r, 1)
    vmm_session(r, "vmm -d /vmm/second.img hello")
    if vendor() != "svm":
        time.sleep(max(0, attack_start + OPENHOG_HOLD_S - time.time()))
        host_answers(r, 1)
    start = len(r.text)
    shell_cmd(r, "vmm kill hog", r"\(hog\) killed")
    killed = re.search(r"guest ([0-9a-f]{8}) \(hog\) killed",
                       r.text[start:]).group(1)
    end, r.cursor = r.cursor, start
    r.expect(r"guest %s freed" % killed, timeout=60)
    r.cursor = max(end, r.cursor)
    host_answers(r, 0)
    after, out = vms_free(r, 0)
    if re.search(r"vmopenhog: FAIL", r.text):
        fail("vmopenhog reported a failure")
    guest_problems(r)
    if before != after:
        fail("host free pages %d before the attack, %d after it: the "
             "guest's opens were not all given back" % (before, after))


# ---- Several guests; a console that loses nothing ---------------------------

def long_line():
    """A line of more than 4 KiB for `echo`: eight distinct words with long
    runs of spaces between them (spawn's argument page holds the words,
    not the spaces), and what echo prints back for it."""
    words = [(chr(ord("a") + i) + "0123456789") * 36 for i in range(8)]
    line = "echo " + (" " * 135).join(words)
    assert len(line) > 4096
    return line, " ".join(words)


def expect_line(r, text):
    r.expect(r"(?m)^%s\r?$" % re.escape(text))


@vmm_test("jos-on-jos-burst", bochs_timeout=400, qemu_timeout=120)
def jos_on_jos_burst():
    """Fast typing loses nothing in the host's and the guest's shells.

    Input typed at full speed loses nothing: a 4 KiB line into the host
    shell, a command typed ahead while the guest boots (it reaches the
    guest's shell), a 4 KiB line into the guest's shell. Ctrl-C ends the
    foreground command, in the host shell and in the guest's."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-burst")])
    shell(r)
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
    pty (gradelib keeps that pty raw) and, like any typed byte, is also
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


def host_cmd(r, line, *patterns):
    """shell_cmd that returns the text the command printed."""
    start = len(r.text)
    shell_cmd(r, line, *patterns)
    return r.text[start:]


def vms_free(r, nguests):
    out = host_cmd(r, "vms", r"vms: %d guests?; host free pages: (\d+)"
                   % nguests)
    return int(re.search(r"host free pages: (\d+)", out).group(1)), out


def attach(r, name):
    """vmm attach NAME: its keys are printed, then its output replayed."""
    r.send("vmm attach %s" % name)
    r.expect(r"guest [0-9a-f]{8} \(%s\) in the foreground: Ctrl-\] d "
             r"detaches it, Ctrl-\] q ends it" % name)


def detach(r, name):
    r.send("\x1dd", newline="")
    r.expect(r"guest [0-9a-f]{8} \(%s\) runs in the background" % name)
    r.expect(HOST_PROMPT)


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
    shell_cmd(r, "vmm kill %s" % names[0], r"\(%s\) killed" % names[0])
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
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-multi")])
    shell(r)
    multi_round(r, names)
    first, out = vms_free(r, 0)
    multi_round(r, names)
    second, out = vms_free(r, 0)
    guest_problems(r)
    if first != second:
        fail("host free pages %d after the first round, %d after the "
             "second: a leak" % (first, second))


test("jos-on-jos-multi-svm", emulator="qemu", cpus=2,
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
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-three")])
    shell(r)
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


# AMD-V under QEMU on two CPUs; VT-x and AMD-V (ryzen) under Bochs on one
# CPU, with 16 MiB guests (Bochs is ~10x slower than QEMU).
test("jos-on-jos-three-svm", emulator="qemu", cpus=2,
     timeout=300)(jos_on_jos_three)
test("jos-on-jos-three", emulator="bochs", cpus=1,
     timeout=600)(jos_on_jos_three)
test("jos-on-jos-three-ryzen", emulator="bochs", cpus=1,
     timeout=600)(jos_on_jos_three)


# Quick on QEMU, minutes on Bochs: these two run on AMD-V only; the code
# they exercise (vmm/vmctl.c, vmm/vmcons.c, IPC_CALL) is vendor-neutral.
@test("jos-on-jos-disks-svm", emulator="qemu", timeout=120)
def jos_on_jos_disks():
    """Guest disks and names are unique; Ctrl-] x reaches the guest.

    Two guests may not share a disk; names are unique; a bad guest
    name gets an error; Ctrl-] followed by another key reaches the
    guest."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-disks")])
    shell(r)
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
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("jos-fsconc")])
    shell(r)
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
    shell_cmd(r, "vmm kill busy", r"\(busy\) killed")
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


# ---- Hostile guests (kern/attack.c, user/vmattack3.c) ------------------------
#
# Each attack runs in a fresh guest (`vmm attack NAME`: the guest kernel
# runs it at CPL 0 instead of starting any env). It may end with the VMM
# stopping the guest (a report with guest RIP), with an exception inside
# the guest, or with an architectural result; never with a host panic, a
# hung host, a leaked page or a value from another guest.

HOSTILE_ATTACKS = [
    "vmxon", "vmclear", "vmptrld", "vmptrst", "vmread", "vmwrite",
    "vmlaunch", "vmresume", "vmxoff", "invept", "invvpid", "vmfunc",
    "vmrun", "vmload", "vmsave", "stgi", "clgi", "skinit", "invlpga",
    "getsec", "invd", "wbinvd", "xsetbv-bad", "xsetbv-avx",
    "rdmsr-unknown", "wrmsr-lstar", "rdmsr-x2apic", "wrmsr-featctl",
    "wrmsr-hsave", "wrmsr-apicbase", "wrmsr-tsc-aux", "wrmsr-efer-svme",
    "out-post", "in-kbd", "out-com1", "in-pci", "out-shutdown",
    "out-qemu-exit", "outsb", "cr0-pg-no-pe", "cr4-reserved", "cr4-vmxe",
    "cr3-beyond-ram", "cr8", "read-beyond-ram", "write-vga-hole",
    "lapic-mmio", "exec-nonram", "pml4-garbage", "triple-fault", "bad-gdt",
    "int3-storm", "tf-storm", "soft-nmi", "ud2", "divzero", "cli-hlt",
    "mwait-cli", "movss-hypercall", "sti-hlt", "pause-loop",
    "boot-sti-pause", "hypercall-scan", "hypercall-flood", "ipc-from-hole",
    "ipc-no-recv", "leak-write", "leak-read",
]
# Attacks whose only sane ending is an architectural result.
HOSTILE_MUST_SURVIVE = {"cr8", "int3-storm", "tf-storm", "soft-nmi",
                        "sti-hlt", "pause-loop", "hypercall-scan",
                        "hypercall-flood", "ipc-from-hole", "leak-write",
                        "leak-read", "movss-hypercall", "wbinvd", "invd"}
# ... or a #UD, as on a CPU without the feature CPUID hides.
HOSTILE_UD = {"vmxon", "vmclear", "vmptrld", "vmptrst", "vmread", "vmwrite",
              "vmlaunch", "vmresume", "vmxoff", "invept", "invvpid",
              "vmrun", "vmload", "vmsave", "stgi", "clgi", "skinit",
              "invlpga", "mwait-cli"}
# (xsetbv-avx: #UD where the CPU intercepts XSETBV; QEMU's SVM does not,
# so there the guest's XCR0 is its own, which leak-read checks.)
# ... or an exception inside the guest (which one may differ by CPU).
HOSTILE_EXCEPTION = {"xsetbv-bad", "ud2", "divzero",
                     "rdmsr-unknown",
                     "wrmsr-lstar", "rdmsr-x2apic", "wrmsr-featctl",
                     "wrmsr-hsave", "wrmsr-apicbase", "wrmsr-tsc-aux"}


# Attacks an emulator cannot take: QEMU 7.2's TCG aborts (an assertion in
# tcg_handle_interrupt) when an SVM guest writes CR8 with V_INTR_MASKING,
# before the VMM sees anything; Bochs 2.7's ryzen model panics on a
# guest's triple fault ("3rd exception with no resolution") instead of
# taking the SHUTDOWN intercept. The other platforms run each.
HOSTILE_EMULATOR_BUGS = {"svm": {"cr8"},
                         "ryzen": {"triple-fault", "bad-gdt"}}
# Bochs' ryzen model (the second AMD-V platform) runs one attack or two
# of each class, and Bochs' VT-x model every attack that reaches the VMM
# on Intel (not the SVM instructions, which are #UD there without an
# exit), with one or two per class of ports and MSRs, to keep `make
# grade` short; QEMU's AMD-V runs them all.
HOSTILE_RYZEN = ["vmrun", "stgi", "invlpga", "xsetbv-avx", "wrmsr-lstar",
                 "wrmsr-efer-svme", "out-shutdown", "cr8", "cr4-reserved",
                 "read-beyond-ram", "lapic-mmio", "int3-storm",
                 "tf-storm", "cli-hlt", "movss-hypercall", "sti-hlt",
                 "hypercall-scan", "ipc-no-recv", "leak-write", "leak-read"]
HOSTILE_VMX = [a for a in HOSTILE_ATTACKS if a not in {
    "vmrun", "vmload", "vmsave", "stgi", "clgi", "skinit", "invlpga",
    "rdmsr-x2apic", "wrmsr-featctl", "wrmsr-hsave", "in-kbd", "in-pci",
    "out-qemu-exit", "out-com1", "write-vga-hole", "ud2", "divzero",
    "soft-nmi", "pause-loop", "hypercall-flood"}]


def hostile_attack(r, name):
    """`vmm attack NAME`; check how it ended. Returns vmm's free pages."""
    start = len(r.text)
    r.send("vmm attack %s" % name)
    m = r.expect(VMM_FREE)
    r.expect(HOST_PROMPT)
    out = r.text[start:]
    stopped = re.search(r"vmm: guest [0-9a-f]{8} stopped: .*; guest rip "
                        r"0x[0-9a-f]+", out)
    fault = re.search(r"attack %s: guest exception (\d+)" % re.escape(name),
                      out)
    survived = re.search(r"attack %s: survived" % re.escape(name), out)
    if not re.search(r"attack %s \(\w+\): starting" % re.escape(name), out):
        fail("attack %s did not start" % name)
    if not (stopped or fault or survived):
        fail("attack %s ended without a report:\n%s" % (name, out[-600:]))
    if name in HOSTILE_MUST_SURVIVE and not survived:
        fail("attack %s should complete inside the guest:\n%s"
             % (name, out[-600:]))
    if name in HOSTILE_UD and not (fault and fault.group(1) == "6"):
        fail("attack %s should get #UD:\n%s" % (name, out[-600:]))
    if name in HOSTILE_EXCEPTION and not fault:
        fail("attack %s should fault in the guest:\n%s"
             % (name, out[-600:]))
    if "LEAKED" in out:
        fail("attack %s: state crossed from another guest:\n%s"
             % (name, out[-600:]))
    return int(m.group(2)), int(m.group(3))


@vmm_test("hostile-cpl0", bochs_timeout=600, qemu_timeout=300, ryzen=True)
def hostile_cpl0():
    """Every CPL-0 attack on the VMM ends safely, with no leak.

    Every CPL-0 attack of kern/attack.c, each in a fresh guest, on a
    1-CPU host: each ends with a report, an exception inside the guest or
    an architectural result; the host answers after each, no page leaks
    (every session starts with the free pages the one before started
    with: a page a dying guest had sent to the host FS server comes back
    when the server lets go of it, just after vmm prints its figures), no
    value planted by one guest is seen by the next, and after the CR8
    attack the host's timer still preempts (spin)."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("hostile")])
    shell(r)
    r.send("vmm attack list")
    m = r.expect(r"attack: (\d+) attacks:")
    r.expect(VMM_FREE)
    r.expect(HOST_PROMPT)
    if int(m.group(1)) < 40:
        fail("only %s attacks" % m.group(1))
    # The host FS cache now holds vmm, the guest kernel and echo.
    shell_cmd(r, "echo warm", r"(?m)^warm\r?$")
    last = None
    names = {"ryzen": HOSTILE_RYZEN, "vmx": HOSTILE_VMX}.get(vendor(),
                                                        HOSTILE_ATTACKS)
    for i, name in enumerate(names):
        if name in HOSTILE_EMULATOR_BUGS.get(vendor(), ()):
            continue
        before, after = hostile_attack(r, name)
        if last is not None and before != last[1]:
            fail("attack %s leaked %d pages" % (last[0], last[1] - before))
        last = (name, before)
        shell_cmd(r, "echo alive %d" % i, r"(?m)^alive %d\r?$" % i)
    shell_cmd(r, "spin", r"I am the parent.  Killing the child")


@vmm_test("hostile-spin", bochs_timeout=300, qemu_timeout=90)
def hostile_spin():
    """A guest spinning with interrupts off (1 CPU): the host shell still
    runs commands, and Ctrl-] ends the guest at once."""
    hostile_spin_check(vboot(input=True, disks=[
        KERNEL_IMG, fs_image_copy("hostile-spin")]))


@vmm_test("hostile-spin-smp", cpus=2, bochs_timeout=300, qemu_timeout=90)
def hostile_spin_smp():
    """The same on a 2-CPU host."""
    hostile_spin_check(vboot(input=True, disks=[
        KERNEL_IMG, fs_image_copy("hostile-spin-smp")]))


def hostile_spin_check(r):
    """A background guest spins with interrupts off; the host shell runs a
    command meanwhile; attached, Ctrl-] q ends it at once."""
    shell(r)
    shell_cmd(r, "vmm -b -n attacker attack cli-spin",
              r"vmm: guest [0-9a-f]{8} \(attacker\) runs in the background")
    shell_cmd(r, "echo during", r"(?m)^during\r?$")
    r.send("vmm attach attacker")
    r.expect(r"Ctrl-\] q ends it")
    r.expect(r"attack cli-spin: spinning with interrupts off")
    r.send("\x1dq", newline="")
    r.expect(r"ended from the host console",
             timeout=5 if vendor() != "svm" else 2)
    r.expect(HOST_PROMPT)
    shell_cmd(r, "echo after", r"(?m)^after\r?$")


# Issue 19: guests that spin with interrupts off and never touch IF again
# (kern/attack_irq.c). The host shell must answer within SPIN_ANSWER_S
# seconds while one spins, and again SPIN_LATER_S seconds into the attack
# (on Bochs' VT-x the host was lost for good once the guest had been
# entered a second time: minutes in shows it stays alive).
SPIN_ANSWER_S = 15
SPIN_LATER_S = {"vmx": 120, "svm": 30, "ryzen": 30}
# Bochs' ryzen model has the same bug as its VT-x, and AMD-V no
# preemption timer: a guest spinning there with IF clear and no exit at
# all keeps its CPU (vmm/README.md, threat model). PAUSE exits, so the
# other spins are contained there too.
SPIN_EMULATOR_BUGS = {"ryzen": {"cli-jmp"}}
SPIN_NAME = "spinner"
# What each spinning attack prints once it spins.
SPIN_ATTACKS = {
    "cli-pause": r"attack cli-pause: pause with interrupts off",
    "cli-jmp": r"attack cli-jmp: jmp to itself with interrupts off",
    "boot-cli-pause": r"attack boot-cli-pause: no IDT, pause with "
                      r"interrupts off",
    "tick-cli-pause": r"attack tick-cli-pause: \d+ ticks, now pause with "
                      r"interrupts off",
    "cli-cpuid": r"attack cli-cpuid: CPUID with interrupts off",
}
WC_LINE = r"(?m)^\s*(\d+)\s+(\d+)\s+(\d+)"


def spin_start(r, name):
    """Start attack NAME in the background as SPIN_NAME; attach until it
    says it spins, then detach."""
    shell_cmd(r, "vmm -b -n %s attack %s" % (SPIN_NAME, name),
              r"\(%s\) runs in the background" % SPIN_NAME)
    attach(r, SPIN_NAME)
    r.expect(SPIN_ATTACKS[name])
    detach(r, SPIN_NAME)


def spin_answers(r, tag):
    """The host shell runs `echo TAG` within SPIN_ANSWER_S seconds."""
    r.send("echo %s" % tag)
    r.expect(r"(?m)^%s\r?$" % tag, timeout=SPIN_ANSWER_S)
    r.expect(HOST_PROMPT, timeout=SPIN_ANSWER_S)


def spin_kill(r, name, free):
    """vmm kill the spinning guest: it is freed (if its CPU was running
    it, at its next exit) and the host has FREE free pages again."""
    start = len(r.text)
    shell_cmd(r, "vmm kill %s" % SPIN_NAME, r"\(%s\) killed" % SPIN_NAME)
    end, r.cursor = r.cursor, start
    r.expect(r"guest [0-9a-f]{8} freed", timeout=SPIN_ANSWER_S)
    r.cursor = max(r.cursor, end)
    after, out = vms_free(r, 0)
    if after != free:
        fail("after attack %s the host has %d free pages, %d before:\n%s"
             % (name, after, free, out))


@vmm_test("hostile-early-spin", bochs_timeout=540, qemu_timeout=200,
          ryzen=True)
def hostile_early_spin():
    """Guests spinning with interrupts off from early boot (1 CPU): the
    host answers during and minutes into it; kill frees every page.

    `vmm -b -n spinner attack cli-pause`: the guest kernel runs cli right
    after its CPUID check (before its own timer), then pause for ever,
    never touching IF again. The host shell answers within seconds, and
    again two minutes into the attack (30 s on AMD-V); a file written
    meanwhile reads back whole; `vmm kill` ends the guest and the host's
    free pages come back. Then, more briefly (answer, kill, pages back),
    the siblings: a jmp to itself, pause before the guest has an IDT,
    pause after the guest took timer ticks, CPUID (fast-path exits) back
    to back."""
    r = vboot(input=True, disks=[KERNEL_IMG,
                                 fs_image_copy("hostile-early-spin")])
    shell(r)
    # The host FS cache then holds vmm, the guest kernel and /spin.
    r.send("vmm attack list")
    r.expect(VMM_FREE)
    r.expect(HOST_PROMPT)
    lorem = [int(n) for n in re.search(WC_LINE, host_cmd(
        r, "wc /lorem", WC_LINE)).groups()]
    copies = "cat /lorem /lorem /lorem > /spin; wc /spin"
    shell_cmd(r, copies, WC_LINE)
    free, _ = vms_free(r, 0)
    spin_start(r, "cli-pause")
    spin_answers(r, "during")
    time.sleep(SPIN_LATER_S[vendor()])
    spin_answers(r, "later")
    got = [int(n) for n in re.search(WC_LINE, host_cmd(
        r, copies, WC_LINE)).groups()]
    if got != [3 * n for n in lorem]:
        fail("a file written during the attack reads back as %s "
             "(lines, words, bytes), not %s"
             % (got, [3 * n for n in lorem]))
    spin_kill(r, "cli-pause", free)
    for name in SPIN_ATTACKS:
        if name != "cli-pause" and \
                name not in SPIN_EMULATOR_BUGS.get(vendor(), ()):
            spin_start(r, name)
            spin_answers(r, "beside %s" % name)
            spin_kill(r, name, free)


@vmm_test("vmm-fuzz", cpus=2, bochs_timeout=400, qemu_timeout=120)
def vmm_fuzz():
    """Random guest system calls racing with teardown: no panic, no leak.

    sys_env_mkguest and sys_ept_map with random arguments, into live,
    dying and destroyed guests, racing with a child on the other CPU that
    destroys each guest: no panic, every page back."""
    r = vboot("vmmfuzz")
    r.match(r"vmmfuzz: seed \d+",
            r"vmmfuzz: \d+ calls, \d+ guests, kernel survived, free pages "
            r"equal", FREE_AFTER,
            no=PANIC + [r"vmmfuzz: FAIL", r"user panic"])
    check_free_pages(r)


@vmm_test("hostile-cpl3", ryzen=True)
def hostile_cpl3():
    """The CPL-3 attacks of user/vmattack3.c in the guest's shell: each
    only kills its own process; the guest and the host go on."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("hostile-cpl3")])
    shell(r)
    guest_boot(r)
    guest_cmd(r, "vmattack3", r"vmattack3: all \d+ attacks done")
    guest_cmd(r, "echo guest alive", r"(?m)^guest alive\r?$")
    guest_halt(r)
    shell_cmd(r, "echo host alive", r"(?m)^host alive\r?$")
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


@vmm_test("vmm-gdb", bochs_timeout=420, qemu_timeout=180, locks=[GDB_PORTS])
def vmm_gdb():
    """gdb debugs a guest kernel through the VMM's gdb stub on COM2.

    `vmm -g` stops the guest at its first instruction; gdb (batch mode,
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


# ---- The guest gdb port under attack (issue 19) -------------------------------
#
# Whoever connects to the guest gdb port may send anything at any rate, or
# never read. The stub works a bounded amount per timer tick (vmm/gdbpkt.c,
# kern/com2.c), so the host shell must keep answering meanwhile. The
# attacks themselves are in gdbattack.py.

# Seconds the host shell may take to answer during an attack (a command,
# then a file written and read back); scaled like every test timeout.
# Measured: 0.2-0.4 s under Bochs and about 0.05 s under QEMU, attack or
# not; before the stub was bounded it did not answer while one lasted.
GDB_PORT_ANSWER_S = {"vmx": 8, "svm": 4}
# Seconds an attack runs before the host is asked (so it is in full swing).
GDB_PORT_WARMUP_S = {"vmx": 6, "svm": 2}
GDB_PORT_ATTACKS = ("flood", "drip", "garbage", "never-read")


def host_answers(r, tag):
    """The host shell echoes a line and writes a file that reads back
    whole, each within GDB_PORT_ANSWER_S seconds."""
    limit = GDB_PORT_ANSWER_S["vmx" if vendor() == "vmx" else "svm"]
    r.send("echo during %s" % tag)
    r.expect(r"(?m)^during %s\r?$" % tag, timeout=limit)
    r.expect(HOST_PROMPT, timeout=limit)
    line = "gdbport-%s-%s" % (tag, "0123456789abcdef" * 4)
    r.send("echo %s > /gdbport; cat /gdbport" % line)
    r.expect(r"(?m)^%s\r?$" % line, timeout=limit)
    r.expect(HOST_PROMPT, timeout=limit)


def gdb_port_setup(name):
    """Boot with COM2 on the guest gdb port, connect the attacking
    client (Bochs starts only once a client is there), and start a
    background guest stopped for gdb, so that `g` and `m` have real
    replies. Returns (run, client)."""
    port = guest_gdb_port()
    if port_in_use(port):
        fail("port %d is in use (another make qemu / bochs?)" % port)
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy(name)],
              com2_port=port)
    wait_listening(port, r)
    c = gdbattack.PortClient(port)
    shell(r)
    shell_cmd(r, "vmm -b -g -n dbg", r"waits for gdb on COM2",
              r"vmm: guest [0-9a-f]{8} \(dbg\) runs in the background")
    return r, c


def gdb_port_recovered(r, c):
    """Read what the attacks left; then a real gdb, through the same
    connection, reads the stopped guest's rip and detaches (the guest
    then runs), and the guest is killed."""
    c.drain(quiet=3, limit=60)
    g = run_gdb("info registers rip", "detach", port=c.relay_gdb(),
                elf=GUEST_KERNEL_ELF, setup=["set remotetimeout 60"],
                label="gdb-after")
    g.wait(timeout=120)
    g.match(r"(?m)^rip\s+0x[0-9a-f]+", r"detached\]")
    c.close()
    shell_cmd(r, "vmm kill dbg")
    guest_problems(r)


@vmm_test("gdb-port-hostile", bochs_timeout=600, qemu_timeout=150,
          locks=[GDB_PORTS])
def gdb_port_hostile():
    """Floods, drips, garbage and unread replies on the guest gdb port
    never stop the host; gdb works afterwards.

    One client on the guest gdb port, with a guest stopped for gdb in
    the background: a flood of valid packets (?, g, m), a drip of one
    byte every 5 ms in packets that restart before they end, random
    bytes, and 48 requests for 4 KiB replies that it never reads. During
    each, the host shell answers a command and writes and reads back a
    file within seconds. The flood gets replies, the never-read client
    gets every one of its replies once it reads (deferred, not dropped),
    and then a real gdb on the same connection reads rip and detaches."""
    r, c = gdb_port_setup("gdb-port-hostile")
    host_answers(r, "before")
    warmup = GDB_PORT_WARMUP_S["vmx" if vendor() == "vmx" else "svm"]
    for name in GDB_PORT_ATTACKS:
        c.start(name)
        time.sleep(warmup)
        host_answers(r, name)
        c.stop()
        # What the attack left queued is served, then quiet.
        c.drain(quiet=2, limit=90)
        if name == "flood" and c.replies() < 100:
            fail("the flood got only %d replies" % c.replies())
        if name == "never-read":
            if c.big_replies() != gdbattack.NEVER_READ_REQUESTS:
                fail("the never-read client got %d of its %d replies "
                     "(%d bytes, starting %r)"
                     % (c.big_replies(), gdbattack.NEVER_READ_REQUESTS,
                        len(c.received), bytes(c.received[:80])))
        host_answers(r, "after-" + name)
    gdb_port_recovered(r, c)


@test("gdb-port-flood-long", emulator="bochs", timeout=600,
      locks=[GDB_PORTS])
def gdb_port_flood_long():
    """A flood of valid packets on the guest gdb port for over two
    minutes (Bochs, VT-x): the host shell answers all along.

    The host shell answers, and a file reads back whole, 10 s, 60 s and
    125 s into the flood and after it; then gdb works on the port."""
    r, c = gdb_port_setup("gdb-port-flood-long")
    start = time.monotonic()
    c.start("flood")
    for at in (10, 60, 125):
        time.sleep(max(0, start + at - time.monotonic()))
        host_answers(r, "%ds" % at)
    c.stop()
    if c.replies() < 1000:
        fail("the flood got only %d replies" % c.replies())
    host_answers(r, "after")
    gdb_port_recovered(r, c)


@test("vmm-monitor", emulator="qemu", timeout=30)
def vmm_monitor():
    """The VMM's monitor commands exist and reject bad arguments.

    The VMM's monitor commands exist and check their arguments: vms with
    no guest, a bad id and a missing address are reported, not obeyed."""
    r = boot("monitor")
    r.expect(PROMPT)
    r.send("vms")
    r.expect(r"ID\s+name\s+vendor\s+state\s+exits")
    r.expect(r"\(no guests\)")
    r.send("vmstate 1000")
    r.expect(r"vmstate: no guest 1000 \(vms lists them\)")
    r.send("gva 1000")
    r.expect(r"usage: gva ID ADDR")
    r.send("help")
    for cmd in ("vms", "vmstate", "gpa", "gva", "exits"):
        r.expect(r"(?m)^%s - " % cmd)


# Bits the monitor's vmstate shows set once a guest runs in long mode.
CR0_PE, CR0_PG = 1 << 0, 1 << 31
EFER_LMA = 1 << 10
# The guest kernel's global the kmon test translates with gva, and the
# link address that maps guest-physical 0 (inc/memlayout.h KERNLINK).
KMON_GVA_SYMBOL = "npages"
KERNLINK = 0xFFFFFFFF80000000
# The guest kernel's first byte: guest RAM that the NPT/EPT maps.
GUEST_KERNEL_PA = 0x100000


def elf_symbol(elf, name):
    """The address of NAME in ELF (nm), or fail."""
    out = subprocess.run(["nm", elf], capture_output=True, text=True).stdout
    m = re.search(r"(?m)^([0-9a-f]+) \w %s$" % re.escape(name), out)
    if not m:
        fail("no symbol %s in %s" % (name, elf))
    return int(m.group(1), 16)


def kmon_cmd(r, line):
    """`kmon LINE` at the host prompt; returns its output (up to the next
    prompt)."""
    start = len(r.text)
    shell_cmd(r, "kmon " + line)
    return r.text[start:]


def kmon_expect(out, what, *patterns):
    """Fail unless every pattern is in OUT (the output of kmon WHAT)."""
    for p in patterns:
        if not re.search(p, out):
            fail("kmon %s did not print %r:\n%s" % (what, p, out[-800:]))


def kmon_vmstate_check(r, gid):
    """vmstate: RIP, and a long-mode CR0/EFER with a CR3."""
    out = kmon_cmd(r, "vmstate " + gid)
    kmon_expect(out, "vmstate", r"rip [0-9a-f]{16}", r"cr3 [0-9a-f]{16}")
    cr0 = re.search(r"cr0 ([0-9a-f]{16})", out)
    efer = re.search(r"efer ([0-9a-f]{16})", out)
    if not cr0 or not efer:
        fail("kmon vmstate showed no CR0/EFER:\n%s" % out)
    if int(cr0.group(1), 16) & (CR0_PE | CR0_PG) != CR0_PE | CR0_PG or \
            not int(efer.group(1), 16) & EFER_LMA:
        fail("the running guest is not in long mode per vmstate:\n%s" % out)


def kmon_exits_check(r, gid):
    """exits: the total, and counts per reason that add up to it."""
    out = kmon_cmd(r, "exits " + gid)
    total = re.search(r"guest %s: (\d+) exits" % gid, out)
    counts = [int(c) for c in
              re.findall(r"(?m)^  \d+ +\S.*? +(\d+) +\d+\r?$", out)]
    if not total or not counts:
        fail("kmon exits showed no total or no reasons:\n%s" % out)
    if sum(counts) != int(total.group(1)):
        fail("kmon exits: reasons add up to %d, not %s:\n%s"
             % (sum(counts), total.group(1), out))


@vmm_test("kmon", bochs_timeout=300, qemu_timeout=90)
def kmon():
    """`kmon` runs read-only monitor commands on a live guest.

    `kmon` runs the read-only monitor commands from the host shell on a
    live background guest: vms lists it with the vendor, vmstate shows
    long mode, gpa walks the nested tables to a host page, gva walks the
    guest's table to the right guest-physical address, exits counts add
    up; a command that is not read-only and a bad id are refused; after
    `vmm kill` the guest is gone."""
    vend = "VT-x" if vendor() == "vmx" else "AMD-V"
    gva = elf_symbol(GUEST_KERNEL_ELF, KMON_GVA_SYMBOL)
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("kmon")])
    shell(r)
    shell_cmd(r, "kmon continue",
              r"kmon: 'continue' is not a read-only monitor command")
    # A guest kernel that spins forever (kern/attack.c), paging on.
    r.send("vmm -b -n g1 attack cli-spin")
    gid = r.expect(r"vmm: guest ([0-9a-f]{8}) \(g1\) runs in the "
                   r"background").group(1)
    r.expect(HOST_PROMPT)
    # Attached, the guest's output shows it is in its spin loop.
    attach(r, "g1")
    r.expect(r"attack cli-spin: spinning with interrupts off")
    detach(r, "g1")
    kmon_expect(kmon_cmd(r, "vms"), "vms",
                r"(?m)^%s\s+g1\s+%s\s+background\s+[1-9]\d*\s"
                % (gid, vend))
    kmon_vmstate_check(r, gid)
    kmon_expect(kmon_cmd(r, "gpa %s %x" % (gid, GUEST_KERNEL_PA)), "gpa",
                r"gpa 0x%x: \w+.*, guest RAM: yes" % GUEST_KERNEL_PA,
                # The leaf (level 0): the walk got to the end.
                r"level 0 \[\s*\d+\]: 0x[0-9a-f]{16}",
                r"host page: pa 0x[0-9a-f]+, kva 0x")
    kmon_expect(kmon_cmd(r, "gva %s %x" % (gid, gva)), "gva",
                r"pml4e \[\s*\d+\] at gpa",
                r"gva 0x%x -> gpa 0x%x" % (gva, gva - KERNLINK),
                r"host page: pa 0x[0-9a-f]+")
    kmon_exits_check(r, gid)
    kmon_expect(kmon_cmd(r, "vmstate 1000"), "vmstate 1000",
                r"vmstate: no guest 1000")
    shell_cmd(r, "vmm kill g1", r"\(g1\) killed")
    kmon_expect(kmon_cmd(r, "vms"), "vms", r"\(no guests\)")


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
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("vmm-console")])
    shell(r)
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
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy("vmm-refuse")])
    shell(r)
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
    shell_cmd(r, "vmm kill a", r"\(a\) killed")
    guest_problems(r)


# ---- PC device models (vmmdev/, issue 22) ---------------------------------
#
# user/vdevtest drives the device models through their register functions
# on the host JOS, as their bus and clock (no guest): see its top comment.

VDEVTEST_DEVICES = ("pic", "ioapic", "lapic", "lapic timer", "pit", "rtc",
                    "kbc", "vga", "ide")


@test("vdevtest", emulator="qemu", timeout=60)
def vdevtest():
    """The PC device models against their datasheets, in order: 8259A
    pair (init words, masks, EOIs, priority, cascade, ELCR level lines,
    spurious, AEOI, poll), IOAPIC -> LAPIC (redirection, remote IRR and
    EOI, TPR, logical destinations, IPIs, ESR, ExtINT), the LAPIC timer in
    one-shot and periodic mode, the PIT (mode 2, channel 2's OUT and
    gate, read-back), the RTC (BCD/binary, 12/24 h, UIP, SET, update
    interrupt, memory bytes), the keyboard controller (self-test, A20,
    reset pulse, IRQ 1), VGA ports, and IDE on a scratch image
    (IDENTIFY, read/write, MULTIPLE, count 0, IDNF, abort, nIEN, SRST);
    then 20,000 random accesses of every size to every device (a hostile
    guest), after which the disk image still has its size.
    The RTC's date is the host's: within a day of this machine's UTC
    date (QEMU's RTC holds UTC)."""
    r = run_fs("vdevtest", r"vdevtest: all devices ok",
               disks=[KERNEL_IMG, fs_image_copy("vdevtest")])
    in_order(r, *([r"vdevtest: %s ok" % d for d in VDEVTEST_DEVICES[:-1]] +
                  [r"vdevtest: 20000 random accesses to every device "
                   r"survived", r"vdevtest: ide ok",
                   r"vdevtest: all devices ok"]))
    m = re.search(r"vdevtest: rtc date (\d{4})-(\d\d)-(\d\d)", r.text)
    if not m:
        fail("vdevtest printed no RTC date")
    import datetime
    said = datetime.date(*map(int, m.groups()))
    today = datetime.datetime.utcnow().date()
    if abs((said - today).days) > 1:
        fail("the RTC model says %s, the host's UTC date is %s"
             % (said, today))


# The user's guide and the make targets it names (grade_docs.py).
import grade_docs  # noqa: E402,F401

if __name__ == "__main__":
    sys.exit(main())
