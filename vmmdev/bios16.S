/*
 * The BIOS of a PC-kind guest: the real-mode services boot sectors and
 * boot loaders call, and POST, the entry that sets the interrupt hardware
 * up as a PC BIOS leaves it and starts the boot sector. 16-bit code,
 * linked at offset 0 of segment BIOS_SEG (vmmdev/bios.h has the layout;
 * vmmdev/bios.c writes it and the IVT into the guest).
 *
 * References (facts only; the code is this tree's own):
 * - ACPI 6.4, 15.1 "INT 15H, E820H - Query System Address Map": EAX =
 *   E820h, EBX continuation (0 first, 0 returned after the last entry),
 *   ES:DI buffer, ECX buffer size (>= 20), EDX = "SMAP"; returns CF clear,
 *   EAX = "SMAP", ECX = bytes written, EBX next; CF set on error.
 * - IBM PC/AT BIOS interface (as collected in Ralf Brown's interrupt
 *   list): INT 10h AH=0Eh/0Fh, INT 12h, INT 13h AH=00h-03h/08h/15h,
 *   INT 15h AH=88h, AX=E801h, AX=2401h, AH=C0h, INT 16h AH=00h/01h,
 *   INT 1Ah AH=00h, and the status codes of INT 13h.
 * - Phoenix "Enhanced Disk Drive Specification" 1.1: INT 13h AH=41h
 *   (BX=55AAh -> AA55h, CX bit 0: fixed disk access subset), AH=42h (the
 *   16-byte disk address packet), 43h, AH=48h (the 26-byte parameter
 *   table).
 * - ATA/ATAPI-6 (T13 1410D): the commands IDENTIFY DEVICE (ECh; words
 *   60-61 the LBA28 sector count), READ SECTORS (20h) and WRITE SECTORS
 *   (30h); the command block registers at 1F0h-1F7h and the alternate
 *   status at 3F6h; the PIO data-in and data-out protocols (poll BSY
 *   clear, then DRQ; ERR/DF with the error register's IDNF and UNC bits)
 *   and the 400 ns wait after a device select or a command.
 * - Intel 8259A datasheet (ICW1-ICW4, OCW1 masks, OCW2 non-specific
 *   EOI) and Intel 8254 datasheet (control word, mode 3).
 * - 16550A datasheet: LSR bit 0 data ready, bit 5 THR empty.
 *
 * Invariants:
 * - Every service preserves every register and flag it does not return
 *   (the ENTER frame restores them); results are written into that frame,
 *   and CF / ZF into the FLAGS the INT pushed, which IRET restores.
 * - Services run with IF as the INT left it (clear), except INT 16h's
 *   wait for a key, which lets the timer tick meanwhile.
 * - Every wait on a device is bounded (POLL_MAX reads): a device that
 *   never answers gives an error code, never a hung BIOS.
 * - INT 13h moves at most the sectors the caller asked for between the
 *   disk and its buffer, renormalising ES:DI after each sector so a
 *   buffer may cross a 64 KiB boundary; the count it reports is the
 *   sectors moved.
 */
#include <vmmdev/bios.h>

/* ---- Hardware ---------------------------------------------------------- */
.set PIC1_CMD, 0x20
.set PIC1_DATA, 0x21
.set PIC2_CMD, 0xA0
.set PIC2_DATA, 0xA1
.set PIC_ICW1, 0x11        /* edge, cascade, ICW4 follows */
.set PIC1_BASE, 0x08       /* IRQ 0-7 -> vectors 08h-0Fh */
.set PIC2_BASE, 0x70       /* IRQ 8-15 -> vectors 70h-77h */
.set PIC1_CASCADE, 0x04    /* the slave on IRQ 2 */
.set PIC2_ID, 0x02
.set PIC_ICW4_8086, 0x01
.set PIC1_MASK, 0xFA       /* only IRQ 0 (timer) and 2 (cascade) open */
.set PIC2_MASK, 0xFF
.set PIC_EOI, 0x20         /* OCW2: non-specific EOI */
.set PIT_CH0, 0x40
.set PIT_CTRL, 0x43
.set PIT_CH0_MODE3, 0x36   /* channel 0, lobyte/hibyte, mode 3, binary */
.set COM1_DATA, 0x3F8
.set COM1_LSR, 0x3FD
.set LSR_DR, 0x01
.set LSR_THRE, 0x20

