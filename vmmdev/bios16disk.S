/*
 * INT 13h for the guest's IDE disks, drives 80h (primary master) and 81h
 * (primary slave), by ATA PIO on the primary channel: included by
 * vmmdev/bios16.S, whose constants, frame and exits it uses (references
 * there: the BIOS interface, EDD 1.1, ATA/ATAPI-6).
 *
 * The geometry: GEOM_HEADS heads, GEOM_SPT sectors a track, and as many
 * cylinders (at most GEOM_MAX_CYLS) as the disk's IDENTIFY sector count
 * fills; AH=02h translates CHS to LBA with the same numbers.
 *
 * Invariants:
 * - The low-level routines (ata_*, disk_read, disk_sectors) return CF
 *   set and an INT 13h status code in AH on failure, CF clear on success;
 *   they never change DS, and disk_read/disk_sectors never change SI.
 * - A request is checked whole (drive, count, LBA28 range, CHS within
 *   the geometry) before any command reaches the disk.
 * - Every INT 13h result except AH=01h's and AH=15h's goes to the BDA's
 *   last-status byte.
 */

int13:
	ENTER
	mov	F_DL(%bp), %dl
	cmp	$DRIVE_FIRST, %dl
	jb	disk_bad
	cmp	$DRIVE_LAST, %dl
	ja	disk_bad
	xor	%al, %al
	cmp	$DRIVE_FIRST, %dl
	je	1f
	mov	$ATA_DEV_SLAVE, %al /* 81h: the slave */
1:	mov	%al, %cs:BH_DEV
	mov	F_AH(%bp), %ah
	cmp	$D_RESET, %ah
	je	disk_reset
	cmp	$D_STATUS, %ah
	je	disk_status
	movb	$ATA_CMD_READ, %cs:BH_CMD
	cmp	$D_READ, %ah
	je	disk_chs
	cmp	$D_EDD_READ, %ah
	je	edd_rw
	movb	$ATA_CMD_WRITE, %cs:BH_CMD
	cmp	$D_WRITE, %ah
	je	disk_chs
	cmp	$D_EDD_WRITE, %ah
	je	edd_rw
	cmp	$D_PARAMS, %ah
	je	disk_params
	cmp	$D_TYPE, %ah
	je	disk_type
	cmp	$D_EDD_CHECK, %ah
	je	edd_check
	cmp	$D_EDD_PARAMS, %ah
	je	edd_params
disk_bad:
	mov	$DS_BAD_PARAM, %ah
disk_fail:                         /* AH: the status */
	mov	%ah, F_AH(%bp)
	mov	%ah, %al
	call	set_status
	jmp	svc_fail
disk_ok:
	movb	$DS_OK, F_AH(%bp)
	xor	%al, %al
	call	set_status
	jmp	svc_ok

/* The BDA's last-status byte := AL. */
set_status:
	push	%ds
	push	$0
	pop	%ds
	mov	%al, BDA_DISK_STATUS
	pop	%ds
	ret

disk_reset:
	call	select_cur
	jc	disk_fail
	jmp	disk_ok

disk_status:
	push	$0
	pop	%ds
	mov	BDA_DISK_STATUS, %al
	mov	%al, F_AH(%bp)
	test	%al, %al
	jz	svc_ok
	jmp	svc_fail

/* AH=02h (read) / 03h (write): AL sectors at cylinder CH + CL[7:6] << 8,
 * head DH, sector CL[5:0] (from 1), buffer ES:BX; AL returns the sectors
 * transferred. */
disk_chs:
	movzbw	F_AL(%bp), %cx
	test	%cx, %cx
	jz	disk_bad
	movzbl	F_CL(%bp), %eax
	and	$GEOM_SECT_MASK, %al
	jz	disk_bad
	cmp	$GEOM_SPT, %al
	ja	disk_bad
	movzbl	F_DH(%bp), %ebx
	cmp	$GEOM_HEADS, %bl
	jae	disk_bad
	lea	-1(%eax), %esi     /* sector - 1 */
	movzbl	F_CL(%bp), %eax
	and	$GEOM_CYL_HI_MASK, %al
	shl	$GEOM_CYL_HI_SHIFT, %eax
	mov	F_CH(%bp), %al     /* eax = the cylinder */
	imul	$GEOM_HEADS, %eax, %eax
	add	%ebx, %eax
	imul	$GEOM_SPT, %eax, %eax
	add	%esi, %eax
	mov	F_EBX(%bp), %di
	call	disk_rw
	mov	%si, %bx
	mov	%bl, F_AL(%bp)
	jc	disk_fail
	jmp	disk_ok

/* AH=08h: the geometry, and the number of disks in DL. */
disk_params:
	call	disk_sectors
	jc	disk_fail
	call	geom_cyls
	dec	%ax                /* the last cylinder */
	mov	%al, F_CH(%bp)
	shr	$GEOM_CYL_HI_SHIFT, %ax
	and	$GEOM_CYL_HI_MASK, %al
	or	$GEOM_SPT, %al
	mov	%al, F_CL(%bp)
	movb	$GEOM_HEADS - 1, F_DH(%bp)
	call	count_disks
	mov	%al, F_DL(%bp)
	jmp	disk_ok

/* AH=15h: AH = 03h and CX:DX sectors, or AH = 00h: no such drive. */
disk_type:
	call	disk_sectors
	jc	1f
	movb	$DISK_TYPE_FIXED, F_AH(%bp)
	mov	%ax, F_EDX(%bp)
	shr	$WORD_BITS, %eax
	mov	%ax, F_ECX(%bp)
	jmp	svc_ok
1:	movb	$0, F_AH(%bp)
	jmp	svc_ok

/* AH=41h: EDD 1.1 with the fixed disk access subset (42h, 43h, 48h; not
 * 44h verify or 47h seek: those answer 01h). */
edd_check:
	cmpw	$EDD_CHECK_IN, F_EBX(%bp)
	jne	disk_bad
	call	select_cur
	jc	disk_fail
	movb	$EDD_VERSION_1_1, F_AH(%bp)
	movw	$EDD_CHECK_OUT, F_EBX(%bp)
	movw	$EDD_FIXED_DISK_ACCESS, F_ECX(%bp)
	jmp	svc_ok

/* AH=42h (read) / 43h (write; AL's verify flag is not needed: the disk
 * reports errors): the disk address packet at DS:SI; its count returns
 * the blocks transferred. */
edd_rw:
	mov	F_DS(%bp), %ds
	mov	F_ESI(%bp), %si
	cmpb	$DAP_SIZE_MIN, (%si)
	jb	disk_bad
	mov	DAP_COUNT(%si), %cx
	test	%cx, %cx
	jz	disk_bad
	cmp	$DAP_COUNT_MAX, %cx
	ja	disk_bad
	cmpl	$0, DAP_LBA + 4(%si)
	jne	disk_bad
	movl	DAP_LBA(%si), %eax
	les	DAP_BUF_OFF(%si), %di
	push	%si
	call	disk_rw
	mov	%si, %bx
	pop	%si
	mov	%bx, DAP_COUNT(%si)
	jc	disk_fail
	jmp	disk_ok

/* AH=48h: the 26-byte parameter table at DS:SI. */
edd_params:
	mov	F_DS(%bp), %ds
	mov	F_ESI(%bp), %si
	cmpw	$EDP_SIZE, (%si)
	jb	disk_bad
	call	disk_sectors
	jc	disk_fail
	movw	$EDP_SIZE, (%si)
	movw	$EDP_FLAGS_CHS_VALID, EDP_INFO(%si)
	movl	%eax, EDP_SECTORS(%si)
	movl	$0, EDP_SECTORS + 4(%si)
	call	geom_cyls
	movl	%eax, EDP_CYLS(%si)
	movl	$GEOM_HEADS, EDP_HEADS(%si)
	movl	$GEOM_SPT, EDP_SPT(%si)
	movw	$ATA_SECTOR_BYTES, EDP_BYTES(%si)
	jmp	disk_ok

