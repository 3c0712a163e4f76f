/*
 * x86-64 memory-management definitions: 4-level paging, control registers,
 * segment and gate descriptors, the 64-bit TSS.
 *
 * A canonical virtual address splits into five fields:
 *
 *  63    48 47    39 38    30 29    21 20    12 11         0
 * +--------+--------+--------+--------+--------+------------+
 * | sign   | PML4   | PDPT   | PD     | PT     | offset     |
 * | extend | index  | index  | index  | index  | in page    |
 * +--------+--------+--------+--------+--------+------------+
 *          \PML4X(la)/\PDPX(la)/\PDX(la)/\PTX(la)/\PGOFF(la)/
 */
#ifndef JOS_INC_MMU_H
#define JOS_INC_MMU_H

#ifndef __ASSEMBLER__
#include <inc/types.h>
#endif

/* Number of entries in each level of the page-table tree. */
#define NPTENTRIES 512
#define PTXSHIFT 12   /* offset of PTX in a linear address */
#define PDXSHIFT 21   /* offset of PDX in a linear address */
#define PDPXSHIFT 30  /* offset of PDPX in a linear address */
#define PML4XSHIFT 39 /* offset of PML4X in a linear address */
#define PTX_MASK 0x1FF

/* The index of level `lvl` (0 = PT, 3 = PML4) of address la. */
#define PGX(la, lvl) ((((uintptr_t)(la)) >> (PTXSHIFT + 9 * (lvl))) & PTX_MASK)
#define PTX(la) PGX(la, 0)
#define PDX(la) PGX(la, 1)
#define PDPX(la) PGX(la, 2)
#define PML4X(la) PGX(la, 3)

#define PGSIZE 4096 /* bytes mapped by a page */
#define PGSHIFT 12
#define PGNUM(la) (((uintptr_t)(la)) >> PGSHIFT)
#define PGOFF(la) (((uintptr_t)(la)) & 0xFFF)

#define PTSIZE (PGSIZE * NPTENTRIES)        /* 2 MiB: bytes one PT maps */
#define PTSHIFT 21
#define PDPSIZE (PTSIZE * (uintptr_t)NPTENTRIES) /* 1 GiB: one PD */
#define PML4SIZE (PDPSIZE * (uintptr_t)NPTENTRIES) /* 512 GiB: one PDPT */

/* Page-table entry flags (SDM Vol. 3A 4.5, Tables 4-14 .. 4-20). */
#define PTE_P 0x001   /* Present */
#define PTE_W 0x002   /* Writeable */
#define PTE_U 0x004   /* User */
#define PTE_PWT 0x008 /* Write-Through */
#define PTE_PCD 0x010 /* Cache-Disable */
#define PTE_A 0x020   /* Accessed */
#define PTE_D 0x040   /* Dirty */
#define PTE_PS 0x080  /* Page Size (2 MiB in a PDE, 1 GiB in a PDPTE) */
#define PTE_G 0x100   /* Global */
#define PTE_NX (1UL << 63) /* No-execute (needs EFER.NXE) */

/* Bits 9..11 are ignored by the MMU and left to software. */
#define PTE_AVAIL 0xE00
/* Flags user code may pass to sys_page_alloc and friends. */
#define PTE_SYSCALL (PTE_AVAIL | PTE_P | PTE_W | PTE_U)

/* Physical address held in a table entry (bits 12..51). */
#define PTE_ADDR(pte) ((physaddr_t)(pte) & 0x000FFFFFFFFFF000UL)
#define PTE_FLAGS(pte) ((uint64_t)(pte) & 0xFFF)

/* Control register flags (SDM Vol. 3A 2.5). */
#define CR0_PE 0x00000001 /* Protection Enable */
#define CR0_MP 0x00000002 /* Monitor coProcessor */
#define CR0_EM 0x00000004 /* Emulation */
#define CR0_TS 0x00000008 /* Task Switched */
#define CR0_ET 0x00000010 /* Extension Type */
#define CR0_NE 0x00000020 /* Numeric Error */
#define CR0_WP 0x00010000 /* Write Protect */
#define CR0_AM 0x00040000 /* Alignment Mask */
#define CR0_NW 0x20000000 /* Not Writethrough */
#define CR0_CD 0x40000000 /* Cache Disable */
#define CR0_PG 0x80000000 /* Paging */