.set ATA_DATA, 0x1F0
.set ATA_ERROR, 0x1F1
.set ATA_COUNT, 0x1F2
.set ATA_LBA0, 0x1F3
.set ATA_LBA1, 0x1F4
.set ATA_LBA2, 0x1F5
.set ATA_DEVSEL, 0x1F6
.set ATA_STATUS, 0x1F7     /* read: status; write: command */
.set ATA_ALTSTATUS, 0x3F6
.set ATA_DEV_LBA, 0xE0     /* device register: LBA mode, obsolete bits set */
.set ATA_DEV_SLAVE, 0x10
.set ATA_LBA_TOP_SHIFT, 24 /* LBA bits 27:24 go in the device register */
.set ATA_CMD_READ, 0x20
.set ATA_CMD_WRITE, 0x30
.set ATA_CMD_IDENTIFY, 0xEC
.set ST_ERR, 0x01
.set ST_DRQ, 0x08
.set ST_DF, 0x20
.set ST_DRDY, 0x40
.set ST_BSY, 0x80
.set ST_FLOAT, 0xFF        /* no device on the channel */
.set ER_IDNF, 0x10
.set ER_UNC, 0x40
.set ATA_SECTOR_WORDS, 256
.set ATA_SECTOR_BYTES, 512
.set ATA_LBA28_END, 0x10000000
.set ATA_SELECT_DELAY, 4   /* alternate status reads: 400 ns */
.set IDENT_WORDS, 256
.set IDENT_LBA28_LO, 60
.set IDENT_LBA28_HI, 61
.set POLL_MAX, 0x100000
.set TTY_POLL_MAX, 0xFFFF

/* ---- Data the BIOS keeps in the BDA (segment 0) ------------------------ */
.set BDA_BASEMEM_KB, 0x413
.set BDA_TICKS, 0x46C      /* dword: timer ticks since midnight */
.set BDA_MIDNIGHT, 0x470   /* byte: a midnight passed since the last read */
.set BDA_DISK_STATUS, 0x474 /* byte: INT 13h's last status */
.set BDA_NDISKS, 0x475     /* byte: hard disks POST found */
.set TICKS_PER_DAY, 0x1800B0 /* 18.2065 Hz for 24 h */
.set BOOT_SIGNATURE, 0xAA55 /* the boot sector's last word */
.set BOOT_SIGNATURE_AT, 510

/* ---- Interfaces --------------------------------------------------------- */
.set FL_CF, 0x0001
.set FL_ZF, 0x0040
.set SMAP, 0x534D4150      /* "SMAP" */
.set INT_USER_TICK, 0x1C   /* INT 1Ch: the timer hook IRQ 0 calls */
.set MODE_TEXT80, 0x03
.set TEXT_COLUMNS, 80
.set KEY_EXT_MASK, 0xEF     /* INT 16h: AH bit 4 picks the "enhanced" calls */
/* INT 13h status codes (AH). */
.set DS_OK, 0x00
.set DS_BAD_PARAM, 0x01
.set DS_NOT_FOUND, 0x04
.set DS_ECC, 0x10
.set DS_TIMEOUT, 0x80
.set DS_NOT_READY, 0xAA
.set DS_STATUS_ERR, 0xE0
.set DS_WRITE_FAULT, 0xCC
.set FN_UNSUPPORTED, 0x86  /* INT 15h: function not supported */
/* The geometry INT 13h reports and AH=02h translates with. */
.set GEOM_HEADS, 16
.set GEOM_SPT, 63
.set GEOM_MAX_CYLS, 1024
.set GEOM_CYL_HI_SHIFT, 2  /* cylinder bits 8-9 -> CL bits 6-7 */
.set GEOM_CYL_HI_MASK, 0xC0
.set GEOM_SECT_MASK, 0x3F
/* EDD 1.1. */
.set EDD_CHECK_IN, 0x55AA
.set EDD_CHECK_OUT, 0xAA55
.set EDD_VERSION_1_1, 0x21
.set EDD_FIXED_DISK_ACCESS, 0x0001
.set DAP_SIZE_MIN, 0x10
.set DAP_COUNT, 2
.set DAP_BUF_OFF, 4
.set DAP_BUF_SEG, 6
.set DAP_LBA, 8
.set DAP_COUNT_MAX, 127
.set EDP_SIZE, 0x1A        /* the 1.x parameter table */
.set EDP_FLAGS_CHS_VALID, 0x0002
.set EDP_INFO, 2
.set EDP_CYLS, 4
.set EDP_HEADS, 8
.set EDP_SPT, 12
.set EDP_SECTORS, 16
.set EDP_BYTES, 24
.set DRIVE_FIRST, 0x80
.set DRIVE_LAST, 0x81
.set DISK_TYPE_FIXED, 0x03

