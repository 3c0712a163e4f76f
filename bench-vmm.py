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
  - vmstress in a guest: one CPUID and one hypercall round trip.
Figures are printed, not judged: a run fails only if a figure is missing.
"""

import re
import sys

from gradelib import KERNEL_IMG, fail, main, run_qemu, test

sys.path.insert(0, ".")
from importlib import import_module  # noqa: E402

G = import_module("grade-project")

# Platform name -> {figure: (host, guest)}, filled by the runs.
RESULTS = {}
PLATFORMS = [("bench-vmm", "VT-x, Bochs"),
             ("bench-vmm-svm", "AMD-V, QEMU -icount"),
             ("bench-vmm-ryzen", "AMD-V, Bochs ryzen")]
# Goals from issue 14 (guest figure, or guest/host ratio).
GOALS = {"CPUID round trip": "<= 220",
         "hypercall round trip": "<= 200",
         "boot to shell prompt": "guest <= 60 M",
         "4 MiB write + sync": "ratio <= 1.3",
         "4 MiB read": "ratio <= 1.3",
         "4 MiB cold read": "ratio <= 1.3"}


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
        r = run_qemu("-icount", "shift=0", disks=disks)
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

    hw, hr, hc = fs_figures(host_fs, "host")
    gw, gr, gc = fs_figures(guest_fs, "guest")
    RESULTS[G.current_test().name] = {
        "boot to shell prompt": (host_boot, guest_boot),
        "4 MiB write + sync": (hw, gw),
        "4 MiB read": (hr, gr),
        "4 MiB cold read": (hc, gc),
        "guest -> host FS IPC round trip": (None, ipc),
        "CPUID round trip": (None, cpuid),
        "hypercall round trip": (None, vmcall),
    }


for name, _ in PLATFORMS:
    test(name, emulator="qemu" if name.endswith("-svm") else "bochs",
         timeout=900)(measure)


def fmt(n):
    if n is None:
        return "-"
    return "%.1f M" % (n / 1e6) if n >= 1e6 else str(n)


def print_table():
    print("\nInstructions (TSC ticks) per figure; host vs guest:")
    print("%-22s %-32s %12s %12s %7s  %s"
          % ("platform", "figure", "host", "guest", "ratio", "goal"))
    for name, label in PLATFORMS:
        for fig, (host, guest) in RESULTS.get(name, {}).items():
            ratio = "%.2f" % (guest / host) if host else "-"
            print("%-22s %-32s %12s %12s %7s  %s"
                  % (label, fig, fmt(host), fmt(guest), ratio,
                     GOALS.get(fig, "")))


if __name__ == "__main__":
    # grade-project's tests are registered too (by the import): run ours,
    # or only those named (--tests bench-vmm-svm: the QEMU run alone).
    argv = sys.argv[1:]
    if "--tests" not in argv:
        argv += ["--tests", "bench-vmm*"]
    status = main(argv)
    print_table()
    sys.exit(status)
