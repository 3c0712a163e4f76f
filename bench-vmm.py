#!/usr/bin/env python3
"""Benchmarks of the guest JOS against the host JOS on each vendor, one
run per platform (`make bench` runs this after the QEMU file-system
benchmark), then one table.

Platforms, chosen so that every figure is an instruction count and so
repeatable:
  - VT-x:  Bochs, corei7_skylake_x (its TSC counts emulated instructions);
  - AMD-V: QEMU TCG -cpu max with -icount shift=0 (virtual time advances
    1 ns per instruction, and the TSC with it);
  - AMD-V: Bochs, ryzen (SVM with NRIP save).
The guest reads the host's TSC (no offsetting), so every figure is a TSC
difference:
  - boot to the shell prompt: the host from reset to init starting sh,
    the guest from sys_env_mkguest to its init starting sh;
  - fsbench (user/fsbench.c) in the host shell and in the guest shell:
    writing + syncing and reading a 4 MiB file through the fd layer,
    warm (from the server's cache) and cold (its blocks dropped from the
    cache first; in a guest, from the host's cache too);
  - vmipcbench in the guest: one IPC round trip to the host FS server
    through the IPC hypercalls (the host figure: plain IPC, not measured
    here);
  - vmstress in a guest: one CPUID and one hypercall round trip;
  - the multiboot test kernel as a PC guest (`vmm -k /vmm/mbtest -a
    'bench benchmmio'`): a port-I/O round trip (an inb of COM1's LSR,
    handed to the user-space device model) and two MMIO round trips, a
    LAPIC ID read the kernel answers from the LAPIC model's read shadow
    and a LAPIC timer current-count read only the user-space model can
    answer (vmm/README.md, "Where devices run"); and with two vCPUs
    (`vmm -c 2 -k /vmm/mbtest -a smpbench`, mbtest/smpbench.c) a fixed
    IPI's round trip: CPU 0 pings, CPU 1's handler pongs, each polling
    with an exit (an IPI reaches another vCPU at its next hand-off);
  - fsbench in the host's own kernel image run as a PC guest (vmm -i
    /hostimg/kernel.img -i /hostimg/fs.img), whose file server drives the
    emulated IDE disk (vmmdev/ide.c) with port I/O, against the
    paravirtual guest's fsbench (its disk through the host FS server by
    IPC hypercalls): write + sync and cold read. Its cold read drops the
    blocks from its own server's cache only; the host's cached copy of
    /hostimg/fs.img stays, so its cold read ends in the host's cache where
    the paravirtual guest's reaches the host's disk.
Figures are printed, not judged: a run fails only if a figure is missing.

One more platform, in wall-clock seconds, not instructions (bench-xv6-svm,
one run): unmodified xv6 run by QEMU itself (qemu-system-i386, TCG, its
xv6.img and a copy of its fs.img, serial on stdio) against the same
images in our guest (the host JOS under QEMU TCG -cpu max, AMD-V,
running `vmm -m 256 -i /xv6/xv6.img -i /xv6/fs.img`), one after the
other on the same machine. Boot: from QEMU's start, or from the vmm
command typed at the host's $, to xv6's `$` (our figure includes vmm
reading its files and building the guest, our BIOS and xv6's boot
sector; QEMU's includes its SeaBIOS). usertests: from the command typed
to xv6's `$` after "ALL TESTS PASSED". In our guest usertests runs only
with XV6_USERTESTS=1 set (it takes far longer there; the table then
shows "-").

Each platform runs RUNS times (BENCH_RUNS=N to choose), one run at a
time, and the table gives the median with the lowest and highest value:
no platform repeats exactly. Under Bochs (its clock counts instructions,
`clock: sync=none`) the figures still differ by a few per cent, and the
IPC round trip by up to a half, most likely because input is typed in
real time, so the timer's ticks fall differently against the benchmark.
Under QEMU the IDE disk completes on the host's real time (an I/O
thread) while JOS polls it, so
every figure that waits for the disk (boot, write + sync, cold read)
varies widely, the more so on a loaded machine; -icount sleep=off (idle
time skipped to the next timer) left that spread as wide.
"""

import os
import re
import shutil
import statistics
import sys
import time