/* Real-mode addresses and widths. */
.set PARA_SHIFT, 4         /* a segment is a 16-byte paragraph number */
.set PARA_MASK, 0x0F
.set BYTE_BITS, 8
.set WORD_BITS, 16

/* Service function numbers (AH, or AX where said). */
.set V_TTY, 0x0E           /* INT 10h */
.set V_GET_MODE, 0x0F
.set M_E820, 0xE820        /* INT 15h, AX */
.set M_E801, 0xE801        /* AX */
.set M_A20_ON, 0x2401      /* AX */
.set M_EXT_SIZE, 0x88
.set K_READ, 0x00          /* INT 16h */
.set K_PEEK, 0x01
.set D_RESET, 0x00         /* INT 13h */
.set D_STATUS, 0x01
.set D_READ, 0x02
.set D_WRITE, 0x03
.set D_PARAMS, 0x08
.set D_TYPE, 0x15
.set D_EDD_CHECK, 0x41
.set D_EDD_READ, 0x42
.set D_EDD_WRITE, 0x43
.set D_EDD_PARAMS, 0x48
.set D_ONE_SECTOR, 1
.set D_FIRST_SECTOR, 1     /* CHS sectors count from 1 */

/* The register frame ENTER builds (pushal, then DS, then ES). */
.set F_ES, 0
.set F_DS, 2
.set F_EDI, 4
.set F_ESI, 8
.set F_EBX, 20
.set F_EDX, 24
.set F_ECX, 28
.set F_EAX, 32
.set F_FLAGS, 40
.set F_AL, F_EAX
.set F_AH, F_EAX + 1
.set F_BL, F_EBX
.set F_CL, F_ECX
.set F_CH, F_ECX + 1
.set F_DL, F_EDX
.set F_DH, F_EDX + 1

.macro ENTER
	pushal
	push	%ds
	push	%es
	mov	%sp, %bp
	cld
.endm

/* Assembly-time check that the header field at `.` is bios.h's OFF. */
.macro AT off
	.if . - bios16 - (\off)
	.error "bios16.S: header out of step with vmmdev/bios.h"
	.endif
.endm

	.code16
	.text
	.globl bios16
bios16:
/* ---- Header (bios.h's BH_*) -------------------------------------------- */
	AT BH_MAGIC
	.long	BIOS_MAGIC
	AT BH_POST
	.word	post
	.word	int_iret
	.word	irq0
	.word	irq_master
	.word	irq_slave
	.word	int10
	.word	int12
	.word	int13
	.word	int15
	.word	int16
	.word	int1a
	AT BH_E801_LO
	.word	0, 0, 0, 0     /* E801 low, high, AH=88h, E820 count */
	AT BH_KEY
	.byte	0, 0, 0, 0     /* key, key full, device bit, command */
	.byte	0, 0           /* reserved: the table on a 4-byte boundary */
	AT BH_E820
	.fill	BIOS_E820_MAX * BIOS_E820_ENTRY, 1, 0
	AT BH_CODE

/* ---- POST ---------------------------------------------------------------- */
/* The PICs at vectors 08h/70h with only the timer open, the PIT at 18.2 Hz,
 * the disk count in the BDA; then drive 80h's boot sector read to 0:7C00
 * (INT 13h) and started as a PC BIOS starts it: CS:IP 0:7C00, DL 80h,
 * SS:SP 0:7C00, DS = ES = 0, IF set. Without one (no disk, a read error,
 * no 55AAh at its end) a line on COM1, and the CPU halts. */
