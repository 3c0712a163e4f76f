"""What the test modules share: a booted host and its shell, a guest
started with vmm, its prompt, a command typed into it, ending it, and the
free-page checks.  The suites of the next features (unmodified PC guests,
guest SMP) build on these; docs/writing-tests.md lists them.

Every helper takes the Run of a booted host (R) and works within the
current test's deadline; a helper that waits for a prompt returns with
that prompt matched, so helpers chain.  Nothing here registers a test:
vmm_test and user_test only do so when a test module calls them.

Sections: the host (boot lines, free pages, user programs, the shell);
disks; the VMM's vendors and vmm sessions; a guest's shell; several
guests (background, attach, detach)."""

import os
import re
import shutil
import struct

from grade.config import DEFAULT_CPUS, FS_IMG, GRADEDIR, KERNEL_IMG
from grade.emulators import boot
from grade.registry import current_test, fail, test


# ---- The host: boot lines, free pages, user programs, the shell ------------

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


# A user-program boot ends with every env gone; the kernel then prints
# its free pages, which must equal its count before the first env ran.
FREE_BEFORE = r"Free pages before the first env: (\d+)"
FREE_AFTER = r"No runnable environments in the system!\nFree pages: (\d+)"
PROMPT = r"(?m)^K> "
USER_PANIC = [r"user panic"]


def check_free_pages(r):
    """The free pages after the last env equal those before the first
    (FREE_AFTER against FREE_BEFORE): no page leaked."""
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


def host_boot(disk, **kw):
    """Boot the host on the test's vendor with typed input and a private
    copy of the file system (fs_image_copy(DISK)); wait for its shell's
    first prompt.  KW: more of boot()'s options.  Returns the run."""
    r = vboot(input=True, disks=[KERNEL_IMG, fs_image_copy(disk)], **kw)
    shell(r)
    return r


def shell(r):
    """Wait for the shell's first prompt (after init starts it)."""
    r.expect(r"init: starting sh")
    r.expect(r"\$ ")


def shell_cmd(r, line, *patterns):
    """Type LINE at the prompt; expect its echo, PATTERNS in order, then
    a prompt. The echo comes first: a kernel notice between two commands
    (a guest's first run on a CPU, say) reprints the prompt when the
    shell next reads input (vmm/vmcons.c), and that prompt must not be
    taken for the end of LINE's output."""
    r.send(line)
    r.expect(re.escape(line))
    for p in patterns:
        r.expect(p)
    r.expect(r"(?m)^\$ ")


# ---- The VMM's vendors; vmm sessions -----------------------------------------
#
# `vmm` in the host shell (user/vmm.c) builds a guest from /vmm/boot and
# /vmm/kernel (the tree built with VMM_GUEST) and waits for it.  A VMM
# test is registered (vmm_test) under its plain name for VT-x (Bochs,
# corei7_skylake_x: VMX with EPT), with -svm for AMD-V under QEMU's TCG
# (-cpu max: SVM with NPT, no NRIP save) and, for some, with -ryzen for
# AMD-V under Bochs (cpu model ryzen: SVM with NPT and NRIP save).

GUEST_STOPPED = [r"vmm: guest [0-9a-f]{8} stopped"]
VMM_FREE = (r"vmm: guest ([0-9a-f]{8}) exited; free pages: (\d+) before, "
            r"(\d+) after")


def vendor():
    """The current test's vendor: 'vmx' (Bochs), 'svm' (QEMU) or 'ryzen'
    (Bochs), as registered (by default from its name: NAME-svm, NAME-ryzen,
    plain NAME on Bochs is VT-x; see registry.vendor_from_name)."""
    return current_test().vendor


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


# Tests too long (or, under load, too slow) for make grade's budget run
# only when this variable is set; they pass saying SKIPPED otherwise.
GRADE_LONG_ENV = "GRADE_LONG"


def long_skipped():
    """True, saying so, unless GRADE_LONG is set."""
    if os.environ.get(GRADE_LONG_ENV):
        return False
    print("SKIPPED: set %s=1 to run this test (minutes)" % GRADE_LONG_ENV)
    return True


