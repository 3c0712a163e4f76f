/*
 * biostest: the BIOS of PC-kind guests (vmmdev/bios16.S) on a real
 * (emulated) CPU, without our VMM. QEMU boots this disk with its own
 * firmware; the boot sector (pass 1) reads the rest of the program and
 * the pages bios_build and fw_tables_build wrote (biostest.h), puts them
 * where a guest has them (IVT at 0, BDA at 0x400, BIOS and EBDA at
 * BIOS_PA), and runs bios_build's jump to our POST (a guest's first
 * instruction), which reads this boot sector again with our INT 13h and
 * starts it (pass 2) as it starts a guest's. From then on only our BIOS
 * runs: every line is printed with INT 10h, and the test calls INT 15h
 * (E820 to the end, E801h, 88h, 2401h, C0h, a bad E820), INT 12h, INT 13h
 * (41h, 08h, 15h, 48h, 42h and 02h reading pattern sectors, errors past
 * the disk and on a bad drive; the slave read when 08h counts two disks,
 * else its error as absent), INT 1Ah (ticks must advance: IRQ 0 stub
 * and EOI) and INT 16h (a key typed on COM1).
 *
 * The grade test checks the values printed; this program checks the
 * sector contents, the carry flags and the error paths, and ends QEMU
 * through isa-debug-exit with BT_PASS, or prints "FAIL: why" and ends
 * with BT_FAIL.
 *
 * Invariants: pass 1 calls the firmware QEMU booted with only for its
 * one disk read; from the switch of the IVT on, interrupts are off until
 * our POST, and no code but ours runs.
 */
#include <vmmdev/bios.h>
#include <guests/biostest/biostest.h>

.set SMAP, 0x534D4150
.set E820_ASK, 24          /* ask for ACPI 3.0's 24: get 20 */
.set E820_MAX_CALLS, 16
.set DRIVE0, 0x80
.set DRIVE1, 0x81
.set DRIVE_BAD, 0x82
.set FL_CF, 0x0001
.set BUF_SEG, 0x1000       /* read buffers: 0x10000 onwards */
.set BUF_CROSS_OFF, 0xFF00 /* a buffer across the 64 KiB line 0x20000 */
.set CROSS_LBA, BT_PATTERN_LBA + 36
.set CROSS_COUNT, 3
.set CHS_LBA, 5000
.set CHS_COUNT, 2
.set CHS_SEG, 0x3000
.set SLAVE_LBA, BT_DISK_SECTORS - 1
.set SRC_LBA, 7000         /* writes copy these sectors' patterns ... */
.set DST_LBA, 6000         /* ... here (AH=43h, two sectors) */
.set DST_CHS_LBA, 6100     /* ... and here (AH=03h, one sector) */
.set SRC_SEG, 0x4000
.set BACK_SEG, 0x5000
.set TICKS_WANTED, 3
.set HLT_MAX, 1000
.set PARA_PER_SECTOR, BT_SECTOR / 16
.set EDP_SIZE, 0x1A
.set EDP_SECTORS, 16
.set KEY_WANTED, 'k'

/* Print a string literal through INT 10h. */
.macro PRINT str
	.pushsection .text, 1
str\@:	.asciz "\str"
	.popsection
	mov	$str\@, %si
	call	puts
.endm

/* Fail with message str unless the condition code cc holds. */
.macro CHECK cc, str
	j\cc	ok\@
	.pushsection .text, 1
why\@:	.asciz "\str"
	.popsection
	mov	$why\@, %si
	jmp	fail
ok\@:
.endm

	.code16
	.text
	.globl	start
start:
	cli
	cld
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$BT_BOOT_PA, %sp
	cmpl	$BT_PASS2_MAGIC, pass2
	je	tests
	/* Pass 1: the code and pages, with the firmware's INT 13h. */
	mov	$dap, %si
	mov	$0x4200, %ax
	int	$0x13
	jc	load_failed
	cli
	mov	$BT_IVT_STAGED, %si
	xor	%di, %di
	mov	$BT_IVT_BYTES / 2, %cx
	rep movsw
	mov	$BT_BDA_STAGED, %si
	mov	$BT_BDA_PA, %di
	mov	$BT_BDA_BYTES / 2, %cx
	rep movsw
	mov	$BIOS_SEG, %ax
	mov	%ax, %es
	mov	$BT_RES_STAGED, %si
	xor	%di, %di
	mov	$BT_RES_BYTES / 2, %cx
	rep movsw
	movl	$BT_PASS2_MAGIC, pass2
	/* The guest's first instruction: bios_build's jump to POST. */
	ljmp	$0, $BT_BDA_STAGED + BT_RESET_AT