post:
	cli
	cld
	xor	%ax, %ax
	mov	%ax, %ss
	mov	$BIOS_BOOT_SP, %sp
	mov	%ax, %ds
	mov	%ax, %es
	mov	$PIC_ICW1, %al
	out	%al, $PIC1_CMD
	out	%al, $PIC2_CMD
	mov	$PIC1_BASE, %al
	out	%al, $PIC1_DATA
	mov	$PIC2_BASE, %al
	out	%al, $PIC2_DATA
	mov	$PIC1_CASCADE, %al
	out	%al, $PIC1_DATA
	mov	$PIC2_ID, %al
	out	%al, $PIC2_DATA
	mov	$PIC_ICW4_8086, %al
	out	%al, $PIC1_DATA
	out	%al, $PIC2_DATA
	mov	$PIC1_MASK, %al
	out	%al, $PIC1_DATA
	mov	$PIC2_MASK, %al
	out	%al, $PIC2_DATA
	mov	$PIT_CH0_MODE3, %al
	out	%al, $PIT_CTRL
	xor	%al, %al          /* count 0: 65536, 1193182 / 65536 Hz */
	out	%al, $PIT_CH0
	out	%al, $PIT_CH0
	call	count_disks
	mov	%al, BDA_NDISKS
	/* The boot sector: drive 80h's first, with its signature. */
	mov	$D_READ << 8 | D_ONE_SECTOR, %ax
	mov	$D_FIRST_SECTOR, %cx /* cylinder 0 */
	mov	$BIOS_BOOT_DRIVE, %dx /* head 0 */
	mov	$BIOS_BOOT_PA, %bx
	int	$0x13
	jc	no_boot
	cmpw	$BOOT_SIGNATURE, BIOS_BOOT_PA + BOOT_SIGNATURE_AT
	jne	no_boot
	xor	%eax, %eax
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%ebp, %ebp
	mov	$BIOS_BOOT_DRIVE, %dl
	sti
	ljmp	$0, $BIOS_BOOT_PA

no_boot:
	push	%cs
	pop	%ds
	mov	$no_boot_msg, %si
1:	lodsb
	test	%al, %al
	jz	2f
	mov	$V_TTY, %ah
	int	$0x10
	jmp	1b
2:	cli
	hlt
	jmp	2b
no_boot_msg:
	.asciz	"bios: no bootable disk (drive 80h, sector 0)\r\n"

/* ---- Interrupt stubs ----------------------------------------------------- */
int_iret:
	iret

/* IRQ 0: one more tick since midnight, the INT 1Ch hook, EOI. */
irq0:
	push	%ds
	pushl	%eax
	xor	%ax, %ax
	mov	%ax, %ds
	movl	BDA_TICKS, %eax
	incl	%eax
	cmpl	$TICKS_PER_DAY, %eax
	jb	1f
	xorl	%eax, %eax
	movb	$1, BDA_MIDNIGHT
1:	movl	%eax, BDA_TICKS
	int	$INT_USER_TICK
	mov	$PIC_EOI, %al
	out	%al, $PIC1_CMD
	popl	%eax
	pop	%ds
	iret

irq_master:
	push	%ax
	mov	$PIC_EOI, %al
	out	%al, $PIC1_CMD
	pop	%ax
	iret

irq_slave:
	push	%ax
	mov	$PIC_EOI, %al
	out	%al, $PIC2_CMD
	out	%al, $PIC1_CMD
	pop	%ax
	iret

/* ---- Common service exits ------------------------------------------------ */
svc_ok:
	andw	$~FL_CF, F_FLAGS(%bp)
	jmp	svc_done
svc_fail:
	orw	$FL_CF, F_FLAGS(%bp)
svc_done:
	pop	%es
	pop	%ds
	popal
	iret

/* ---- INT 10h: video, on COM1 ---------------------------------------------- */
int10:
	cmp	$V_TTY, %ah
	je	tty_out
	cmp	$V_GET_MODE, %ah
	je	video_mode
	iret
video_mode:
	mov	$MODE_TEXT80, %al
	mov	$TEXT_COLUMNS, %ah
	xor	%bh, %bh          /* page 0 */
	iret
tty_out:
	push	%ax
	push	%cx
	push	%dx
	mov	%al, %ah
	mov	$COM1_LSR, %dx
	mov	$TTY_POLL_MAX, %cx /* a UART that never empties: write anyway */
1:	in	%dx, %al
	test	$LSR_THRE, %al
	loopz	1b
	mov	%ah, %al
	mov	$COM1_DATA, %dx
	out	%al, %dx
	pop	%dx
	pop	%cx
	pop	%ax
	iret

/* ---- INT 12h: base memory ---------------------------------------------------- */
int12:
	push	%ds
	xor	%ax, %ax
	mov	%ax, %ds
	mov	BDA_BASEMEM_KB, %ax
	pop	%ds
	iret

