/*
 * The paravirtual interface between a JOS guest and the JOS VMM: the
 * hypercall ABI and the guest-physical addresses both sides agree on.
 * Vendor-neutral despite the course's name (VT-x and AMD-V alike;
 * vmm/README.md says what the course's VT-x names mean on AMD-V); VT-x's
 * own encodings are vmm/vtx/vmcs.h.
 * Included by the guest (kernel and user code built with VMM_GUEST), by
 * the host kernel's vmm/ and by user/vmm.c.
 *
 * Hypercalls
 *   The guest executes VMCALL on VT-x and VMMCALL on AMD-V (each is an
 *   invalid opcode on the other vendor's CPUs). It chooses once, from the
 *   CPUID vendor string: the guest kernel at boot, each guest user
 *   program in libmain (vmm_use_vmmcall). Any guest privilege level may
 *   issue one: the host treats the whole guest as untrusted, whatever
 *   its CPL.
 *   Registers are those of JOS system calls: the number in %rax, up to
 *   five arguments in %rdx, %rcx, %rbx, %rdi, %rsi; the result comes back
 *   in %rax (>= 0 success, -E_* failure). Every other register is
 *   preserved. An unknown number gets -E_NO_SYS; a bad argument -E_INVAL;
 *   the guest keeps running either way.
 *   Every guest-physical address a hypercall carries is checked by the
 *   host (inside guest memory, no overflow, mapped with the right
 *   permission) before the host touches it.
 */
#ifndef JOS_INC_VMX_H
#define JOS_INC_VMX_H

#include <inc/types.h>

/* VMCALL_VERSION returns this; a guest refuses to run on another.
 * Version 2: VMMCALL on AMD-V (registers and numbers as in version 1).
 * Version 3: IPC_CALL and DISK added; GETC reads the guest's own input
 * queue (only a guest in the foreground receives what is typed).
 * Version 4: PUTS added. */
#define VMM_ABI_VERSION 4

enum {
	VMCALL_VERSION = 0, /* () -> VMM_ABI_VERSION */
	VMCALL_MBMAP,       /* () -> GPA of the Multiboot info (see below) */
	VMCALL_PUTC,        /* (c) print byte c on the host console -> 0 */
	VMCALL_EXIT,        /* (status) end the guest; does not return */
	VMCALL_IPC_SEND,    /* (to, value, gpa, perm) -> 0 or -E_* */
	VMCALL_IPC_RECV,    /* (gpa) -> 0 or -E_*; see below */
	VMCALL_GETC,        /* () -> next byte of the guest's input, 0 if none
			     * (then the host runs its other envs first) */
	VMCALL_IPC_CALL,    /* (to, value, gpa, perm, rgpa): SEND then RECV */
	VMCALL_DISK,        /* (gpa, len) -> length of the disk path; see below */
	VMCALL_PUTS,        /* (gpa, len) print len bytes at gpa -> len; below */
	NVMCALLS
};

/*
 * Host IPC (VMCALL_IPC_SEND / VMCALL_IPC_RECV), the guest's path to the
 * host's file-system server and to nothing else:
 *   IPC_SEND(to, value, gpa, perm): `to` must be VMM_HOST_FS (the host's
 *     ENV_TYPE_FS env); any other value gets -E_BAD_ENV. value is the IPC
 *     value. gpa is a page-aligned guest-physical address of a page to
 *     send (shared, as with sys_ipc_try_send), or VMM_NO_PAGE; perm is
 *     PTE_P | PTE_U [| PTE_W] [| PTE_SHARE], and PTE_W needs the guest
 *     page to be writable. -E_IPC_NOT_RECV when the server is not
 *     waiting: the guest retries (after yielding its own CPU).
 *   IPC_RECV(gpa): the whole guest waits until a host env sends to it
 *     (the guest env id the host FS server sees is the guest's env id on
 *     the host). A page sent along is mapped at guest-physical gpa
 *     (page-aligned, inside guest RAM; it replaces whatever page the
 *     guest had there) unless gpa is VMM_NO_PAGE. On return: rax 0 (or
 *     -E_INVAL for a bad gpa, without waiting), rdx the value, rcx the
 *     sender's env id, rbx the perm of the page received (0 if none).
 *   IPC_CALL(to, value, gpa, perm, rgpa): IPC_SEND's arguments, and on
 *     success the guest waits at once as IPC_RECV(rgpa) does, with its
 *     results. A guest that uses it never keeps the host server waiting
 *     for it to take a reply (and so never stalls other guests). The
 *     host FS server tries a reply to a guest once: a request sent with
 *     IPC_SEND gets its reply only if the guest waits in IPC_RECV by
 *     then, so a guest that wants the reply uses IPC_CALL.
 *     -E_IPC_NOT_RECV (retry) and every IPC_SEND error return without
 *     waiting, as does -E_INVAL for a bad rgpa.
 *
 * Console output (VMCALL_PUTS): PUTS(gpa, len) prints the len bytes at
 * guest-physical gpa (1 <= len, all inside one page) on the host console,
 * in order, exactly as len PUTCs of them would; returns len, or -E_INVAL
 * for a bad range, having printed nothing. One exit for a whole line or
 * more: the guest kernel's cprintf sends its output this way.
 * PUTS(gpa, len, VMCALL_PUTS_NOTICE): the same, and while the guest is
 * not in the foreground the host console also shows the bytes as a
 * notice about the guest (an error the person who started it must see,
 * such as a command-line word that names no program). The VMM shows at
 * most a few such notices per guest; the rest only go to its ring.
 *
 * Disk (VMCALL_DISK): DISK(gpa, len) writes the path of the guest's disk
 * image in the host file system, NUL-terminated, at guest-physical gpa
 * (len bytes there, inside one page) and returns its length;
 * -E_INVAL if it does not fit, -E_NOT_FOUND if the host gave none.
 */