load_failed:
	mov	$BT_FAIL_LOAD, %al
	jmp	exit

	.balign	4
dap:	.byte	16, 0
	.word	BT_LOAD_SECTORS
	.word	BT_CODE_PA, 0
	.quad	1
	.org	BT_SECTOR - 2
	.word	0xAA55

/* ---- Pass 2: everything below runs on our BIOS ---------------------------- */
tests:
	PRINT	"biostest: POST done, our BIOS runs\r\n"
	mov	$0x0F00, %ax
	int	$0x10
	cmp	$0x5003, %ax
	CHECK	e, "int 10h AH=0Fh: not mode 3, 80 columns"
	call	test_e820
	call	test_int15
	int	$0x12
	push	%ax
	PRINT	"int12: "
	pop	%ax
	call	hex16
	call	newline
	call	test_disk_info
	call	test_disk_reads
	call	test_disk_writes
	call	test_disk_errors
	call	test_ticks
	call	test_key
	PRINT	"biostest: PASS\r\n"
	mov	$BT_PASS, %al
exit:
	out	%al, $BT_EXIT_PORT
	cli
1:	hlt
	jmp	1b

fail:
	push	%si
	PRINT	"biostest: FAIL: "
	pop	%si
	call	puts
	call	newline
	mov	$BT_FAIL, %al
	jmp	exit

/* ---- INT 15h ------------------------------------------------------------- */
test_e820:
	xor	%ebx, %ebx
	xor	%bp, %bp
1:	mov	$e820_buf, %di
	mov	$0xE820, %eax
	mov	$E820_ASK, %ecx
	mov	$SMAP, %edx
	int	$0x15
	CHECK	nc, "E820: carry set"
	cmp	$SMAP, %eax
	CHECK	e, "E820: EAX is not SMAP"
	cmp	$20, %ecx
	CHECK	e, "E820: ECX is not 20"
	PRINT	"e820: "
	mov	e820_buf + 4, %eax
	call	hex32
	mov	e820_buf, %eax
	call	hex32
	PRINT	" "
	mov	e820_buf + 12, %eax
	call	hex32
	mov	e820_buf + 8, %eax
	call	hex32
	PRINT	" "
	mov	e820_buf + 16, %eax
	call	hex32
	call	newline
	inc	%bp
	cmp	$E820_MAX_CALLS, %bp
	CHECK	b, "E820: EBX never returns to 0"
	test	%ebx, %ebx
	jnz	1b
	/* EDX not "SMAP": an error. */
	mov	$0xE820, %eax
	xor	%ebx, %ebx
	mov	$E820_ASK, %ecx
	xor	%edx, %edx
	int	$0x15
	CHECK	c, "E820 without SMAP in EDX succeeded"
	ret

test_int15:
	mov	$0xE801, %ax
	int	$0x15
	CHECK	nc, "INT 15h E801h: carry set"
	push	%dx
	push	%cx
	push	%bx
	push	%ax
	PRINT	"e801: "
	pop	%ax
	call	hex16
	pop	%ax
	call	space16
	pop	%ax
	call	space16
	pop	%ax
	call	space16
	call	newline
	mov	$0x8800, %ax
	int	$0x15
	CHECK	nc, "INT 15h AH=88h: carry set"
	push	%ax
	PRINT	"int15 88h: "
	pop	%ax
	call	hex16
	call	newline
	mov	$0x2401, %ax
	int	$0x15
	CHECK	nc, "INT 15h AX=2401h: carry set"
	mov	$0xC000, %ax
	int	$0x15
	CHECK	c, "INT 15h AH=C0h: carry clear"
	cmp	$0x86, %ah
	CHECK	e, "INT 15h AH=C0h: AH is not 86h"
	ret

