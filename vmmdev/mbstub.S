/*
 * The boot stub of a multiboot guest (vmmdev/mboot.c copies it to
 * GUEST_BOOT_PA, where the guest starts in real mode): into 32-bit
 * protected mode as the Multiboot specification (0.6.96, section 3.2,
 * "Machine state") asks, then jump to the kernel's entry:
 * CS a flat 32-bit code segment, DS/ES/FS/GS/SS flat data segments,
 * paging off, interrupts off, EAX = 0x2BADB002, EBX = the multiboot
 * information. The loader writes the entry and the information's
 * address into mbstub_entry and mbstub_mbi of its copy.
 *
 * Invariants:
 * - The bytes from mbstub_start to mbstub_end run at STUB_PA,
 *   with CS = DS = 0: every address is AT(label).
 * - They live in the vmm program's read-only data: it never runs them.
 */
/* GUEST_BOOT_PA (inc/vmx.h, which is C only): mboot.c checks mbstub_pa
 * against it before it uses the stub. */
#define STUB_PA 0x7C00
#define AT(x) ((x) - mbstub_start + STUB_PA)
#define CR0_PE 0x1
#define SEG_CODE32 0x08
#define SEG_DATA32 0x10
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002
/* Flat 4 GiB segments, 32-bit, granularity 4 KiB (SDM Vol. 3A 3.4.5):
 * execute/read code, read/write data. */
#define GDT_CODE32 0x00CF9A000000FFFF
#define GDT_DATA32 0x00CF92000000FFFF

	.section .rodata
	.globl mbstub_start, mbstub_end, mbstub_entry, mbstub_mbi, mbstub_pa
mbstub_pa:
	.long	STUB_PA
	.code16
mbstub_start:
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ds
	lgdtl	AT(gdtdesc)
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$SEG_CODE32, $AT(pm32)

	.code32
pm32:
	movw	$SEG_DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	AT(mbstub_mbi), %ebx
	movl	$MULTIBOOT_BOOTLOADER_MAGIC, %eax
	jmp	*AT(mbstub_entry)

	.p2align 3
gdt:
	.quad	0
	.quad	GDT_CODE32
	.quad	GDT_DATA32
gdtdesc:
	.word	gdtdesc - gdt - 1
	.long	AT(gdt)

	.p2align 2
mbstub_entry:
	.long	0
mbstub_mbi:
	.long	0
mbstub_end:
	.code64