import grade
from grade import helpers as G
from grade.config import KERNEL_IMG
from grade.emulators import run_qemu
from grade.guests import hostimg_session
from grade.registry import _context, current_test, fail, test
from grade.runner import main
from grade.runs import Run

# The suite's tests are registered too, before ours (as by make grade).
grade.load_tests()

# Test name -> {figure: (host, guest)}, filled by the runs.
RESULTS = {}
# (test name of the first run, column label).
PLATFORMS = [("bench-vmm", "VT-x, Bochs"),
             ("bench-vmm-svm", "AMD-V, QEMU -icount"),
             ("bench-vmm-ryzen", "AMD-V, Bochs ryzen"),
             ("bench-xv6-svm", "xv6, QEMU vs guest (s)")]
# The xv6 platform runs once (its runs take minutes each).
ONCE = ("bench-xv6-svm",)
# Runs per platform (BENCH_RUNS=N to choose).
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
# QEMU's TSC counts instructions (shift=0: 1 ns each).
ICOUNT = "shift=0"
# The table's rows, in order (README.md's benchmark table names the same).
FIGURES = ["CPUID round trip",
           "hypercall round trip",
           "port-I/O round trip (VMM)",
           "LAPIC read round trip (kernel)",
           "LAPIC read round trip (VMM)",
           "IPI round trip (2 vCPUs)",
           "guest -> host FS IPC round trip",
           "boot to shell prompt",
           "4 MiB write + sync",
           "4 MiB warm read",
           "4 MiB cold read",
           "emulated IDE: write + sync",
           "emulated IDE: cold read",
           "xv6 boot to $",
           "xv6 usertests"]
# Goals (guest figure, or guest/host ratio).
GOALS = {"CPUID round trip": "<= 220",
         "hypercall round trip": "<= 200",
         "port-I/O round trip (VMM)": "<= 3000",
         "LAPIC read round trip (kernel)": "<= 1500",
         "boot to shell prompt": "guest <= 60 M",
         "4 MiB write + sync": "ratio <= 1.3",
         "4 MiB warm read": "ratio <= 1.3",
         "4 MiB cold read": "ratio <= 1.3",
         "xv6 boot to $": "ratio <= 2.0",
         "xv6 usertests": "ratio <= 2.0"}


def number(text, pattern, what):
    m = re.search(pattern, text)
    if not m:
        fail("no figure for %s (%r)" % (what, pattern))
    return int(m.group(1))


