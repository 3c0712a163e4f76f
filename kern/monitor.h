/* The kernel monitor: a command prompt on the console (kern/monitor.c). */
#ifndef JOS_KERN_MONITOR_H
#define JOS_KERN_MONITOR_H
#ifndef JOS_KERNEL
#error "This is a JOS kernel header; user programs should not #include it"
#endif

struct Trapframe;

/*
 * Reads and runs commands until one of them asks to leave (returns < 0).
 * tf is the trap that brought us here, or NULL when the kernel called in.
 */
void monitor(struct Trapframe *tf);

/*
 * Runs one read-only command line (vms, vmstate, gpa, gva, exits) for
 * SYS_kmon while the host runs; splits line in place. 0 if it ran,
 * -E_INVAL if the line names no read-only command.
 */
int monitor_query(char *line);

/* The commands; each gets its words as argv (argv[0] is the name). */
int mon_help(int argc, char **argv, struct Trapframe *tf);
int mon_kerninfo(int argc, char **argv, struct Trapframe *tf);
int mon_backtrace(int argc, char **argv, struct Trapframe *tf);
int mon_continue(int argc, char **argv, struct Trapframe *tf);
int mon_si(int argc, char **argv, struct Trapframe *tf);
/* What the VMM sees (vmm/vmmon.c). */
int mon_vms(int argc, char **argv, struct Trapframe *tf);
int mon_vmstate(int argc, char **argv, struct Trapframe *tf);
int mon_gpa(int argc, char **argv, struct Trapframe *tf);
int mon_gva(int argc, char **argv, struct Trapframe *tf);
int mon_exits(int argc, char **argv, struct Trapframe *tf);
int mon_devices(int argc, char **argv, struct Trapframe *tf);
/* The host kernel's self-tests (testpayload/insn_test.c). */
int mon_insntest(int argc, char **argv, struct Trapframe *tf);

#endif /* !JOS_KERN_MONITOR_H */