#define CR4_VME 0x00000001
#define CR4_PVI 0x00000002
#define CR4_TSD 0x00000004
#define CR4_DE 0x00000008
#define CR4_PSE 0x00000010
#define CR4_PAE 0x00000020
#define CR4_MCE 0x00000040
#define CR4_PGE 0x00000080
#define CR4_PCE 0x00000100
#define CR4_OSFXSR 0x00000200
#define CR4_OSXMMEXCPT 0x00000400
#define CR4_VMXE 0x00002000
#define CR4_OSXSAVE 0x00040000

/* Extended Feature Enable Register (SDM Vol. 3A 2.2.1). */
#define MSR_EFER 0xC0000080
#define EFER_SCE 0x00000001 /* syscall enable */
#define EFER_LME 0x00000100 /* long mode enable */
#define EFER_LMA 0x00000400 /* long mode active */
#define EFER_NXE 0x00000800 /* no-execute enable */
#define EFER_SVME 0x00001000 /* AMD SVM enable */

/* RFLAGS register */
#define FL_CF 0x00000001
#define FL_PF 0x00000004
#define FL_AF 0x00000010
#define FL_ZF 0x00000040
#define FL_SF 0x00000080
#define FL_TF 0x00000100 /* Trap Flag */
#define FL_IF 0x00000200 /* Interrupt Flag */
#define FL_DF 0x00000400
#define FL_OF 0x00000800
#define FL_IOPL_MASK 0x00003000
#define FL_IOPL_0 0x00000000
#define FL_IOPL_1 0x00001000
#define FL_IOPL_2 0x00002000
#define FL_IOPL_3 0x00003000
#define FL_NT 0x00004000
#define FL_RF 0x00010000
#define FL_VM 0x00020000
#define FL_AC 0x00040000
#define FL_VIF 0x00080000
#define FL_VIP 0x00100000
#define FL_ID 0x00200000

/* Page fault error codes (SDM Vol. 3A 4.7) */
#define FEC_PR 0x1 /* Page fault caused by protection violation */
#define FEC_WR 0x2 /* Page fault caused by a write */
#define FEC_U 0x4  /* Page fault occured while in user mode */

/* Segment descriptor types (SDM Vol. 3A 3.4.5.1, 3.5) */
#define STA_X 0x8 /* Executable segment */
#define STA_E 0x4 /* Expand down (non-executable segments) */
#define STA_C 0x4 /* Conforming code segment (executable only) */
#define STA_W 0x2 /* Writeable (non-executable segments) */
#define STA_R 0x2 /* Readable (executable segments) */
#define STA_A 0x1 /* Accessed */

#define STS_T64A 0x9 /* Available 64-bit TSS */
#define STS_T64B 0xB /* Busy 64-bit TSS */
#define STS_IG64 0xE /* 64-bit Interrupt Gate */
#define STS_TG64 0xF /* 64-bit Trap Gate */

#ifdef __ASSEMBLER__

/* A flat 64-bit code segment: L=1, D=0, P=1, DPL=0, type=X|R. */
#define SEG_CODE64 .word 0, 0; .byte 0, 0x9A, 0x20, 0
/* A flat data segment (the base and limit are ignored in 64-bit mode). */
#define SEG_DATA64 .word 0xFFFF, 0; .byte 0, 0x92, 0xCF, 0
/* A 32-bit flat segment for the boot loader. */
#define SEG_NULL .word 0, 0; .byte 0, 0, 0, 0
#define SEG32(type, base, lim)                                                \
	.word(((lim) >> 12) & 0xffff), ((base)&0xffff);                       \
	.byte(((base) >> 16) & 0xff), (0x90 | (type)),                        \
		(0xC0 | (((lim) >> 28) & 0xf)), (((base) >> 24) & 0xff)

#else /* not __ASSEMBLER__ */

