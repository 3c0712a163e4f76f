"""Tests of user programs: each boots the kernel with one program as the
first env (obj/kern/kernel-NAME.img, what `make run-NAME-nox` boots) and
checks the program's output and the kernel's messages: faults, fork,
preemption, IPC, and the same on Bochs.

The first env is always 00001000 (envs[0], generation 1), its first
child 00001001.  Every test also waits until every env is gone and
checks that the kernel got back every page (helpers.check_free_pages;
breakpoint first resumes its env from the monitor)."""

import itertools
import re

from grade.helpers import (FREE_AFTER, PROMPT, USER_PANIC, check_free_pages,
                           in_order, run_user, user_test)
from grade.registry import fail, test


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