/* EAX sectors -> EAX cylinders of the geometry, 1..GEOM_MAX_CYLS. */
geom_cyls:
	xor	%edx, %edx
	mov	$GEOM_HEADS * GEOM_SPT, %ecx
	div	%ecx
	cmp	$GEOM_MAX_CYLS, %eax
	jbe	1f
	mov	$GEOM_MAX_CYLS, %eax
1:	test	%eax, %eax
	jnz	2f
	inc	%eax
2:	ret

/* AL = the disks that answer a device select (master, slave). */
count_disks:
	push	%si
	xor	%si, %si
	movb	$0, %cs:BH_DEV
	call	select_cur
	jc	1f
	inc	%si
1:	movb	$ATA_DEV_SLAVE, %cs:BH_DEV
	call	select_cur
	jc	2f
	inc	%si
2:	mov	%si, %ax
	pop	%si
	ret

/* ---- ATA ------------------------------------------------------------------ */

/* Select the drive of BH_DEV (LBA bits 27:24 zero) and wait until ready. */
select_cur:
	mov	%cs:BH_DEV, %bl
	or	$ATA_DEV_LBA, %bl
	/* fall through */
/* Write BL to the device register; wait for BSY clear and DRDY set. */
ata_select:
	mov	$ATA_DEVSEL, %dx
	mov	%bl, %al
	out	%al, %dx
	call	ata_delay
	call	ata_wait
	jc	1f
	test	$ST_DRDY, %al
	jnz	1f                 /* CF clear */
	mov	$DS_NOT_READY, %ah
	stc
1:	ret

/* The 400 ns a device needs after a select or a command. */
ata_delay:
	mov	$ATA_ALTSTATUS, %dx
	mov	$ATA_SELECT_DELAY, %cx
1:	in	%dx, %al
	loop	1b
	ret

/* Wait for BSY clear: AL = the status. No device, or a bounded wait
 * that runs out, is an error. */
ata_wait:
	mov	$ATA_STATUS, %dx
	mov	$POLL_MAX, %ecx
1:	in	%dx, %al
	cmp	$ST_FLOAT, %al
	je	3f
	test	$ST_BSY, %al
	jz	2f                 /* CF clear */
	dec	%ecx
	jnz	1b
	mov	$DS_TIMEOUT, %ah
	stc
2:	ret
3:	mov	$DS_NOT_READY, %ah
	stc
	ret

/* Status AL after BSY cleared: data ready (DRQ), or the error. */
ata_check:
	call	ata_errors
	jc	1f
	test	$ST_DRQ, %al
	jnz	1f                 /* CF clear */
	mov	$DS_STATUS_ERR, %ah
	stc
1:	ret

/* Status AL after BSY cleared: CF and AH if it reports an error. */
ata_errors:
	test	$ST_ERR, %al
	jnz	3f
	test	$ST_DF, %al
	jnz	2f
	ret                        /* CF clear */
2:	mov	$DS_WRITE_FAULT, %ah
	stc
	ret
3:	mov	$ATA_ERROR, %dx
	in	%dx, %al
	mov	$DS_NOT_FOUND, %ah
	test	$ER_IDNF, %al
	jnz	4f
	mov	$DS_ECC, %ah
	test	$ER_UNC, %al
	jnz	4f
	mov	$DS_STATUS_ERR, %ah
4:	stc
	ret

/* ES:DI with DI < 16, the same address: a whole sector fits. */
normalize:
	mov	%di, %ax
	shr	$PARA_SHIFT, %ax
	mov	%es, %dx
	add	%ax, %dx
	mov	%dx, %es
	and	$PARA_MASK, %di
	ret