def fs_figures(text, who):
    m = re.search(r"fsbench: TSC ticks: write \+ sync (\d+), read (\d+), "
                  r"cold read (\d+)", text)
    if not m:
        fail("fsbench in the %s printed no TSC figures" % who)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def measure():
    """Host and guest figures on one platform: boot, fsbench, IPC and exit
    round trips (printed in the table, not judged)."""
    disks = [KERNEL_IMG, G.fs_image_copy("bench-vmm")]
    if G.vendor() == "svm":
        r = run_qemu("-icount", ICOUNT, disks=disks)
    else:
        r = G.vboot(input=True, disks=disks)
    G.shell(r)
    host_boot = number(r.text, r"init: shell starts at TSC (\d+)",
                       "host boot")

    start = len(r.text)
    G.shell_cmd(r, "fsbench", r"fsbench: done")
    host_fs = r.text[start:]

    start = len(r.text)
    G.guest_boot(r)
    created = number(r.text[start:], r"created: .* TSC (\d+)",
                     "guest creation")
    guest_boot = number(r.text[start:], r"init: shell starts at TSC (\d+)",
                        "guest boot") - created

    start = len(r.text)
    G.guest_cmd(r, "fsbench", r"fsbench: done")
    guest_fs = r.text[start:]
    G.guest_cmd(r, "vmipcbench", r"vmipcbench: .*round trips")
    ipc = number(r.text, r"vmipcbench: \d+ .*round trips, (\d+) TSC ticks "
                 r"each", "IPC round trip")
    G.guest_halt(r)
    G.vmm_session(r, "vmm vmstress")
    cpuid = number(r.text, r"vmstress: \d+ cpuid exits, (\d+) TSC",
                   "CPUID exit")
    vmcall = number(r.text, r"vmstress: \d+ vmcall exits, (\d+) TSC",
                    "hypercall")
    start = len(r.text)
    G.vmm_session(r, "vmm -k /vmm/mbtest -a 'bench benchmmio'")
    pc = r.text[start:]
    pio = number(pc, r"mbtest: inb round trip: (\d+) TSC", "port I/O")
    mmio_k = number(pc, r"mbtest: mmio round trip, lapic id read "
                    r"\(kernel\): (\d+) TSC", "MMIO read (kernel)")
    mmio_v = number(pc, r"mbtest: mmio round trip, lapic timer count read "
                    r"\(vmm\): (\d+) TSC", "MMIO read (VMM)")
    start = len(r.text)
    G.vmm_session(r, "vmm -c 2 -k /vmm/mbtest -a smpbench")
    ipi = number(r.text[start:], r"smpbench: ipi round trip: (\d+) TSC",
                 "IPI round trip")

    *_, pc_fs = hostimg_session(r, [("fsbench", r"fsbench: done")],
                                "poweroff")

    hw, hr, hc = fs_figures(host_fs, "host")
    gw, gr, gc = fs_figures(guest_fs, "guest")
    iw, _, ic = fs_figures(pc_fs, "host image guest (emulated IDE)")
    RESULTS[current_test().name] = {
        "boot to shell prompt": (host_boot, guest_boot),
        "4 MiB write + sync": (hw, gw),
        "4 MiB warm read": (hr, gr),
        "4 MiB cold read": (hc, gc),
        "guest -> host FS IPC round trip": (None, ipc),
        "CPUID round trip": (None, cpuid),
        "hypercall round trip": (None, vmcall),
        "port-I/O round trip (VMM)": (None, pio),
        "LAPIC read round trip (kernel)": (None, mmio_k),
        "LAPIC read round trip (VMM)": (None, mmio_v),
        "IPI round trip (2 vCPUs)": (None, ipi),
        # Host column: the paravirtual guest; guest column: the PC guest.
        "emulated IDE: write + sync": (gw, iw),
        "emulated IDE: cold read": (gc, ic),
    }


XV6_DIR = os.path.join("obj", "xv6")
XV6_PROMPT = r"(?m)^\$ "
XV6_TYPING_DELAY = 0.05
XV6_CMD = "vmm -m 256 -i /xv6/xv6.img -i /xv6/fs.img"
XV6_PASSED = r"ALL TESTS PASSED"
# QEMU's own run of xv6: its Makefile's disks (fs.img the slave), one CPU
# as our guest has, and the RAM xv6 takes for granted.
XV6_QEMU = os.environ.get("QEMU_I386", "qemu-system-i386")
XV6_QEMU_MB = 512


def xv6_usertests(r):
    """Type usertests at xv6's $: seconds until its $ after it passed."""
    start = time.monotonic()
    r.send("usertests", delay=XV6_TYPING_DELAY)
    r.expect(r"usertests starting")
    m = r.expect(r"(?m)" + XV6_PASSED + r"|panic|^\$ ")
    if m.group(0) != XV6_PASSED:
        fail("xv6's usertests stopped at %r" % m.group(0))
    r.expect(XV6_PROMPT)
    return time.monotonic() - start


def xv6_by_qemu():
    """xv6 run by QEMU itself: (boot seconds, usertests seconds)."""
    ctx = _context()
    fs = os.path.join("obj", "grade", "bench-xv6.fs.img")
    shutil.copyfile(os.path.join(XV6_DIR, "fs.img"), fs)
    argv = [XV6_QEMU, "-nographic", "-serial", "mon:stdio", "-smp", "1",
            "-m", str(XV6_QEMU_MB), "-no-reboot",
            "-drive", "file=%s,index=0,media=disk,format=raw,snapshot=on"
            % os.path.join(XV6_DIR, "xv6.img"),
            "-drive", "file=%s,index=1,media=disk,format=raw" % fs]
    start = time.monotonic()
    r = Run(argv, ctx.log_path("qemu-xv6"), kind="qemu")
    try:
        r.expect(XV6_PROMPT)
        boot = time.monotonic() - start
        return boot, xv6_usertests(r)
    finally:
        r.close()


