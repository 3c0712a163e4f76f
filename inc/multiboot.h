/*
 * The boot information block the boot loader hands the kernel, laid out as
 * in the Multiboot 0.6.96 specification (only the fields JOS uses are
 * meaningful). The VMM builds the same block for its guests (MBMAP).
 */
#ifndef JOS_INC_MULTIBOOT_H
#define JOS_INC_MULTIBOOT_H

/* The value the loader leaves in %eax for the kernel. */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002

/* multiboot_info.flags: which fields are valid. */
#define MB_FLAG_MEM 0x001  /* mem_lower / mem_upper */
#define MB_FLAG_CMDLINE 0x004 /* cmdline */
#define MB_FLAG_MMAP 0x040 /* mmap_length / mmap_addr */

/* memory_map.type values (ACPI / e820 address range types). */
#define MB_TYPE_USABLE 1
#define MB_TYPE_RESERVED 2
#define MB_TYPE_ACPI_RECLM 3
#define MB_TYPE_ACPI_NVS 4
#define MB_TYPE_BAD 5

/* Where the real-mode boot sector stores the e820 map and the info block. */
#define BOOT_MBINFO_ADDR 0x6000
#define BOOT_MMAP_ADDR 0x6040
#define BOOT_MMAP_MAX 64 /* entries */
#define BOOT_CMDLINE_ADDR 0x6800 /* one sector */
#define BOOT_CMDLINE_MAX 512
/* Bytes one memory_map entry occupies, its size field included. */
#define MB_MMAP_ENTRY_SIZE 24

#ifndef __ASSEMBLER__
#include <inc/types.h>

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB below 1 MiB */
	uint32_t mem_upper; /* KiB above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length; /* bytes */
	uint32_t mmap_addr;   /* physical address of the first entry */
} __attribute__((packed));

/*
 * One memory-map entry. `size` counts the bytes after itself (20), so the
 * next entry starts at (char *)&size + size + 4.
 */
struct memory_map {
	uint32_t size;
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
} __attribute__((packed));
#endif

#endif /* !JOS_INC_MULTIBOOT_H */
