#!/usr/bin/env python3
"""Benchmarks of the guest JOS against the host JOS, in one Bochs run
(`make bench` runs this after the QEMU file-system benchmark).

Under Bochs the TSC counts emulated instructions, and the guest reads the
host's TSC (no offsetting), so every figure is a TSC difference:
  - boot to the shell prompt: the host from reset to init starting sh,
    the guest from sys_env_mkguest to its init starting sh;
  - fsbench (user/fsbench.c) in the host shell and in the guest shell:
    writing + syncing and reading a 4 MiB file through the fd layer;
  - vmipcbench in the guest: one IPC round trip to the host FS server
    through the IPC hypercalls;
  - vmstress in a guest: one CPUID and one VMCALL round trip.
Figures are printed, not judged: a run fails only if a figure is missing.
"""

import re
import sys

from gradelib import KERNEL_IMG, boot, fail, main, test

sys.path.insert(0, ".")
from importlib import import_module  # noqa: E402

G = import_module("grade-project")


def number(r, pattern, what):
    m = re.search(pattern, r.text)
    if not m:
        fail("no figure for %s (%r)" % (what, pattern))
    return int(m.group(1))


@test("bench-vmm", emulator="bochs", timeout=900)
def bench_vmm():
    r = boot(input=True,
             disks=[KERNEL_IMG, G.fs_image_copy("bench-vmm")])
    G.shell(r)
    host_boot = number(r, r"init: shell starts at TSC (\d+)", "host boot")

    start = len(r.text)
    G.shell_cmd(r, "fsbench", r"fsbench: done")
    host_fs = r.text[start:]

    start = len(r.text)
    G.guest_boot(r)
    created = number(r, r"created: .* TSC (\d+)", "guest creation")
    m = re.search(r"init: shell starts at TSC (\d+)", r.text[start:])
    if not m:
        fail("the guest's init printed no TSC")
    guest_boot = int(m.group(1)) - created

    start = len(r.text)
    G.guest_cmd(r, "fsbench", r"fsbench: done")
    guest_fs = r.text[start:]
    G.guest_cmd(r, "vmipcbench", r"vmipcbench: .*round trips")
    ipc = number(r, r"vmipcbench: \d+ .*round trips, (\d+) TSC ticks each",
                 "IPC round trip")
    G.guest_halt(r)
    G.vmm_session(r, "vmm vmstress")
    cpuid = number(r, r"vmstress: \d+ cpuid exits, (\d+) TSC", "CPUID exit")
    vmcall = number(r, r"vmstress: \d+ vmcall exits, (\d+) TSC", "VMCALL")

    def fs_figures(text, who):
        m = re.search(r"fsbench: TSC ticks: write \+ sync (\d+), read (\d+)",
                      text)
        if not m:
            fail("fsbench in the %s printed no TSC figures" % who)
        return int(m.group(1)), int(m.group(2))

    hw, hr = fs_figures(host_fs, "host")
    gw, gr = fs_figures(guest_fs, "guest")
    mi = 1e6
    print("  boot to shell prompt: host %.0f M instructions (from reset), "
          "guest %.0f M (from sys_env_mkguest), guest/host %.2f"
          % (host_boot / mi, guest_boot / mi, guest_boot / host_boot))
    print("  4 MiB file, write + sync: host %.0f M, guest %.0f M (x%.1f)"
          % (hw / mi, gw / mi, gw / hw))
    print("  4 MiB file, read:         host %.0f M, guest %.0f M (x%.1f)"
          % (hr / mi, gr / mi, gr / hr))
    print("  guest -> host FS IPC round trip (hypercalls): %d instructions"
          % ipc)
    print("  CPUID exit round trip: %d, VMCALL round trip: %d instructions"
          % (cpuid, vmcall))


if __name__ == "__main__":
    # grade-project's tests are registered too (by the import): run ours.
    sys.exit(main(sys.argv[1:] + ["--tests", "bench-vmm"]))