/* ---- INT 15h: system services ------------------------------------------------- */
int15:
	ENTER
	mov	F_EAX(%bp), %ax
	cmp	$M_E820, %ax
	je	e820
	cmp	$M_E801, %ax
	je	e801
	cmp	$M_A20_ON, %ax
	je	a20_on
	cmp	$M_EXT_SIZE, %ah
	je	ext_mem
	/* AH=C0h (system configuration) and all else: not supported. */
unsupported:
	movb	$FN_UNSUPPORTED, F_AH(%bp)
	jmp	svc_fail

e820:
	cmpl	$SMAP, F_EDX(%bp)
	jne	unsupported
	cmpl	$BIOS_E820_ENTRY, F_ECX(%bp)
	jb	unsupported
	movl	F_EBX(%bp), %ebx
	movzwl	%cs:BH_E820_N, %ecx
	cmpl	%ecx, %ebx
	jae	unsupported
	imul	$BIOS_E820_ENTRY, %bx, %si
	add	$BH_E820, %si
	push	%cs
	pop	%ds
	mov	$BIOS_E820_ENTRY, %cx
	rep movsb                  /* to the caller's ES:DI */
	incl	%ebx
	cmpw	%cs:BH_E820_N, %bx
	jb	1f
	xorl	%ebx, %ebx         /* that was the last one */
1:	movl	%ebx, F_EBX(%bp)
	movl	$SMAP, F_EAX(%bp)
	movl	$BIOS_E820_ENTRY, F_ECX(%bp)
	jmp	svc_ok

e801:
	mov	%cs:BH_E801_LO, %ax
	mov	%ax, F_EAX(%bp)
	mov	%ax, F_ECX(%bp)
	mov	%cs:BH_E801_HI, %ax
	mov	%ax, F_EBX(%bp)
	mov	%ax, F_EDX(%bp)
	jmp	svc_ok

ext_mem:
	mov	%cs:BH_EXT_KB, %ax
	mov	%ax, F_EAX(%bp)
	jmp	svc_ok

a20_on:                            /* guest addresses never wrap: on */
	movb	$0, F_AH(%bp)
	jmp	svc_ok

/* ---- INT 16h: keyboard, from COM1 ------------------------------------------- */
int16:
	ENTER
	mov	F_AH(%bp), %ah
	and	$KEY_EXT_MASK, %ah /* 10h/11h: the same as 00h/01h */
	cmp	$K_READ, %ah
	je	key_read
	cmp	$K_PEEK, %ah
	je	key_peek
	jmp	svc_done
key_peek:
	call	key_fetch
	testb	$1, %cs:BH_KEY_FULL
	jz	1f
	movzbw	%cs:BH_KEY, %ax    /* AH = 0: no scan code on a serial line */
	mov	%ax, F_EAX(%bp)
	andw	$~FL_ZF, F_FLAGS(%bp)
	jmp	svc_done
1:	orw	$FL_ZF, F_FLAGS(%bp)
	jmp	svc_done
key_read:
	sti
1:	call	key_fetch
	testb	$1, %cs:BH_KEY_FULL
	jz	1b
	cli
	movb	$0, %cs:BH_KEY_FULL
	movzbw	%cs:BH_KEY, %ax
	mov	%ax, F_EAX(%bp)
	jmp	svc_done

/* If no key is held and COM1 has a byte, hold it. */
key_fetch:
	testb	$1, %cs:BH_KEY_FULL
	jnz	1f
	mov	$COM1_LSR, %dx
	in	%dx, %al
	cmp	$ST_FLOAT, %al     /* no UART */
	je	1f
	test	$LSR_DR, %al
	jz	1f
	mov	$COM1_DATA, %dx
	in	%dx, %al
	mov	%al, %cs:BH_KEY
	movb	$1, %cs:BH_KEY_FULL
1:	ret

/* ---- INT 1Ah: time of day ----------------------------------------------------- */
int1a:
	ENTER
	cmpb	$0, F_AH(%bp)
	jne	unsupported
	xor	%ax, %ax
	mov	%ax, %ds
	mov	BDA_TICKS, %ax     /* IF is clear: IRQ 0 cannot tear it */
	mov	%ax, F_EDX(%bp)
	mov	BDA_TICKS + 2, %ax
	mov	%ax, F_ECX(%bp)
	mov	BDA_MIDNIGHT, %al
	mov	%al, F_AL(%bp)
	movb	$0, BDA_MIDNIGHT
	jmp	svc_ok

#include "bios16disk.S"

	.org	BIOS_SIZE          /* fails the build if the blob is too big */