/* ---- INT 13h ------------------------------------------------------------- */
test_disk_info:
	mov	$0x4100, %ax
	mov	$0x55AA, %bx
	mov	$DRIVE0, %dl
	int	$0x13
	CHECK	nc, "INT 13h AH=41h: carry set"
	cmp	$0xAA55, %bx
	CHECK	e, "INT 13h AH=41h: BX is not AA55h"
	test	$1, %cl
	CHECK	nz, "INT 13h AH=41h: no fixed disk access subset"
	mov	$0x0800, %ax
	mov	$DRIVE0, %dl
	int	$0x13
	CHECK	nc, "INT 13h AH=08h: carry set"
	mov	%cl, %al
	and	$0x3F, %al
	mov	%al, spt
	mov	%dh, %al
	inc	%al
	mov	%al, heads
	mov	%dl, ndisks
	push	%dx
	PRINT	"int13 08h: cx="
	mov	%cx, %ax
	call	hex16
	PRINT	" dx="
	pop	%ax
	call	hex16
	call	newline
	mov	$0x1500, %ax
	mov	$DRIVE0, %dl
	int	$0x13
	CHECK	nc, "INT 13h AH=15h: carry set"
	cmp	$0x03, %ah
	CHECK	e, "INT 13h AH=15h: not a fixed disk"
	push	%dx
	PRINT	"int13 15h: "
	mov	%cx, %ax
	call	hex16
	pop	%ax
	call	hex16
	call	newline
	movw	$EDP_SIZE, edp
	mov	$edp, %si
	mov	$0x4800, %ax
	mov	$DRIVE0, %dl
	int	$0x13
	CHECK	nc, "INT 13h AH=48h: carry set"
	PRINT	"int13 48h: "
	mov	edp + EDP_SECTORS, %eax
	call	hex32
	call	newline
	ret

test_disk_reads:
	/* AH=42h into a buffer across a 64 KiB line. */
	movw	$CROSS_COUNT, dap2 + 2
	movw	$BUF_CROSS_OFF, dap2 + 4
	movw	$BUF_SEG, dap2 + 6
	movl	$CROSS_LBA, dap2 + 8
	mov	$dap2, %si
	mov	$0x4200, %ax
	mov	$DRIVE0, %dl
	int	$0x13
	CHECK	nc, "INT 13h AH=42h: carry set"
	cmpw	$CROSS_COUNT, dap2 + 2
	CHECK	e, "INT 13h AH=42h: packet's count changed"
	mov	$BUF_SEG + BUF_CROSS_OFF / 16, %ax
	mov	$CROSS_LBA, %ebx
	mov	$CROSS_COUNT, %cx
	call	check_sectors
	CHECK	nc, "INT 13h AH=42h: wrong data"
	PRINT	"int13 42h: 3 sectors across 64 KiB ok\r\n"
	/* AH=02h: CHS_LBA in the geometry AH=08h reported. */
	movzbw	spt, %cx
	movzbw	heads, %bx
	mov	$CHS_LBA, %ax
	xor	%dx, %dx
	div	%cx                /* ax = track, dx = sector - 1 */
	inc	%dx
	push	%dx
	xor	%dx, %dx
	div	%bx                /* ax = cylinder, dx = head */
	mov	%dl, %dh
	pop	%bx
	mov	%bl, %cl           /* the sector */
	mov	%al, %ch
	shl	$6, %ah            /* cylinder bits 8-9 -> CL bits 6-7 */
	or	%ah, %cl
	mov	$CHS_SEG, %bx
	mov	%bx, %es
	xor	%bx, %bx
	mov	$0x0200 + CHS_COUNT, %ax
	mov	$DRIVE0, %dl
	int	$0x13
	CHECK	nc, "INT 13h AH=02h: carry set"
	cmp	$CHS_COUNT, %al
	CHECK	e, "INT 13h AH=02h: AL is not the count"
	mov	$CHS_SEG, %ax
	mov	$CHS_LBA, %ebx
	mov	$CHS_COUNT, %cx
	call	check_sectors
	CHECK	nc, "INT 13h AH=02h: wrong data"
	xor	%ax, %ax
	mov	%ax, %es
	PRINT	"int13 02h: 2 sectors by CHS ok\r\n"
	ret

/* AH=43h and 03h write another sector's pattern; 42h and 02h read it
 * back. */
test_disk_writes:
	mov	$SRC_SEG, %ax
	mov	$SRC_LBA, %ebx
	mov	$0x42, %cl
	call	edd_two
	CHECK	nc, "INT 13h AH=42h: carry set"
	mov	$SRC_SEG, %ax
	mov	$DST_LBA, %ebx
	mov	$0x43, %cl
	call	edd_two
	CHECK	nc, "INT 13h AH=43h: carry set"
	mov	$BACK_SEG, %ax
	mov	$DST_LBA, %ebx
	mov	$0x42, %cl
	call	edd_two
	CHECK	nc, "INT 13h AH=42h after 43h: carry set"
	mov	$BACK_SEG, %ax
	mov	$SRC_LBA, %ebx
	mov	$2, %cx
	call	check_sectors
	CHECK	nc, "INT 13h AH=43h: the sectors read back differ"
	mov	$DST_CHS_LBA, %ax
	mov	$0x0301, %bx
	call	chs_one
	CHECK	nc, "INT 13h AH=03h: carry set"
	mov	$DST_CHS_LBA, %ax
	mov	$0x0201, %bx
	push	%es
	mov	$BACK_SEG, %cx
	mov	%cx, %es
	call	chs_one_es
	pop	%es
	CHECK	nc, "INT 13h AH=02h after 03h: carry set"
	mov	$BACK_SEG, %ax
	mov	$SRC_LBA, %ebx
	mov	$1, %cx
	call	check_sectors
	CHECK	nc, "INT 13h AH=03h: the sector read back differs"
	PRINT	"int13 43h, 03h: writes read back ok\r\n"
	ret

/* INT 13h AH=CL on drive 80h: two sectors at LBA EBX, buffer AX:0. */
edd_two:
	movw	$2, dap2 + 2
	movw	$0, dap2 + 4
	mov	%ax, dap2 + 6
	movl	%ebx, dap2 + 8
	movl	$0, dap2 + 12
	mov	$dap2, %si
	mov	%cl, %ah
	xor	%al, %al
	mov	$DRIVE0, %dl
	int	$0x13
	ret

/* INT 13h AX=BX (AH=02h/03h, one sector) at LBA AX by CHS on drive 80h,
 * buffer SRC_SEG:0 (chs_one) or ES:0 (chs_one_es). */
chs_one:
	push	%es
	mov	$SRC_SEG, %cx
	mov	%cx, %es
	call	chs_one_es
	pop	%es
	ret
chs_one_es:
	push	%bx
	movzbw	spt, %cx
	xor	%dx, %dx
	div	%cx                /* ax = track, dx = sector - 1 */
	inc	%dx
	push	%dx
	movzbw	heads, %cx
	xor	%dx, %dx
	div	%cx                /* ax = cylinder, dx = head */
	mov	%dl, %dh
	pop	%cx                /* the sector: CL; CH is 0 */
	mov	%al, %ch
	shl	$6, %ah
	or	%ah, %cl
	pop	%ax
	xor	%bx, %bx
	mov	$DRIVE0, %dl
	int	$0x13
	ret

test_disk_errors:
	movw	$1, dap2 + 2
	movl	$BT_DISK_SECTORS, dap2 + 8
	mov	$dap2, %si
	mov	$0x4200, %ax
	mov	$DRIVE0, %dl
	int	$0x13
	CHECK	c, "INT 13h AH=42h past the disk: carry clear"
	test	%ah, %ah
	CHECK	nz, "INT 13h AH=42h past the disk: AH = 0"
	mov	$0x0201, %ax       /* sector 0 does not exist */
	xor	%cx, %cx
	xor	%dh, %dh
	mov	$DRIVE0, %dl
	int	$0x13
	CHECK	c, "INT 13h AH=02h sector 0: carry clear"
	cmp	$0x01, %ah
	CHECK	e, "INT 13h AH=02h sector 0: AH is not 01h"
	mov	$0x0100, %ax
	mov	$DRIVE0, %dl
	int	$0x13
	CHECK	c, "INT 13h AH=01h: the last error is not kept"
	cmpb	$2, ndisks
	je	1f
	mov	$0x0800, %ax
	mov	$DRIVE1, %dl
	int	$0x13
	CHECK	c, "INT 13h AH=08h on the absent slave: carry clear"
	jmp	2f
