/*
 * Second half of the guest boot sector (boot.S built with VMM_GUEST), in
 * 32-bit protected mode. A guest has no disk and no port I/O: user/vmm.c
 * has already put the kernel's segments at their physical load addresses
 * and the first page of its ELF file at GUEST_ELFHDR_PA, so all that is
 * left is to check that page and jump to the kernel.
 *
 * The kernel gets no Multiboot block (%eax = %ebx = 0): it asks the VMM
 * for its memory map with VMCALL_MBMAP (kern/init.c).
 */
#include <inc/types.h>
#include <inc/elf.h>
#include <inc/vmx.h>

/* What the kernel sees in %eax and %ebx: "not booted by Multiboot". */
#define NO_MULTIBOOT_MAGIC 0
#define NO_MBINFO 0

static const struct Elf *const elfhdr = (const struct Elf *)GUEST_ELFHDR_PA;

__attribute__((noreturn)) void bootmain(void)
{
	/*
	 * Not a kernel: stop. Interrupts are off (boot.S), so only the VMM
	 * can end this loop; the loop covers an NMI or a spurious wake-up.
	 */
	if (elfhdr->e_magic != ELF_MAGIC)
		for (;;)
			asm volatile("hlt");

	/* The kernel's 32-bit entry lies below 4 GiB: its low half is it. */
	asm volatile("jmp *%0"
		     :
		     : "r"((uint32_t)elfhdr->e_entry), "a"(NO_MULTIBOOT_MAGIC),
		       "b"(NO_MBINFO));
	__builtin_unreachable();
}