/* An 8-byte segment descriptor (SDM Vol. 3A 3.4.5). */
struct Segdesc {
	unsigned sd_lim_15_0 : 16;  /* Low bits of segment limit */
	unsigned sd_base_15_0 : 16; /* Low bits of segment base address */
	unsigned sd_base_23_16 : 8; /* Middle bits of segment base address */
	unsigned sd_type : 4;       /* Segment type (see STS_ constants) */
	unsigned sd_s : 1;          /* 0 = system, 1 = application */
	unsigned sd_dpl : 2;        /* Descriptor Privilege Level */
	unsigned sd_p : 1;          /* Present */
	unsigned sd_lim_19_16 : 4;  /* High bits of segment limit */
	unsigned sd_avl : 1;        /* Unused (available for software use) */
	unsigned sd_l : 1;          /* 64-bit code segment */
	unsigned sd_db : 1;         /* 0 = 16-bit segment, 1 = 32-bit segment */
	unsigned sd_g : 1;          /* Granularity: limit scaled by 4K when set */
	unsigned sd_base_31_24 : 8; /* High bits of segment base address */
};

/* A 16-byte system descriptor for the TSS in long mode (SDM 3A 7.2.3). */
struct SystemSegdesc64 {
	struct Segdesc sd_lo;
	uint32_t sd_base_63_32;
	uint32_t sd_reserved;
};

/* Flat code/data descriptors; base and limit are ignored in 64-bit mode. */
#define SEG64_CODE(dpl)                                                       \
	(struct Segdesc)                                                      \
	{                                                                     \
		0xffff, 0, 0, STA_X | STA_R, 1, dpl, 1, 0xf, 0, 1, 0, 1, 0    \
	}
#define SEG64_DATA(dpl)                                                       \
	(struct Segdesc)                                                      \
	{                                                                     \
		0xffff, 0, 0, STA_W, 1, dpl, 1, 0xf, 0, 0, 1, 1, 0            \
	}

/* The 64-bit task state segment (SDM Vol. 3A 7.7). */
struct Taskstate {
	uint32_t ts_reserved0;
	uint64_t ts_rsp0; /* Stack pointer loaded on a trap to ring 0 */
	uint64_t ts_rsp1;
	uint64_t ts_rsp2;
	uint64_t ts_reserved1;
	uint64_t ts_ist[7]; /* Interrupt stack table */
	uint64_t ts_reserved2;
	uint16_t ts_reserved3;
	uint16_t ts_iomb; /* I/O map base address */
} __attribute__((packed));

/* A 16-byte interrupt or trap gate (SDM Vol. 3A 6.14.1). */
struct Gatedesc {
	unsigned gd_off_15_0 : 16;
	unsigned gd_sel : 16;
	unsigned gd_ist : 3;
	unsigned gd_rsv1 : 5;
	unsigned gd_type : 4;
	unsigned gd_s : 1;
	unsigned gd_dpl : 2;
	unsigned gd_p : 1;
	unsigned gd_off_31_16 : 16;
	uint32_t gd_off_63_32;
	uint32_t gd_rsv2;
};

/*
 * Set up a gate descriptor. istrap: 1 for a trap gate (interrupts stay
 * enabled), 0 for an interrupt gate (IF cleared on entry).
 */
#define SETGATE(gate, istrap, sel, off, dpl)                                  \
	{                                                                     \
		(gate).gd_off_15_0 = (uint64_t)(off)&0xffff;                  \
		(gate).gd_sel = (sel);                                        \
		(gate).gd_ist = 0;                                            \
		(gate).gd_rsv1 = 0;                                           \
		(gate).gd_type = (istrap) ? STS_TG64 : STS_IG64;              \
		(gate).gd_s = 0;                                              \
		(gate).gd_dpl = (dpl);                                        \
		(gate).gd_p = 1;                                              \
		(gate).gd_off_31_16 = ((uint64_t)(off) >> 16) & 0xffff;       \
		(gate).gd_off_63_32 = (uint64_t)(off) >> 32;                  \
		(gate).gd_rsv2 = 0;                                           \
	}

/* Operand of lgdt and lidt. */
struct Pseudodesc {
	uint16_t pd_lim;
	uint64_t pd_base;
} __attribute__((packed));

#endif /* !__ASSEMBLER__ */

#endif /* !JOS_INC_MMU_H */