def long_only(func):
    """FUNC as a test that runs only with GRADE_LONG=1."""
    def run():
        if not long_skipped():
            func()
    run.__doc__ = func.__doc__
    return run


def vmm_test(name, cpus=DEFAULT_CPUS, bochs_timeout=400,
             qemu_timeout=120, ryzen=False, locks=(), serial=(),
             ryzen_long=False):
    """Register the decorated function as NAME (VT-x under Bochs) and
    NAME-svm (AMD-V under QEMU); with ryzen=True also as NAME-ryzen
    (only with GRADE_LONG=1 if ryzen_long). LOCKS: as test()'s; SERIAL:
    the vendors ("vmx", "svm", "ryzen") whose test runs with no other
    test beside it."""
    def register(func):
        test(name, emulator="bochs", cpus=cpus, timeout=bochs_timeout,
             locks=locks, serial="vmx" in serial)(func)
        test(name + "-svm", emulator="qemu", cpus=cpus,
             timeout=qemu_timeout, locks=locks,
             serial="svm" in serial)(func)
        if ryzen:
            test(name + "-ryzen", emulator="bochs", cpus=cpus,
                 timeout=bochs_timeout, locks=locks,
                 serial="ryzen" in serial)(
                     long_only(func) if ryzen_long else func)
        return func
    return register


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


# ---- A guest's shell ---------------------------------------------------------

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
# printing guest output (seen after forktree).
GUEST_TYPING_DELAY = 0.02


def guest_send(r, line):
    """Type LINE into the guest, a character at a time."""
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


def guest_kill(r, name):
    """`vmm kill NAME` at the host prompt: the guest is reported killed
    and the prompt comes back."""
    shell_cmd(r, "vmm kill %s" % name, r"\(%s\) killed" % re.escape(name))


def guest_problems(r):
    """Fail if the run so far shows a guest stopped or a panic."""
    for p in GUEST_STOPPED + PANIC + [r"user panic"]:
        hit = re.search(p, r.text)
        if hit:
            fail("unexpected: %s" % r._line_at(hit.start()))


# ---- Several guests: background, attach, detach ------------------------------

def host_cmd(r, line, *patterns):
    """shell_cmd that returns the text the command printed."""
    start = len(r.text)
    shell_cmd(r, line, *patterns)
    return r.text[start:]


def vms_free(r, nguests):
    """`vms` with NGUESTS guests: (the host's free pages, its output)."""
    out = host_cmd(r, "vms", r"vms: %d guests?; host free pages: (\d+)"
                   % nguests)
    return int(re.search(r"host free pages: (\d+)", out).group(1)), out


def attach(r, name):
    """vmm attach NAME: its keys are printed, then its output replayed."""
    r.send("vmm attach %s" % name)
    r.expect(r"guest [0-9a-f]{8} \(%s\) in the foreground: Ctrl-\] d "
             r"detaches it, Ctrl-\] q ends it" % name)


def detach(r, name):
    """Ctrl-] d: NAME goes to the background and the host prompt comes."""
    r.send("\x1dd", newline="")
    r.expect(r"guest [0-9a-f]{8} \(%s\) runs in the background" % name)
    r.expect(HOST_PROMPT)


# ---- Disks -------------------------------------------------------------------

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


# ---- Long lines; the kernel monitor -----------------------------------------

def long_line():
    """A line of more than 4 KiB for `echo`: eight distinct words with long
    runs of spaces between them (spawn's argument page holds the words,
    not the spaces), and what echo prints back for it."""
    words = [(chr(ord("a") + i) + "0123456789") * 36 for i in range(8)]
    line = "echo " + (" " * 135).join(words)
    assert len(line) > 4096
    return line, " ".join(words)


def expect_line(r, text):
    """Expect TEXT as a whole line of output."""
    r.expect(r"(?m)^%s\r?$" % re.escape(text))


def kmon_cmd(r, line):
    """`kmon LINE` at the host prompt; returns its output (up to the next
    prompt)."""
    start = len(r.text)
    shell_cmd(r, "kmon " + line)
    return r.text[start:]
