/*
 * Kernel entry. The boot loader jumps here (physical address _start) in
 * 32-bit protected mode, paging off, with %eax = MULTIBOOT_BOOTLOADER_MAGIC
 * and %ebx = the physical address of the Multiboot info block.
 *
 * Long mode needs paging, so we build minimal boot page tables that map the
 * first KLINKSIZE (1 GiB) of physical memory three times, with 2 MiB pages:
 *   at 0 (identity: the next instructions run at physical addresses),
 *   at KERNBASE (the direct map) and at KERNLINK (where we are linked).
 * Then: PAE, EFER.LME, paging -> long mode; a far jump into the 64-bit
 * code segment; a jump to the high (linked) address; a stack; i386_init.
 * kern/pmap_kern.c later replaces these tables with the kernel's real ones.
 */
#include <inc/mmu.h>
#include <inc/memlayout.h>
#include <kern/longmode.h>
#include <inc/multiboot.h>

/* Physical address of a kernel symbol while paging is still off. */
#define RELOC(x) ((x) - KERNLINK)

#define BOOT_PD_FLAGS (PTE_P | PTE_W | PTE_PS)
#define BOOT_TABLE_FLAGS (PTE_P | PTE_W)

.globl _start
_start = RELOC(entry)

	.section .text.entry, "ax"
	.code32
.globl entry
entry:
	cli
	/* Keep the loader's arguments in registers the table set-up spares. */
	movl	%eax, %edi
	movl	%ebx, %esi

	/* boot_pd: 512 2-MiB pages covering physical [0, 1 GiB). */
	movl	$RELOC(boot_pd), %edx
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	shll	$PTSHIFT, %eax
	orl	$BOOT_PD_FLAGS, %eax
	movl	%eax, (%edx, %ecx, 8)
	movl	$0, 4(%edx, %ecx, 8)
	incl	%ecx
	cmpl	$NPTENTRIES, %ecx
	jne	1b

	/* boot_pdpt_lo[0] and boot_pdpt_hi[PDPX(KERNLINK)] -> boot_pd. */
	movl	$RELOC(boot_pd) + BOOT_TABLE_FLAGS, %eax
	movl	%eax, RELOC(boot_pdpt_lo)
	movl	%eax, RELOC(boot_pdpt_hi) + 8 * ((KERNLINK >> PDPXSHIFT) & PTX_MASK)
	/* PML4: identity and KERNBASE use the low PDPT, KERNLINK the high. */
	movl	$RELOC(boot_pdpt_lo) + BOOT_TABLE_FLAGS, %eax
	movl	%eax, RELOC(boot_pml4)
	movl	%eax, RELOC(boot_pml4) + 8 * ((KERNBASE >> PML4XSHIFT) & PTX_MASK)
	movl	$RELOC(boot_pdpt_hi) + BOOT_TABLE_FLAGS, %eax
	movl	%eax, RELOC(boot_pml4) + 8 * ((KERNLINK >> PML4XSHIFT) & PTX_MASK)

	ENABLE_LONG_MODE RELOC(boot_pml4)

	/* Compatibility mode until %cs holds a 64-bit code segment. */
	lgdt	RELOC(boot_gdtdesc)
	ljmp	$GD_KT, $RELOC(entry64)

	.code64
	/* Tell debuggers (gdb) that the call chain starts here. */
	.cfi_sections .debug_frame
	.cfi_startproc
	.cfi_undefined rip
entry64:
	movabsq	$relocated, %rax
	jmp	*%rax
relocated:
	movw	$GD_KD, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorw	%ax, %ax
	movw	%ax, %fs
	movw	%ax, %gs

	/* Clear the frame pointer so backtraces stop here. */
	movq	$0, %rbp
	movabsq	$bootstacktop, %rsp
	/* i386_init(magic, mbinfo): %edi and %esi, zero-extended. */
	movl	%edi, %edi
	movl	%esi, %esi
	movabsq	$i386_init, %rax
	call	*%rax
spin:	hlt
	jmp	spin
	.cfi_endproc

	.data
/* A GDT just for the switch; kern/gdt.c installs the real one. */
	.p2align 3
boot_gdt:
	SEG_NULL
	SEG_CODE64                     /* GD_KT */
	SEG_DATA64                     /* GD_KD */
boot_gdtdesc:
	.word	boot_gdtdesc - boot_gdt - 1
	.quad	RELOC(boot_gdt)

	.p2align PGSHIFT
.globl boot_pml4
boot_pml4:
	.space	PGSIZE
boot_pdpt_lo:
	.space	PGSIZE
boot_pdpt_hi:
	.space	PGSIZE
boot_pd:
	.space	PGSIZE

/* CPU 0's boot stack; pmap_kern.c maps it again below KSTACKTOP. */
	.p2align PGSHIFT
.globl bootstack
bootstack:
	.space	KSTKSIZE
.globl bootstacktop
bootstacktop:
