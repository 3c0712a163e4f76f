/*
 * The primary ATA channel's registers, as the multiboot test kernel's
 * IDE tests and attacks drive them (ATA/ATAPI-4, T13 1153D: 7.2 the
 * command block and control block registers; 8 the commands; 8.12 the
 * IDENTIFY DEVICE words).
 *
 * Invariants:
 * - Names only: no code here.
 */
#ifndef MBTEST_ATA_H
#define MBTEST_ATA_H

#define IDE_DATA 0x1F0
#define IDE_ERROR 0x1F1
#define IDE_COUNT 0x1F2
#define IDE_LBA0 0x1F3
#define IDE_LBA1 0x1F4
#define IDE_LBA2 0x1F5
#define IDE_DH 0x1F6
#define IDE_STATUS 0x1F7       /* on reads ... */
#define IDE_CMD IDE_STATUS     /* ... the command on writes */
#define IDE_DEVCTL 0x3F6       /* device control; alternate status on reads */

#define DC_NIEN 0x02
#define DC_SRST 0x04
#define DH_LBA 0xE0            /* LBA mode, master */
#define DH_SLAVE 0x10

#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DRQ 0x08
#define ST_ERR 0x01
#define ER_IDNF 0x10
#define ER_ABRT 0x04

#define CMD_READ 0x20
#define CMD_WRITE 0x30
#define CMD_READ_MULTIPLE 0xC4
#define CMD_SET_MULTIPLE 0xC6
#define CMD_READ_DMA 0xC8
#define CMD_WRITE_DMA 0xCA
#define CMD_READ_DMA_EXT 0x25
#define CMD_WRITE_DMA_EXT 0x35
#define CMD_IDENTIFY 0xEC

#define SECTOR_WORDS 256

#endif /* !MBTEST_ATA_H */