/* Transfer CX (1..255) sectors at LBA EAX of the drive BH_DEV from (READ
 * SECTORS) or to (WRITE SECTORS) ES:DI, by BH_CMD; SI = the sectors
 * transferred. */
disk_rw:
	xor	%si, %si
	movzwl	%cx, %ebx
	addl	%eax, %ebx
	jc	2f
	cmpl	$ATA_LBA28_END, %ebx
	ja	2f
	pushl	%eax
	push	%cx
	mov	%eax, %ebx
	shr	$ATA_LBA_TOP_SHIFT, %ebx
	or	$ATA_DEV_LBA, %bl
	or	%cs:BH_DEV, %bl
	call	ata_select
	pop	%cx
	popl	%ebx               /* the LBA */
	jc	3f
	mov	$ATA_COUNT, %dx
	mov	%cl, %al
	out	%al, %dx
	mov	%ebx, %eax
	mov	$ATA_LBA0, %dx
	out	%al, %dx
	shr	$BYTE_BITS, %eax
	mov	$ATA_LBA1, %dx
	out	%al, %dx
	shr	$BYTE_BITS, %eax
	mov	$ATA_LBA2, %dx
	out	%al, %dx
	mov	$ATA_STATUS, %dx
	mov	%cs:BH_CMD, %al
	out	%al, %dx
	mov	%cx, %bx           /* sectors still to come */
1:	call	normalize
	call	ata_delay
	call	ata_wait
	jc	3f
	call	ata_check
	jc	3f
	call	sector_move
	inc	%si
	dec	%bx
	jnz	1b
	call	ata_delay          /* the device's completion (writes: */
	call	ata_wait           /* the last sector is on the disk) */
	jc	3f
	call	ata_errors
	ret
2:	mov	$DS_BAD_PARAM, %ah
	stc
3:	ret

/* One sector between the data port and ES:DI (DI advances), by BH_CMD.
 * The count and the offset are set as 32-bit registers: 16-bit code's
 * REP counts with CX and addresses with DI, but a VMM that emulates the
 * string I/O and takes the address size for 32 bits would use ECX and
 * EDI (seen: a VMM on QEMU's AMD-V read ECX = 0x000F0100 words into low
 * memory); with their upper halves zero, both readings agree. */
sector_move:
	mov	$ATA_DATA, %dx
	mov	$ATA_SECTOR_WORDS, %ecx
	movzwl	%di, %edi
	cmpb	$ATA_CMD_WRITE, %cs:BH_CMD
	je	1f
	rep insw
	ret
1:	push	%ds
	push	%si
	push	%es
	pop	%ds
	movzwl	%di, %esi
	rep outsw                  /* from DS:SI = the caller's ES:DI */
	mov	%si, %di
	pop	%si
	pop	%ds
	ret

/* EAX = the LBA28 sectors the drive BH_DEV reports in IDENTIFY DEVICE. */
disk_sectors:
	push	%si
	call	select_cur
	jc	9f
	mov	$ATA_STATUS, %dx
	mov	$ATA_CMD_IDENTIFY, %al
	out	%al, %dx
	call	ata_delay
	call	ata_wait
	jc	9f
	call	ata_check
	jc	9f
	mov	$ATA_DATA, %dx
	xor	%cx, %cx
1:	in	%dx, %ax
	cmp	$IDENT_LBA28_LO, %cx
	jne	2f
	mov	%ax, %si
2:	cmp	$IDENT_LBA28_HI, %cx
	jne	3f
	mov	%ax, %bx
3:	inc	%cx
	cmp	$IDENT_WORDS, %cx
	jb	1b
	movzwl	%bx, %eax
	shl	$WORD_BITS, %eax
	mov	%si, %ax           /* CF clear (shl of a value < 2^16) */
	clc
9:	pop	%si
	ret
