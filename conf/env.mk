# Local overrides for the build. Edit this file (or pass VAR=value to make).

# Toolchain prefix. Left empty, the GNUmakefile picks x86_64-jos-elf- when
# it is installed and the host toolchain (Debian's gcc/binutils target
# elf64-x86-64) otherwise.
# GCCPREFIX=

# Emulators.
# QEMU=qemu-system-x86_64
# BOCHS=bochs

# Number of CPUs and MiB of memory the emulators give the machine.
# CPUS=1
# MEM=256

# Optimisation level of the kernel. -O0 keeps every argument in its stack
# frame, which is what lets `backtrace` print argument values.
# KERN_OPT=-O0
# ... and of the VM-exit path (vmm/, kern/cpu.c, kern/spinlock.c).
# EXIT_PATH_OPT=-O2
