/*
 * The boot sector. The BIOS loads it at 0x7C00 and jumps here in real mode
 * with CS:IP = 0:7C00. While the BIOS services are still usable we read the
 * physical memory map (int 0x15, eax = 0xE820) into a Multiboot-style table
 * at BOOT_MMAP_ADDR; then we enable the A20 line, switch to 32-bit protected
 * mode with flat segments, and call bootmain() (boot/main.c) to load the
 * kernel from disk.
 *
 * Built with VMM_GUEST, this is the boot sector of a JOS guest: user/vmm.c
 * puts it at 0x7C00 and the VMM starts the guest there in real mode, but
 * there is no BIOS to ask for a memory map and every port access would
 * stop the guest, so both steps are left out (the VMM has no A20 gate:
 * guest addresses never wrap at 1 MiB), and bootmain() comes from
 * boot/guestmain.c. docs/guest-boot.md has
 * the whole story.
 */
#include <inc/mmu.h>
#include <inc/multiboot.h>

.set CODE_SEL, 0x8          /* protected-mode code segment selector */
.set DATA_SEL, 0x10         /* protected-mode data segment selector */
.set E820_FUNC, 0xE820      /* int 0x15 function: query system address map */
.set E820_SMAP, 0x534D4150  /* "SMAP": signature passed in and returned */
.set E820_ENTRY, 20         /* bytes of one e820 entry we ask for */
.set SYSCTL_PORT_A, 0x92    /* "fast A20" system control port */
.set SYSCTL_A20, 0x02       /* its A20 enable bit */
.set SYSCTL_RESET, 0x01     /* its fast reset bit (keep it clear!) */
/* Offset of mmap_length in struct multiboot_info (inc/multiboot.h). */
.set MBI_MMAP_LENGTH, 44

.globl start
start:
	.code16
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$start, %sp          /* the stack grows down from 0x7C00 */

#ifndef VMM_GUEST
	/*
	 * Memory map. Each entry we store is a 4-byte size field (20, as
	 * Multiboot wants) followed by the 20 bytes the BIOS writes at es:di.
	 * %ebx is the BIOS's continuation value; 0 after the last entry.
	 */
	movw	$BOOT_MMAP_ADDR, %di
	xorl	%ebx, %ebx
e820_loop:
	movl	$E820_ENTRY, (%di)
	addw	$4, %di
	movl	$E820_FUNC, %eax
	movl	$E820_ENTRY, %ecx
	movl	$E820_SMAP, %edx
	int	$0x15
	jc	e820_failed          /* carry: no (more) entries */
	cmpl	$E820_SMAP, %eax
	jne	e820_failed
	addw	$E820_ENTRY, %di
	cmpw	$(BOOT_MMAP_ADDR + BOOT_MMAP_MAX * MB_MMAP_ENTRY_SIZE), %di
	jae	e820_done            /* table full */
	testl	%ebx, %ebx
	jnz	e820_loop
	jmp	e820_done
e820_failed:
	subw	$4, %di              /* drop the size field just written */
e820_done:
	subw	$BOOT_MMAP_ADDR, %di
	movzwl	%di, %edi
	movl	%edi, BOOT_MBINFO_ADDR + MBI_MMAP_LENGTH

	/* Without A20, odd megabytes alias even ones. */
	inb	$SYSCTL_PORT_A, %al
	orb	$SYSCTL_A20, %al
	andb	$~SYSCTL_RESET, %al
	outb	%al, $SYSCTL_PORT_A
#endif /* !VMM_GUEST */

	/* Protected mode: flat 4 GiB code and data segments. */
	lgdt	gdtdesc
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	/* The far jump reloads %cs and leaves 16-bit decoding behind. */
	ljmp	$CODE_SEL, $protected

	.code32
protected:
	movw	$DATA_SEL, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$start, %esp
	call	bootmain                 /* never returns */

	.p2align 2
gdt:
	SEG_NULL
	SEG32(STA_X | STA_R, 0x0, 0xffffffff)  /* code */
	SEG32(STA_W, 0x0, 0xffffffff)          /* data */
gdtdesc:
	.word	gdtdesc - gdt - 1
	.long	gdt