def xv6_in_guest():
    """The same images in our guest: (boot seconds, usertests seconds or
    None when XV6_USERTESTS is not set)."""
    r = run_qemu(mem=XV6_QEMU_MB,
                 disks=[KERNEL_IMG, G.fs_image_copy("bench-xv6")])
    G.shell(r)
    start = time.monotonic()
    r.send(XV6_CMD)
    r.expect(r"init: starting sh")
    r.expect(XV6_PROMPT)
    boot = time.monotonic() - start
    tests = xv6_usertests(r) if os.environ.get("XV6_USERTESTS") else None
    r.close()
    return boot, tests


def measure_xv6():
    """xv6's boot and usertests, wall clock: QEMU itself, then our guest
    under QEMU (one run each, one after the other)."""
    if not os.path.exists(os.path.join(XV6_DIR, "xv6.img")):
        print("SKIPPED: no %s/xv6.img (built without ../shared/guests)"
              % XV6_DIR)
        return
    qemu_boot, qemu_tests = xv6_by_qemu()
    guest_boot, guest_tests = xv6_in_guest()
    print("xv6 wall clock: boot %.1f s by QEMU, %.1f s in our guest; "
          "usertests %.1f s by QEMU, %s in our guest"
          % (qemu_boot, guest_boot, qemu_tests,
             "%.1f s" % guest_tests if guest_tests else "not run"))
    RESULTS[current_test().name] = {
        "xv6 boot to $": (qemu_boot, guest_boot),
        "xv6 usertests": (qemu_tests, guest_tests),
    }


test("bench-xv6-svm", emulator="qemu", timeout=3600)(measure_xv6)


def run_names(prefix):
    """The test names of one platform's RUNS runs.  The vendor comes
    from the name's end (grade/registry.py, vendor_from_name)."""
    if prefix in ONCE:
        return [prefix]
    suffix = next((s for s in ("-svm", "-ryzen") if prefix.endswith(s)), "")
    base = prefix[:len(prefix) - len(suffix)]
    return [prefix] + ["%s-run%d%s" % (base, i, suffix)
                       for i in range(2, RUNS + 1)]


for prefix, _ in PLATFORMS:
    if prefix in ONCE:
        continue
    for name in run_names(prefix):
        test(name, emulator="qemu" if prefix.endswith("-svm") else "bochs",
             timeout=900)(measure)


def fmt(n):
    if n is None:
        return "-"
    if isinstance(n, float):
        return "%.1f s" % n
    return "%.1f M" % (n / 1e6) if n >= 1e6 else str(n)


def spread(values, show):
    """One value as it is; several as median (lowest-highest)."""
    if not values:
        return "-"
    if show(min(values)) == show(max(values)):
        return show(values[0])
    return "%s (%s-%s)" % (show(statistics.median(values)),
                           show(min(values)), show(max(values)))


def print_table():
    print("\nInstructions (TSC ticks) per figure; host vs guest (emulated "
          "IDE rows: the paravirtual guest vs the host image as a PC "
          "guest);\nseveral runs: median (lowest-highest)")
    print("%-20s %-32s %-22s %-22s %-17s  %s"
          % ("platform", "figure", "host", "guest", "ratio", "goal"))
    for prefix, label in PLATFORMS:
        runs = [RESULTS[n] for n in run_names(prefix) if n in RESULTS]
        if not runs:
            continue
        if len(runs) > 1:
            print("%-20s (%d runs)" % (label, len(runs)))
        for fig in FIGURES:
            pairs = [run[fig] for run in runs if fig in run]
            if not pairs:
                continue
            hosts = [h for h, _ in pairs if h is not None]
            guests = [g for _, g in pairs if g is not None]
            ratios = [g / h for h, g in pairs if h and g is not None]
            print("%-20s %-32s %-22s %-22s %-17s  %s"
                  % (label, fig, spread(hosts, fmt), spread(guests, fmt),
                     spread(ratios, lambda r: "%.2f" % r),
                     GOALS.get(fig, "")))


if __name__ == "__main__":
    # The suite's tests are registered too (load_tests): run ours,
    # or only those named (--tests 'bench-vmm*svm': the QEMU runs alone).
    # One run at a time: side by side they would share the CPUs.
    argv = sys.argv[1:]
    if "--tests" not in argv:
        argv += ["--tests", "bench-vmm*,bench-xv6*"]
    if not any(a.startswith("-j") or a == "--jobs" for a in argv):
        argv += ["-j1"]
    status = main(argv)
    print_table()
    sys.exit(status)