#define VMM_HOST_FS 1
#define VMCALL_PUTS_NOTICE 1
#define VMM_NO_PAGE (~0UL)

/*
 * Interrupts: while the guest runs with RFLAGS.IF set, the VMM injects
 * vector GUEST_TIMER_VECTOR about once per host timer tick (10 ms) of CPU
 * time the guest gets. No other interrupt is ever injected; the guest has
 * no LAPIC (EOI is not needed).
 */
#define GUEST_TIMER_VECTOR 32

/*
 * Typed on the host console while a guest is in the foreground, this byte
 * (Ctrl-]) followed by VMM_ESCAPE_DETACH sends the guest to the
 * background, followed by VMM_ESCAPE_QUIT ends it; followed by anything
 * else, both bytes go to the guest (vmm/vmcons.c).
 */
#define VMM_ESCAPE_CHAR 0x1D
#define VMM_ESCAPE_DETACH 'd'
#define VMM_ESCAPE_QUIT 'q'

/*
 * Guest-physical memory at boot.
 *   [0, GUEST_LOWMEM_END)        RAM (the VMM fills it lazily)
 *   [GUEST_LOWMEM_END, GUEST_HIGHMEM_START)  the legacy hole: never mapped,
 *                                but for a PC-kind guest's VGA text memory
 *                                [GUEST_VGA_TEXT_START, GUEST_VGA_TEXT_END):
 *                                RAM, filled lazily
 *   [GUEST_HIGHMEM_START, gphysz) RAM (the VMM fills it lazily)
 * user/vmm.c loads the guest boot loader at GUEST_BOOT_PA, the first page
 * of the guest kernel's ELF file at GUEST_ELFHDR_PA, the kernel's segments
 * at their physical load addresses, and the kernel command line (a NUL-
 * terminated string; empty means the guest kernel's default) at
 * GUEST_CMDLINE_PA. VMCALL_MBMAP writes a struct multiboot_info at
 * GUEST_MBINFO_PA (flags MEM, MMAP and CMDLINE, cmdline pointing at
 * GUEST_CMDLINE_PA) followed by its memory map, and returns
 * GUEST_MBINFO_PA. The guest starts in real mode at GUEST_BOOT_PA.
 */
#define GUEST_MBINFO_PA 0x6000
#define GUEST_CMDLINE_PA 0x6800
#define GUEST_CMDLINE_MAX 256
#define GUEST_BOOT_PA 0x7C00
#define GUEST_ELFHDR_PA 0x10000
#define GUEST_LOWMEM_END 0xA0000
#define GUEST_HIGHMEM_START 0x100000
#define GUEST_VGA_TEXT_START 0xB8000
#define GUEST_VGA_TEXT_END 0xC0000

/* Guest memory sizes sys_env_mkguest accepts (bytes, page multiple). */
#define GUEST_MEM_MIN (8UL << 20)
#define GUEST_MEM_MAX (1UL << 30)
/* What user/vmm.c gives a guest unless told otherwise. */
#define GUEST_MEM_DEFAULT (64UL << 20)

/*
 * sys_ept_map permissions: the EPT entry's read, write and execute bits
 * (SDM Vol. 3C 28.3.2). Write needs read; the names are the seed's.
 */
#define __EPTE_READ 0x1
#define __EPTE_WRITE 0x2
#define __EPTE_EXEC 0x4
#define __EPTE_FULL (__EPTE_READ | __EPTE_WRITE | __EPTE_EXEC)

#ifndef __ASSEMBLER__
/*
 * Guest side. vmm_use_vmmcall is true on AMD-V (cpu_vendor_is_amd(),
 * inc/x86.h); the guest kernel (kern/init.c) and the user library
 * (lib/libmain.c) each define it and set it before their first
 * hypercall. HYPERCALL_INSN is the instruction for inline asm that
 * passes HYPERCALL_VENDOR among its inputs.
 */
extern bool vmm_use_vmmcall;
#define HYPERCALL_INSN                                                     \
	"cmpb $0, %[use_vmmcall]\n\t"                                       \
	"jne 1f\n\t"                                                        \
	"vmcall\n\t"                                                        \
	"jmp 2f\n"                                                           \
	"1:\tvmmcall\n"                                                     \
	"2:"
#define HYPERCALL_VENDOR [use_vmmcall] "m"(vmm_use_vmmcall)

/* Issue hypercall `num`. */
static inline int64_t vmcall(int num, uint64_t a1, uint64_t a2, uint64_t a3,
			     uint64_t a4, uint64_t a5)
{
	int64_t ret;

	asm volatile(HYPERCALL_INSN
		     : "=a"(ret)
		     : "a"((uint64_t)num), "d"(a1), "c"(a2), "b"(a3), "D"(a4),
		       "S"(a5), HYPERCALL_VENDOR
		     : "cc", "memory");
	return ret;
}
#endif

#endif /* !JOS_INC_VMX_H */