1:	call	test_slave
2:
	mov	$0x0800, %ax
	mov	$DRIVE_BAD, %dl
	int	$0x13
	CHECK	c, "INT 13h on drive 82h: carry clear"
	PRINT	"int13 errors: ok\r\n"
	ret

/* With a slave (the same disk again): AH=42h reads it. */
test_slave:
	movw	$1, dap2 + 2
	movw	$0, dap2 + 4
	movw	$BUF_SEG, dap2 + 6
	movl	$SLAVE_LBA, dap2 + 8
	mov	$dap2, %si
	mov	$0x4200, %ax
	mov	$DRIVE1, %dl
	int	$0x13
	CHECK	nc, "INT 13h AH=42h on the slave: carry set"
	mov	$BUF_SEG, %ax
	mov	$SLAVE_LBA, %ebx
	mov	$1, %cx
	call	check_sectors
	CHECK	nc, "INT 13h AH=42h on the slave: wrong data"
	PRINT	"int13 81h: slave read ok\r\n"
	ret

/* Sectors from LBA EBX, CX of them, at segment AX (offset 0) each hold
 * their pattern (biostest.h); CF otherwise. */
check_sectors:
	mov	%ax, %es
	cmpl	%ebx, %es:0
	jne	3f
	mov	$4, %di
2:	mov	%di, %ax
	add	%bl, %al
	cmp	%al, %es:(%di)
	jne	3f
	inc	%di
	cmp	$BT_SECTOR, %di
	jb	2b
	mov	%es, %ax
	add	$PARA_PER_SECTOR, %ax
	inc	%ebx
	loop	check_sectors
	xor	%ax, %ax
	mov	%ax, %es
	clc
	ret
3:	xor	%ax, %ax
	mov	%ax, %es
	stc
	ret

/* ---- INT 1Ah and INT 16h ---------------------------------------------------- */
test_ticks:
	xor	%ah, %ah
	int	$0x1A
	mov	%dx, %bx
	mov	$HLT_MAX, %si
	sti
1:	hlt
	xor	%ah, %ah
	int	$0x1A
	mov	%dx, %ax
	sub	%bx, %ax
	cmp	$TICKS_WANTED, %ax
	jae	2f
	dec	%si
	jnz	1b
	mov	$why_ticks, %si
	jmp	fail
2:	PRINT	"int1a: ticks advance\r\n"
	ret

test_key:
	mov	$0x0100, %ax
	int	$0x16
	CHECK	z, "INT 16h AH=01h: a key before any was typed"
	PRINT	"int16: type a key\r\n"
	xor	%ah, %ah
	int	$0x16
	push	%ax
	PRINT	"int16: got "
	pop	%ax
	call	hex16
	call	newline
	ret

/* ---- Output ------------------------------------------------------------------ */
puts:
	lodsb
	test	%al, %al
	jz	1f
	mov	$0x0E, %ah
	int	$0x10
	jmp	puts
1:	ret

newline:
	PRINT	"\r\n"
	ret

space16:
	push	%ax
	PRINT	" "
	pop	%ax
	/* fall through */
hex16:
	push	%cx
	mov	$4, %cx
	shl	$16, %eax
	jmp	hexn
hex32:
	push	%cx
	mov	$8, %cx
hexn:
	rol	$4, %eax
	push	%eax
	and	$0x0F, %al
	add	$'0', %al
	cmp	$'9', %al
	jbe	1f
	add	$'a' - '9' - 1, %al
1:	mov	$0x0E, %ah
	int	$0x10
	pop	%eax
	loop	hexn
	pop	%cx
	ret

why_ticks:
	.asciz	"INT 1Ah: the tick count does not advance (IRQ 0 or its EOI)"
	.balign	4
e820_buf:
	.fill	E820_ASK, 1, 0
dap2:	.byte	16, 0
	.fill	14, 1, 0
edp:	.fill	EDP_SIZE, 1, 0
pass2:	.long	0                  /* BT_PASS2_MAGIC from pass 1 on */
spt:	.byte	0
heads:	.byte	0
ndisks:	.byte	0
