/*
 * The multiboot test kernel's header and entry (Multiboot 0.6.96, 3.1:
 * the header in the first 8 KiB; 3.2: EAX = 0x2BADB002, EBX = the boot
 * information, 32-bit protected mode, paging off). The header asks for
 * page-aligned modules and memory information, and nothing else: the
 * loader finds the kernel's segments in its ELF headers. Built with
 * MB_AOUT (mbtest-aout, a flat binary) the header also gives the
 * addresses itself (3.1.3, flag 16), and the loader must use them.
 *
 * Invariants:
 * - The stack is STACK_SIZE bytes of this file's bss; main() never
 *   returns (it ends the guest through the debug-exit port).
 */
#define MBH_MAGIC 0x1BADB002
#ifdef MB_AOUT
#define MBH_FLAGS 0x10003  /* ... and the address fields */
#else
#define MBH_FLAGS 0x3  /* page-aligned modules, memory information */
#endif
#define STACK_SIZE 8192

	.section .multiboot, "a"
	.p2align 2
	.long	MBH_MAGIC
	.long	MBH_FLAGS
	.long	-(MBH_MAGIC + MBH_FLAGS)
#ifdef MB_AOUT
mb_header:
	.long	mb_header - 12  /* header_addr: the magic's */
	.long	mb_load_start   /* load_addr (mbtest.ld) */
	.long	mb_load_end     /* load_end_addr */
	.long	mb_bss_end      /* bss_end_addr */
	.long	_start          /* entry_addr */
#endif

	.text
	.code32
	.globl	_start
_start:
	movl	$stack_top, %esp
	pushl	%ebx
	pushl	%eax
	call	mbtest_main
1:	hlt
	jmp	1b

	.bss
	.p2align 4
	.space	STACK_SIZE
stack_top:
